"""Edge broadcast mode, stripe trees (issue 12, docs/edge-broadcast.md): wire round trips and fuzz
of the edge messages, serving limits, the interior cap (declines, re-offers, forced offers), and
real EdgePeers on the in-memory network (per-link delays, random loss, per-node uplink limits):
500 nodes get every 1 MB block at 12% loss within their upload budget, contents a few symbols
long reach 5 and 20 nodes without a refusal storm, dead delegates are replaced, 25% loss is
healed by pull repair, liars are blocklisted, and small messages interoperate with as-specified
peers."""
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dusk_edge.core.errors import DecodeError, LocalProtocolError, RemoteProtocolError
from dusk_edge.core.kadcast import edge_messages as em
from dusk_edge.core.kadcast import messages as m
from dusk_edge.core.kadcast import rs
from dusk_edge.core.kadcast.config import KadcastConfig
from dusk_edge.core.kadcast.edge import DGRAM_LEN, EdgeConfig, EdgePeer, edge_kadcast_config
from dusk_edge.core.kadcast.edge_stripes import Offer, sent_set_bytes
from dusk_edge.core.kadcast.ids import compute_id, find_nonce
from dusk_edge.core.kadcast.rs import ray_id_of
from dusk_edge.sim.broadcast_swarm import Swarm

IP = bytes((10, 9, 0, 1))
NODE_ID = compute_id(IP, 9000)
HEADER = m.Header(NODE_ID, find_nonce(NODE_ID, 8), 9000, 0x45)
MB = 1 << 20


def budget_of(size, config=None):
    """SYMBOL bytes one node may upload per content: budget_copies full sent sets."""
    config = config or EdgeConfig()
    return config.budget_copies * sent_set_bytes(size, config.repair_percent, DGRAM_LEN)


def samples():
    frame = bytes(range(256)) * 40
    cid = ray_id_of(frame)
    enc = rs.RsEncoder(frame)
    return [
        em.EdgeMessage(em.ANNOUNCE, HEADER, cid, len(frame), 16, em.ROLE_TREE,
                       [(0, 7), (5, 128), (15, 0)], frame[:100]),
        em.EdgeMessage(em.REQUEST, HEADER, cid, len(frame), want=0b101, ack=0xFFFF,
                       repairs=[(0, 3, em.bitmap_of([0, 3, 200]))]),
        em.EdgeMessage(em.REQUEST, HEADER, cid, len(frame), ack=1),
        em.EdgeMessage(em.REQUEST, HEADER, cid, len(frame), want=0b110, ack=0b110, decline=0b100),
        em.EdgeMessage(em.ANNOUNCE, HEADER, cid, len(frame), 16, em.ROLE_FORCED, [(3, 9)], b""),
        em.EdgeMessage(em.SYMBOL, HEADER, cid, chunk=rs.push_chunk(cid, enc, 0, 131)),
        em.EdgeMessage(em.REFUSE, HEADER, cid, reason=em.REFUSE_BUSY),
    ]


N_SAMPLES = len(samples())


def fields(msg):
    return (msg.kind, msg.header.id, msg.header.port, msg.content_id, msg.size, msg.stripes,
            msg.role, list(msg.offers), bytes(msg.summary), msg.want, msg.ack, msg.decline,
            list(msg.repairs), msg.chunk, msg.reason)


def parse_or_decode_error(data):
    try:
        em.decode_edge_message(data)
    except RemoteProtocolError:
        pass


@pytest.mark.parametrize("msg", samples(), ids=lambda msg: str(msg.kind))
def test_round_trip_truncation_and_trailing_junk(msg):
    data = em.encode_edge_message(msg)
    assert fields(em.decode_edge_message(data)) == fields(msg)
    for cut in range(len(data)):  # every prefix: DecodeError, never another exception
        with pytest.raises(RemoteProtocolError):
            em.decode_edge_message(data[:cut])
    with pytest.raises(DecodeError):
        em.decode_edge_message(data + b"\x00")


def test_caps_are_enforced():
    ann = em.encode_edge_message(samples()[0])
    body = 1 + 25 + 32  # type, header, content id
    for pos, value in ((body + 4, 0), (body + 4, 33), (body + 5, 4), (body + 6, 0), (body + 6, 17),
                       (body + 7 + 2, 0), (body + 7 + 1, 129)):
        bad = bytearray(ann)
        bad[pos] = value  # stripes 0/33, role 4, 0 or 17 offers, repeated stripe, height 129
        with pytest.raises(DecodeError):
            em.decode_edge_message(bytes(bad))
    too_big = bytearray(ann)
    too_big[body:body + 4] = (em.MAX_CONTENT_SIZE + 1).to_bytes(4, "little")
    with pytest.raises(DecodeError):
        em.decode_edge_message(bytes(too_big))
    req = em.encode_edge_message(samples()[1])
    for pos, value in ((body + 4 + 12 + 1, 9), (body + 4 + 12 + 2, 0), (body + 4 + 12, 33),
                       (body + 4 + 8 + 2, 1)):
        bad = bytearray(req)
        bad[pos] = value  # block beyond the 1 block of a 10 KB body, need 0, 33 blocks, a decline
        with pytest.raises(DecodeError):  # of stripe 16, which the request does not acknowledge
            em.decode_edge_message(bytes(bad))
    with pytest.raises(LocalProtocolError):
        em.encode_edge_message(em.EdgeMessage(em.REQUEST, HEADER, bytes(32), 100, ack=1, decline=2))
        with pytest.raises(DecodeError):
            em.decode_edge_message(bytes(bad))
    empty = em.EdgeMessage(em.REQUEST, HEADER, bytes(32), 100)
    with pytest.raises(DecodeError):
        em.decode_edge_message(em.encode_edge_message(empty))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400), st.integers(0, N_SAMPLES - 1))
def test_fuzz_random_bytes_parse_or_raise(junk, which):
    base = em.encode_edge_message(samples()[which])
    for data in (junk, base[:26] + junk, base[:58] + junk, bytes((base[0],)) + junk):
        parse_or_decode_error(data)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, N_SAMPLES - 1), st.integers(0, 2000), st.integers(0, 255))
def test_fuzz_flipped_bytes_parse_or_raise(which, pos, value):
    data = bytearray(em.encode_edge_message(samples()[which]))
    data[pos % len(data)] = value
    parse_or_decode_error(bytes(data))


def make_peer(i, **edge):
    return EdgePeer(bytes((10, 9, 1, i)), 9000, None, random.Random(i), KadcastConfig(pow_bits=8),
                    edge=EdgeConfig(**edge))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=1500), st.integers(0, N_SAMPLES - 1))
def test_fuzz_the_peer_never_raises(junk, which):
    """receive_datagram (with its SYMBOL fast path) drops bad input; it never raises."""
    peer = make_peer(1)
    frame = bytes(range(256)) * 40
    peer.adopt(ray_id_of(frame), frame, 0)
    base = em.encode_edge_message(samples()[which])
    for data in (junk, base[:26] + junk, base[:len(base) // 2], base + junk, base):
        peer.receive_datagram(data, (IP, 9000), 1)


def test_version_flag_interoperates_with_plain_versions():
    edge = edge_kadcast_config(KadcastConfig())
    plain = KadcastConfig()
    assert edge.version[2] & em.EDGE_VERSION_FLAG
    assert edge.version_matches(plain.version)
    assert plain.version_matches(edge.version)


# ---- limits and tree bookkeeping on single peers -------------------------------------------
def request(peer, asker, cid, size, want=0, ack=0, repairs=(), now=0, decline=0):
    msg = em.EdgeMessage(em.REQUEST, asker._header(), cid, size, want=want, ack=ack,
                         repairs=repairs, decline=decline)
    peer.receive_datagram(em.encode_edge_message(msg), asker.addr, now)


def drain(peer, now=10 ** 9):
    """Everything the peer sends, paced symbols included (released by advancing the clock)."""
    out = []
    while True:
        batch = peer.datagrams_to_send(now)
        if not batch:
            return out
        out.extend(batch)


def test_server_caps_one_peer_the_budget_and_the_request_rate():
    peer = make_peer(1, budget_copies=2, peer_copies=1.0, request_burst=20, request_rate_per_s=1)
    frame = random.Random(2).randbytes(100000)
    cid = ray_id_of(frame)
    c = peer.adopt(cid, frame, 0)
    everything = [(b, 255, bytes(32)) for b in range(c.num_blocks)]
    asker = make_peer(2)
    for _ in range(5):  # all stripes and 255 repair symbols per block, five times over
        request(peer, asker, cid, len(frame), want=0xFFFF, repairs=everything)
    to_asker = sum(len(d) for d, a in drain(peer) if a == asker.addr and d[0] == em.SYMBOL)
    one_set = sent_set_bytes(len(frame), 30, DGRAM_LEN)  # peer_copies 1.0
    assert 0 < to_asker <= c.peer_cap == one_set
    for i in range(3, 9):
        request(peer, make_peer(i), cid, len(frame), want=0xFFFF, repairs=everything)
    out = drain(peer)
    assert 0 < c.uploaded <= c.budget == 2 * one_set
    assert peer.stats["edge_symbol_bytes_sent"] <= c.budget
    refusals = [em.decode_edge_message(d) for d, _ in out if d[0] == em.REFUSE]
    assert refusals and refusals[-1].reason == em.REFUSE_BUSY
    for _ in range(30):  # 20 tokens, refilled at 1 per second
        request(peer, asker, cid, len(frame), ack=1)
    assert peer.stats["edge_requests_limited"] >= 10


def test_a_short_content_can_be_served_budget_copies_times_and_its_empty_stripes_are_quiet():
    """A 400-byte content is one symbol sent as ESIs 0..2 (stripes 0..2 of 16): the budget counts
    whole sent sets of datagrams, so it is served to budget_copies children in full; the empty
    stripes 3..15 are never offered nor served."""
    peer = make_peer(1, large_threshold=300, relay=False)
    frame = random.Random(3).randbytes(400)
    cid = ray_id_of(frame)
    c = peer.adopt(cid, frame, 0)
    assert (c.sent_n, c.live) == ([3], 3)
    assert c.budget == 3 * 3 * DGRAM_LEN and c.peer_cap == int(1.5 * 3 * DGRAM_LEN)
    for i in range(2, 2 + EdgeConfig().budget_copies):
        request(peer, make_peer(i), cid, len(frame), want=0xFFFF, ack=0xFFFF)
    out = drain(peer)
    assert sum(1 for d, _ in out if d[0] == em.SYMBOL) == 3 * EdgeConfig().budget_copies
    assert not [d for d, _ in out if d[0] == em.REFUSE]
    late = make_peer(9)
    request(peer, late, cid, len(frame), want=0b111)  # over the budget now: refused
    (refusal,) = [em.decode_edge_message(d) for d, a in drain(peer) if a == late.addr]
    assert refusal.kind == em.REFUSE and refusal.reason == em.REFUSE_BUSY
    x = make_peer(20, large_threshold=300)
    announce(peer, x, cid, len(frame), [(s, 5) for s in range(16)])
    (answer,) = requests_to(x, peer.addr)
    assert (answer.want, answer.ack) == (0b111, 0xFFFF)  # acks everything, wants live stripes


def announce(sender, receiver, cid, size, offers, role=em.ROLE_TREE, now=0):
    msg = em.EdgeMessage(em.ANNOUNCE, sender._header(), cid, size, 16, role, offers, b"")
    receiver.receive_datagram(em.encode_edge_message(msg), sender.addr, now)


def requests_to(peer, addr):
    return [em.decode_edge_message(d) for d, a in peer.datagrams_to_send(0)
            if a == addr and d[0] == em.REQUEST]


def test_duplicate_offers_ack_always_want_from_the_first_offerer_only():
    x, p1, p2 = make_peer(1), make_peer(2), make_peer(3)
    cid, size = bytes(range(32)), MB
    announce(p1, x, cid, size, [(0, 5), (3, 5)])
    (first,) = requests_to(x, p1.addr)
    assert (first.want, first.ack) == (0b1001, 0b1001)
    announce(p1, x, cid, size, [(0, 5), (3, 5)])  # a retransmission (our request was lost)
    (again,) = requests_to(x, p1.addr)
    assert (again.want, again.ack) == (0b1001, 0b1001)
    announce(p2, x, cid, size, [(3, 9), (4, 2)])  # stripe 3 already has a parent
    (second,) = requests_to(x, p2.addr)
    assert (second.want, second.ack) == (0b10000, 0b11000)
    c = x.contents[(cid, size)]
    assert c.parents[3] == p1.addr and c.parents[4] == p2.addr and c.heights[3] == 9
    assert set(c.holders) == {p1.addr, p2.addr}


def neighbourhood(peer, others):
    """Fill ``peer``'s routing table with ``others``, all edge peers."""
    for o in others:
        peer.table.insert_or_refresh(o.id, o.ip, o.port, 0)
    peer.edge_peers.update(o.addr for o in others)


def popcount(mask):
    return bin(mask).count("1")


def test_a_node_over_its_interior_cap_declines_tree_heights_but_stays_a_leaf():
    x = make_peer(1)
    others = [make_peer(i) for i in range(2, 60)]
    neighbourhood(x, others)
    p = others[0]
    cid, size = bytes(range(32)), MB
    announce(p, x, cid, size, [(s, 128) for s in range(16)])
    out = [(em.decode_edge_message(d), a) for d, a in x.datagrams_to_send(0)]
    (answer,) = [msg for msg, a in out if a == p.addr and msg.kind == em.REQUEST]
    c = x.contents[(cid, size)]
    cap = int(EdgeConfig().interior_cap * size)
    taken = 16 - popcount(answer.decline)
    assert answer.want == answer.ack == 0xFFFF  # a leaf of every stripe
    assert 0 < taken < 16 and c.load <= cap < c.load + c.stripe_bytes[15] * len(x.table.buckets)
    assert [s for s in range(16) if c.heights[s] == 128] == list(range(taken))
    offered = set()
    for msg, _ in out:
        if msg.kind == em.ANNOUNCE:
            offered.update(s for s, _ in msg.offers)
    assert offered == set(range(taken))  # declined stripes are forwarded to nobody
    announce(others[1], x, cid, size, [(15, 128)], role=em.ROLE_ROOT)  # ROOT: never declined
    assert requests_to(x, others[1].addr)[0].decline == 0 and c.heights[15] == 128
    announce(others[2], x, cid, size, [(14, 60)], role=em.ROLE_FORCED)  # nor FORCED, over the cap
    assert requests_to(x, others[2].addr)[0].decline == 0 and c.heights[14] == 60
    off = make_peer(1, interior_cap=0)  # cap off: every height taken
    neighbourhood(off, others)
    announce(p, off, cid, size, [(s, 128) for s in range(16)])
    assert requests_to(off, p.addr)[0].decline == 0


def test_the_originator_declines_even_forced_tree_roles():
    origin = make_peer(1, relay=False)
    others = [make_peer(i) for i in range(2, 30)]
    neighbourhood(origin, others)
    frame = random.Random(4).randbytes(50000)
    cid = origin.broadcast(frame, None, 0)
    c = origin.contents[(cid, len(frame))]
    assert c.load == int(EdgeConfig().interior_cap * len(frame))
    origin.datagrams_to_send(0)
    for role in (em.ROLE_TREE, em.ROLE_FORCED):
        announce(others[0], origin, cid, len(frame), [(2, 128)], role=role)
        (answer,) = requests_to(origin, others[0].addr)
        assert (answer.want, answer.decline) == (0, 0b100)


def test_a_declined_offer_goes_to_another_bucket_member_and_is_forced_after_three():
    parent = make_peer(1, relay=False)
    others = [make_peer(i) for i in range(2, 70)]
    by_addr = dict((o.addr, o) for o in others)
    neighbourhood(parent, others)
    frame = random.Random(5).randbytes(200000)
    cid = parent.broadcast(frame, 127, 0)  # covers every bucket of every stripe: TREE offers
    c = parent.contents[(cid, len(frame))]
    i = max(parent.table.buckets, key=lambda b: len(parent.table.buckets[b].nodes))
    members = set(n.addr for n in parent.table.buckets[i].nodes)
    assert len(members) >= 5

    def offer_of(s):
        (key,) = [k for k, o in c.offers.items() if o.pairs.get(s) == i]
        return key

    decliners = []
    for round_ in range(4):
        addr, role = offer_of(3)
        assert addr in members and addr not in decliners
        assert role == (em.ROLE_FORCED if round_ >= 3 else em.ROLE_TREE)
        if round_ == 3:
            break
        request(parent, by_addr[addr], cid, len(frame), want=1 << 3, ack=1 << 3, decline=1 << 3)
        decliners.append(addr)
        assert 3 not in c.offers.get((addr, role), Offer(addr, role, 0)).pairs
    assert c.declines[(3, i)] == 3
    request(parent, by_addr[addr], cid, len(frame), want=1 << 3, ack=1 << 3)  # accepted
    assert [k for k, o in c.offers.items() if o.pairs.get(3) == i] == []
    assert len(c.subs[3]) == 4  # the three decliners stay leaves of the stripe


def test_root_offers_cannot_be_declined():
    origin = make_peer(1, relay=False)
    others = [make_peer(i) for i in range(2, 30)]
    neighbourhood(origin, others)
    frame = random.Random(6).randbytes(50000)
    cid = origin.broadcast(frame, None, 0)  # roots the stripe trees at random peers
    c = origin.contents[(cid, len(frame))]
    roots = [(k, dict(o.pairs)) for k, o in c.offers.items()]
    assert roots and all(role == em.ROLE_ROOT for (_, role), _ in roots)
    (addr, _), pairs = roots[0]
    mask = 0
    for s in pairs:
        mask |= 1 << s
    request(origin, [o for o in others if o.addr == addr][0], cid, len(frame), want=mask,
            ack=mask, decline=mask)
    assert (addr, em.ROLE_ROOT) not in c.offers  # acknowledged: no re-offer to anyone
    assert sorted(c.offers) == sorted(k for k, _ in roots[1:]) and not c.declines


# ---- real peers on the in-memory network -----------------------------------------------------
@pytest.mark.timeout(200)
@pytest.mark.parametrize("n", [5, 20])
def test_contents_a_few_symbols_long_reach_everyone_without_a_refusal_storm(n):
    """Large-path contents from just above large_threshold to ~10 symbols at 5% loss: every node
    gets every frame, with (almost) no REFUSE, repair or expiry; the most a node uploaded for one
    content stays within its budget."""
    config = EdgeConfig(large_threshold=300, probe_interval=400)
    s = Swarm(n, loss=0.05, seed=3 + n, uplink_bps=10_000_000, edge_config=config)
    s.warm_up(2000)
    sizes = [301, 400, 1296, 1297, 2600, 5000, 9000, 13000]
    for i, size in enumerate(sizes * 2):
        origin = s.peers[i % n]
        missing, _ = s.broadcast(origin, s.rng.randbytes(size), timeout_ms=10000)
        assert missing == [], "%d of %d nodes missed a %d-byte frame" % (len(missing), n - 1, size)
    total = dict((k, sum(p.stats[k] for p in s.peers)) for k in
                 ("edge_refused_busy", "edge_refused_not_held", "edge_expired", "edge_decoded"))
    assert total["edge_decoded"] == 2 * len(sizes) * (n - 1)
    assert total["edge_refused_busy"] + total["edge_refused_not_held"] <= n, total
    assert total["edge_expired"] == 0, total
    for p in s.peers:
        for c in p.contents.values():
            assert c.uploaded <= c.budget
            assert c.heights[c.live:] == [-1] * (c.stripes - c.live)  # no tree for empty stripes


def t_quantile(swarm, cid, start, q):
    got = sorted(t - start for t in swarm.deliveries[cid].values())
    return got[min(len(got) - 1, int(len(got) * q))]


def run_1mb(swarm, origin, timeout_ms=30000):
    frame = swarm.rng.randbytes(MB)
    cid = ray_id_of(frame)
    before = dict(swarm.net.bytes_sent)
    symbols_before = dict((p.addr, p.stats["edge_symbol_bytes_sent"]) for p in swarm.peers)
    start = swarm.net.now
    missing, latency = swarm.broadcast(origin, frame, timeout_ms=timeout_ms)
    sent = dict((a, swarm.net.bytes_sent[a] - before[a]) for a in before)
    symbols = [p.stats["edge_symbol_bytes_sent"] - symbols_before[p.addr] for p in swarm.peers]
    return frame, cid, start, missing, sent, symbols


@pytest.fixture(scope="module")
def swarm():
    s = Swarm(500, loss=0.12, seed=11, uplink_bps=10_000_000)  # every uplink 10 Mbps
    s.warm_up(2000)
    return s


def broadcast_blocks(swarm, origins, gap_ms=500, timeout_ms=30000):
    """1 MB from each origin, each started gap_ms after the previous (they overlap); asserts every
    node got every block within its budget; returns (cids, starts, copies per node per block)."""
    net = swarm.net
    frames = [swarm.rng.randbytes(MB) for _ in origins]
    cids = [ray_id_of(f) for f in frames]
    before = dict(net.bytes_sent)
    symbols_before = dict((p.addr, p.stats["edge_symbol_bytes_sent"]) for p in swarm.peers)
    starts = []
    for origin, frame in zip(origins, frames):
        starts.append(net.now)
        net.call(origin, origin.broadcast, frame, None)
        net.run_until(net.now + gap_ms)
    want = len(swarm.peers) - 1
    net.run_until(starts[0] + timeout_ms,
                  stop=lambda: all(len(swarm.deliveries.get(c, ())) >= want for c in cids))
    for origin, cid in zip(origins, cids):
        got = swarm.deliveries.get(cid, {})
        missing = [p.addr for p in swarm.peers if p is not origin and p.addr not in got]
        assert missing == [], "%d of %d nodes missed a 1 MB block" % (len(missing), want + 1)
        for peer in swarm.peers:
            c = peer.contents[(cid, MB)]
            assert c.uploaded <= c.budget  # SYMBOL bytes queued for this block, refunds deducted
    budget = budget_of(MB)
    symbols = [p.stats["edge_symbol_bytes_sent"] - symbols_before[p.addr] for p in swarm.peers]
    assert max(symbols) <= len(origins) * budget  # within budget for each block
    copies = dict((a, (net.bytes_sent[a] - before[a]) / MB / len(origins)) for a in before)
    return cids, starts, copies


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_500_nodes_get_a_1mb_block_within_budget(swarm):
    origin = swarm.peers[0]
    (cid,), (start,), copies = broadcast_blocks(swarm, [origin])
    assert max(p.stats["edge_symbol_bytes_sent"] for p in swarm.peers) <= budget_of(MB)
    mean = sum(copies.values()) / len(copies)
    t99 = t_quantile(swarm, cid, start, 0.99)
    assert t99 < 8000 and mean < 1.6
    print("1 MB to 500 nodes, 12%% loss, 10 Mbps uplinks: t50 %d ms, t99 %d ms; copies per node "
          "mean %.2f max %.2f; origin %.2f" % (t_quantile(swarm, cid, start, 0.5), t99, mean,
                                               max(copies.values()), copies[origin.addr]))


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_two_overlapping_1mb_blocks_reach_everyone():
    s = Swarm(100, loss=0.12, seed=9, uplink_bps=10_000_000)
    s.warm_up(1000)
    cids, starts, copies = broadcast_blocks(s, [s.peers[0], s.peers[77]], gap_ms=300)
    assert sum(copies.values()) / len(copies) < 1.6


@pytest.mark.slow
@pytest.mark.timeout(200)
def test_a_liar_serving_a_body_that_does_not_hash_to_its_id_is_blocklisted(swarm):
    liar, victim = swarm.peers[7], swarm.peers[8]
    real = swarm.rng.randbytes(200000)
    cid = ray_id_of(real)
    c = liar.adopt(cid, swarm.rng.randbytes(len(real)), swarm.net.now)  # a fake body under the id

    def offer(now):
        for s in range(c.stripes):
            liar._offer(c, victim.addr, s, 0, em.ROLE_TREE, now)
        liar._flush_offers(now)

    swarm.net.call(liar, offer)
    swarm.net.run_until(swarm.net.now + 8000)
    assert liar.addr in victim.blocked and liar.addr in victim.liars
    assert victim.stats["edge_mismatches"] >= 1
    assert cid not in swarm.deliveries or victim.addr not in swarm.deliveries[cid]


@pytest.mark.slow
@pytest.mark.timeout(200)
def test_a_liar_announcing_a_wrong_size_is_blocklisted_once_the_real_body_decodes(swarm):
    liar, victim, origin = swarm.peers[17], swarm.peers[18], swarm.peers[19]
    frame = swarm.rng.randbytes(300000)
    cid = ray_id_of(frame)
    lie = em.encode_edge_message(em.EdgeMessage(em.ANNOUNCE, liar._header(), cid,
                                                len(frame) + 5000, 16, em.ROLE_TREE,
                                                [(s, 0) for s in range(16)], b""))
    swarm.net.call(liar, lambda now: liar._out.extend([(lie, victim.addr)] * 2))
    swarm.net.run_until(swarm.net.now + 200)
    assert (cid, len(frame) + 5000) in victim.contents
    missing, _ = swarm.broadcast(origin, frame, timeout_ms=20000)
    assert missing == []
    assert liar.addr in victim.blocked
    assert (cid, len(frame) + 5000) not in victim.contents


@pytest.mark.slow
@pytest.mark.timeout(200)
def test_dead_delegates_are_replaced():
    s = Swarm(120, loss=0.05, seed=21, uplink_bps=10_000_000)
    s.warm_up(1000)
    origin = s.peers[0]
    fastest = sorted(origin._rtt, key=lambda a: origin._rtt[a])[:origin.edge.relay_pool]
    dead = set(p.addr for p in s.peers[100:]) | set(fastest)  # the relay is dead too
    for addr in dead:  # they leave without a word: their table entries are still fresh
        s.net.remove(addr)
    alive = len(s.peers) - len(dead) - 1
    frame = s.rng.randbytes(300000)
    cid = ray_id_of(frame)
    start = s.net.now
    s.net.call(origin, origin.broadcast, frame, None)
    s.net.run_until(start + 30000, stop=lambda: len(s.deliveries.get(cid, ())) >= alive)
    assert len(s.deliveries.get(cid, ())) == alive
    assert origin.stats["edge_delegates_replaced"] >= 1  # the relay
    assert sum(p.stats["edge_delegates_replaced"] for p in s.peers if p.addr not in dead) > 1


@pytest.mark.slow
@pytest.mark.timeout(200)
def test_pull_repair_heals_25_percent_loss():
    s = Swarm(150, loss=0.25, seed=5, uplink_bps=10_000_000)
    s.warm_up(1000)
    frame, cid, start, missing, sent, symbols = run_1mb(s, s.peers[3], timeout_ms=40000)
    assert missing == [], "%d of 150 nodes missed the block at 25%% loss" % len(missing)
    served = sum(p.stats["edge_repair_symbols_served"] for p in s.peers)
    assert served > 0  # per-hop recovery / pull repair carried the symbols the tree lost
    assert max(symbols) <= budget_of(len(frame))


@pytest.mark.slow
@pytest.mark.timeout(200)
def test_small_messages_interoperate_with_as_specified_peers():
    s = Swarm(300, edge_count=150, loss=0.12, seed=4)
    s.warm_up(2000)
    for origin in (s.peers[3], s.peers[200]):  # an edge origin (relayed), a plain one
        for _ in range(2):
            missing, latency = s.broadcast(origin, s.rng.randbytes(1024), timeout_ms=10000)
            assert missing == [], "%d nodes missed a 1 KB message" % len(missing)
    relayed = sum(p.stats.get("edge_relayed", 0) for p in s.peers)
    assert relayed >= 2


def test_a_small_message_handed_to_a_dead_relay_still_reaches_everyone():
    """No echo of a hand-off within echo_ms: another relay, then the originator's own tree."""
    s = Swarm(60, loss=0.05, seed=17)
    s.warm_up(1000)
    origin = s.peers[0]
    pool = sorted(origin._rtt, key=lambda a: origin._rtt[a])[:origin.edge.relay_pool]
    for addr in pool:  # every relay candidate leaves without a word
        s.net.remove(addr)
    alive = len(s.peers) - len(pool) - 1
    missed = origin.stats["edge_echo_missed"]
    frame = s.rng.randbytes(700)
    cid = s.net.call(origin, origin.broadcast, frame, None)
    s.net.run_until(s.net.now + 10000, stop=lambda: len(s.deliveries.get(cid, ())) >= alive)
    assert len(s.deliveries.get(cid, ())) == alive
    assert origin.stats["edge_echo_missed"] > missed
    assert len([a for a in pool if a in origin._rtt]) < len(pool)  # silent relays leave the pool
    # a live relay's echo clears the hand-off: no retry
    other = next(p for p in s.peers[1:] if p.addr not in pool and not set(pool) & set(
        sorted(p._rtt, key=lambda a: p._rtt[a])[:p.edge.relay_pool]))
    cid = s.net.call(other, other.broadcast, s.rng.randbytes(700), None)
    s.net.run_until(s.net.now + 5000)
    assert len(s.deliveries.get(cid, ())) == alive
    assert other.stats["edge_echo_missed"] == 0 and not other._echoes
    assert other.stats["edge_relayed"] >= 1


@pytest.mark.slow
@pytest.mark.timeout(200)
def test_a_mismatch_among_several_sources_is_resolved_one_suspect_at_a_time():
    s = Swarm(30, loss=0.05, seed=8, uplink_bps=10_000_000,
              edge_config=EdgeConfig(probe_interval=400, peer_copies=3))
    s.warm_up(1000)
    liar, honest, victim = s.peers[1], s.peers[2], s.peers[3]
    real = s.rng.randbytes(200000)
    cid = ray_id_of(real)
    fake = liar.adopt(cid, s.rng.randbytes(len(real)), s.net.now)
    good = honest.adopt(cid, real, s.net.now)

    def offer(peer, c, stripes):
        def go(now):
            for stripe in stripes:
                peer._offer(c, victim.addr, stripe, 0, em.ROLE_TREE, now)
            peer._flush_offers(now)
        s.net.call(peer, go)

    offer(liar, fake, range(12))  # the liar is the first holder, so the first suspect
    s.net.run_until(s.net.now + 5)
    offer(honest, good, range(12, 16))
    s.net.run_until(s.net.now + 10000, stop=lambda: victim.addr in s.deliveries.get(cid, {}))
    assert victim.stats["edge_mismatches"] >= 1
    assert victim.addr in s.deliveries.get(cid, {})  # the honest suspect alone rebuilt the body
    assert liar.addr in victim.blocked and honest.addr not in victim.blocked
