"""Kadcast peer behaviour (PROTOCOL.md §1.4-§1.9): handling, routing table, tree broadcast,
bootstrap/refresh, rate limits, blocklist and pull repair, through the sans-I/O interface."""
import random

import pytest

from dusk_edge.core.kadcast import ids
from dusk_edge.core.kadcast import messages as m
from dusk_edge.core.kadcast.config import KadcastConfig
from dusk_edge.core.kadcast.peer import BroadcastReceived, Peer
from dusk_edge.core.kadcast.routing import FULL, INSERTED, PENDING, REFRESHED, RoutingTable
from dusk_edge.crypto.fec import make_fec, ray_id_of
from dusk_edge.sim.overlay_net import OverlayNet

pytestmark = pytest.mark.twin
FEC = make_fec("rs")


def ip(i):
    return bytes((10, 1, i >> 8 & 255, i & 255))


def peer(i, boot=(), **cfg):
    cfg.setdefault("pow_bits", 8)
    return Peer(ip(i), 9000, FEC, random.Random(i), KadcastConfig(**cfg), bootstrappers=boot)


def datagram(kind, sender, **fields):
    h = m.Header(sender.id, sender.nonce, sender.port, sender.config.network_id)
    return m.encode_message(m.Message(kind, h, version=sender.config.version, **fields))


def sent(p, now=0):
    return [(m.decode_message(d), a) for d, a in p.datagrams_to_send(now)]


def test_ping_pong_inserts_both_ways():
    a, b = peer(1), peer(2)
    b.receive_datagram(datagram(m.PING, a), a.addr, 0)
    out = sent(b)
    assert [(x.kind, addr) for x, addr in out] == [(m.PONG, a.addr)]
    assert b.table.get_by_addr(a.addr).id == a.id
    a.receive_datagram(m.encode_message(out[0][0]), b.addr, 1)
    assert a.table.get_by_addr(b.addr) is not None and sent(a) == []


def test_foreign_network_spoofed_id_and_version_are_refused():
    a, b = peer(1), peer(2)
    other = Peer(ip(3), 9000, FEC, random.Random(3), KadcastConfig(network_id=1, pow_bits=8))
    b.receive_datagram(datagram(m.PING, other), other.addr, 0)
    assert b.stats["foreign_network"] == 1
    b.receive_datagram(datagram(m.PING, a), (ip(99), 9000), 0)  # id not bound to this source
    assert b.stats["bad_id"] == 1
    old = Peer(ip(4), 9000, FEC, random.Random(4), KadcastConfig(version=(0, 2, 0), pow_bits=8))
    b.receive_datagram(datagram(m.PING, old), old.addr, 0)
    assert b.stats["bad_version"] == 1
    assert len(b.table) == 0 and sent(b) == []


def test_version_match_is_caret():
    c = KadcastConfig(version=(1, 0, 0))
    assert c.version_matches((1, 0, 0)) and c.version_matches((1, 9, 3))
    assert not c.version_matches((2, 0, 0)) and not c.version_matches((0, 9, 9))
    z = KadcastConfig(version=(0, 1, 0))
    assert z.version_matches((0, 1, 5)) and not z.version_matches((0, 2, 0))


def test_find_nodes_answers_closest_twenty():
    b = peer(1)
    others = [peer(i) for i in range(2, 40)]
    for o in others:
        b.table.insert_or_refresh(o.id, o.ip, o.port, 0)
    asker = others[0]
    b.receive_datagram(datagram(m.FIND_NODES, asker, target=asker.id), asker.addr, 1)
    reply = sent(b)[0][0]
    assert reply.kind == m.NODES and len(reply.peers) == 20
    known = sorted((o for o in others if o.id != asker.id), key=lambda o: ids.distance(o.id, asker.id))
    assert [p.id for p in reply.peers] == [o.id for o in known[:20]]


def test_nodes_reply_triggers_discovery_once():
    a = peer(1)
    listed = [peer(i) for i in range(2, 6)]
    infos = [m.PeerInfo(p.ip, p.port, p.id) for p in listed] + [m.PeerInfo(a.ip, a.port, a.id)]
    src = peer(50)
    for t in (0, 1):
        a.receive_datagram(datagram(m.NODES, src, peers=infos), src.addr, t)
    finds = [(x.target, addr) for x, addr in sent(a) if x.kind == m.FIND_NODES]
    assert sorted(finds) == sorted((p.id, p.addr) for p in listed)  # self skipped, no repeats


def test_bucket_lru_pending_and_ping_before_evict():
    own = bytes(16)
    t = RoutingTable(own, k=2, node_ttl=30000, evict_after=5000)
    far = [bytes(15) + bytes((0x80 | i,)) for i in range(3)]  # all in bucket 127
    assert t.insert_or_refresh(far[0], b"\x01\x00\x00\x01", 1, 0)[0] == INSERTED
    assert t.insert_or_refresh(far[1], b"\x01\x00\x00\x02", 1, 0)[0] == INSERTED
    assert t.insert_or_refresh(far[0], b"\x01\x00\x00\x01", 1, 10)[0] == REFRESHED
    assert [n.id for n in t.buckets[127].nodes] == [far[1], far[0]]  # LRU first
    assert t.insert_or_refresh(far[2], b"\x01\x00\x00\x03", 1, 100)[0] == FULL  # LRU alive
    result, lru = t.insert_or_refresh(far[2], b"\x01\x00\x00\x03", 1, 30001)
    assert result == PENDING and lru.id == far[1]
    # the LRU did not answer within evict_after: the next insert evicts it, pending moves in
    t.insert_or_refresh(far[0], b"\x01\x00\x00\x01", 1, 35002)
    assert far[1] not in [n.id for n in t.buckets[127].nodes]
    assert far[2] in [n.id for n in t.buckets[127].nodes]


def test_lru_that_answers_is_kept():
    own = bytes(16)
    t = RoutingTable(own, k=1, node_ttl=30000, evict_after=5000)
    a, b = bytes(15) + b"\x80", bytes(15) + b"\x81"
    t.insert_or_refresh(a, b"\x01\x00\x00\x01", 1, 0)
    assert t.insert_or_refresh(b, b"\x01\x00\x00\x02", 1, 40000)[0] == PENDING
    t.insert_or_refresh(a, b"\x01\x00\x00\x01", 1, 40001)  # the PONG of the pinged LRU
    t.insert_or_refresh(a, b"\x01\x00\x00\x01", 1, 50000)
    assert [n.id for n in t.buckets[127].nodes] == [a]


def populated(n_nodes=300, **cfg):
    p = peer(1, **cfg)
    others = [peer(i) for i in range(2, 2 + n_nodes)]
    for o in others:
        p.table.insert_or_refresh(o.id, o.ip, o.port, 0)
    return p, others


def test_broadcast_sends_beta_per_bucket_with_bucket_height():
    p, _ = populated()
    p.broadcast(b"block" * 10, None, 1)
    out = sent(p)
    per_bucket = {}
    for msg, addr in out:
        node = p.table.get_by_addr(addr)
        assert msg.kind == m.BROADCAST and msg.height == p.table.bucket_of(node.id)
        per_bucket.setdefault(msg.height, set()).add(addr)
    nonempty = {h for h, b in p.table.buckets.items() if b.nodes}
    assert set(per_bucket) == nonempty
    assert all(len(v) == min(3, len(p.table.buckets[h].nodes)) for h, v in per_bucket.items())
    assert len(out) == 6 * sum(len(v) for v in per_bucket.values())  # 1 source + 5 repair each


def test_receiver_delegates_to_lower_buckets_only():
    p, others = populated()
    origin = others[5]
    frame = b"tx" * 100
    chunks = FEC.new_encoder(frame, ids.blake2s_256(len(frame).to_bytes(4, "little") + frame)).initial_chunks()
    for c in chunks:
        p.receive_datagram(datagram(m.BROADCAST, origin, height=120, payload=c), origin.addr, 5)
    ev = p.next_event()
    assert isinstance(ev, BroadcastReceived) and ev.payload == frame and ev.height == 120
    heights = {msg.height for msg, _ in sent(p) if msg.kind == m.BROADCAST}
    assert heights and max(heights) < 120
    assert p.next_event() is None
    for c in chunks:  # duplicates are dropped: no second delivery, no second fan-out
        p.receive_datagram(datagram(m.BROADCAST, origin, height=126, payload=c), origin.addr, 6)
    assert p.next_event() is None and not [x for x, _ in sent(p) if x.kind == m.BROADCAST]


def test_height_zero_is_a_leaf_and_explicit_height_limits_buckets():
    p, others = populated()
    p.broadcast(b"x" * 50, 124, 0)
    heights = {msg.height for msg, _ in sent(p)}
    assert heights and max(heights) == 124
    q, others = populated()
    origin = others[0]
    frame = b"leaf" * 10
    chunks = FEC.new_encoder(frame, ids.blake2s_256(len(frame).to_bytes(4, "little") + frame)).initial_chunks()
    for c in chunks:
        q.receive_datagram(datagram(m.BROADCAST, origin, height=0, payload=c), origin.addr, 0)
    assert q.next_event().height == 0
    assert not [x for x, _ in sent(q) if x.kind == m.BROADCAST]


def test_flood_from_one_address_is_rate_limited_and_others_still_served():
    b = peer(1, rate_per_s=1000, rate_burst=200)
    flooder, honest = peer(2), peer(3)
    junk = datagram(m.PING, flooder)
    for i in range(20000):
        b.receive_datagram(junk, flooder.addr, i // 100)  # 100k datagrams/s for 200 ms
    pongs_to_flooder = sum(1 for x, a in sent(b) if a == flooder.addr)
    assert pongs_to_flooder <= 200 + 1000 * 200 // 1000 + 1
    assert b.stats["rate_limited"] >= 19000
    b.receive_datagram(datagram(m.PING, honest), honest.addr, 200)
    assert [(x.kind, a) for x, a in sent(b)] == [(m.PONG, honest.addr)]


def test_rate_limit_table_is_bounded():
    b = peer(1, max_rate_sources=50)
    for i in range(200):
        b.receive_datagram(b"\xff", (bytes((11, 0, 0, i)), 1), 0)
    assert len(b._tokens) <= 50


def test_blocklist_and_auto_block_on_garbage():
    b = peer(1, invalid_limit=10)
    bad, good = peer(2), peer(3)
    b.receive_datagram(datagram(m.PING, good), good.addr, 0)
    b.block_source(good.addr)
    assert b.table.get_by_addr(good.addr) is None
    sent(b)
    b.receive_datagram(datagram(m.PING, good), good.addr, 1)
    assert sent(b) == [] and b.stats["blocked"] == 1
    for _ in range(10):
        b.receive_datagram(b"\x00garbage", bad.addr, 2)
    assert bad.addr in b.blocked


def test_bootstrap_and_bucket_refresh():
    seed = (ip(200), 9000)
    p = peer(1, boot=[seed], bucket_ttl=60000, bootstrap_retry=1000)
    p.handle_timer(0)
    out = sent(p)
    assert [(x.kind, x.target, a) for x, a in out] == [(m.FIND_NODES, p.id, seed)]
    for o in [peer(i) for i in range(2, 6)]:
        p.table.insert_or_refresh(o.id, o.ip, o.port, 500)
    p.handle_timer(1000)
    assert sent(p) == []  # enough alive peers: no bootstrap
    p.handle_timer(60000)
    out = sent(p)
    finds = [x for x, _ in out if x.kind == m.FIND_NODES]
    stale = 128 - len([b for b in p.table.buckets.values() if b.nodes])
    assert len(finds) >= stale  # one lookup per stale bucket to alpha peers + the seed
    # (the nodes are idle by now, so the bootstrap lookup of our own id runs again too)
    assert {x.target for x in finds} <= {ids.id_at_distance(p.id, h) for h in range(128)} | {p.id}
    assert len(p.table) == 0  # nodes idle beyond node_ttl were pinged and removed
    assert len([x for x, _ in out if x.kind == m.PING]) == 4


def test_pull_repair_between_two_peers():
    rng = random.Random(5)
    net = OverlayNet(rng, loss=0.0)
    a, b = peer(1, repair_after=100), peer(2, repair_after=100)
    for x in (a, b):
        net.add(x)
    net.call(a, a.receive_datagram, datagram(m.PING, b), b.addr)
    net.call(b, b.receive_datagram, datagram(m.PING, a), a.addr)
    net.run_until(1000)
    got = []
    net.on_event = lambda addr, ev, now: got.append((addr, ev))
    net.loss = 0.3  # far beyond the 15% repair
    frame = rng.randbytes(200_000)
    net.call(a, a.broadcast, frame, None)
    net.run_until(net.now + 10000, stop=lambda: got)
    assert got and got[0][1].payload == frame
    assert b.stats["repair_requests_sent"] >= 1 and a.stats["repair_chunks_served"] >= 1


def test_relay_mode_hands_the_ray_to_one_fast_peer_that_starts_the_tree():
    p, others = populated()
    fast = others[:8]
    for i, o in enumerate(others):
        p._rtt[o.addr] = 5 + i if o in fast else 500 + i  # measured round trips
    p.broadcast(b"secret origin" * 10, None, 0, relay=True)
    out = sent(p)
    assert {a for _, a in out} <= {o.addr for o in fast} and len({a for _, a in out}) == 1
    assert {x.height for x, _ in out} == {128}
    relay = next(o for o in fast if o.addr == out[0][1])
    for o in others + [p]:
        if o is not relay:
            relay.table.insert_or_refresh(o.id, o.ip, o.port, 0)
    for x, _ in out:
        relay.receive_datagram(m.encode_message(x), p.addr, 1)
    assert relay.next_event().height == 128
    heights = {x.height for x, _ in sent(relay) if x.kind == m.BROADCAST}
    assert heights == {h for h, b in relay.table.buckets.items() if b.nodes}  # every bucket


@pytest.mark.parametrize("auto_propagate", [True, False])
def test_a_relay_starts_the_tree_through_the_nearest_members_of_each_bucket(auto_propagate):
    """relay_fast_first: what arrives at height 128 goes first to beta random members among the
    2 * beta lowest round trips of each bucket (an ordinary height gets beta random members)."""
    relay, others = populated(auto_propagate=auto_propagate)
    for i, o in enumerate(others):
        relay._rtt[o.addr] = 1000 - i  # the last members inserted are the nearest
    rank = dict((o.addr, relay._rtt[o.addr]) for o in others)
    origin = others[0]
    frame = b"relayed vote" * 10
    encoder = FEC.new_encoder(frame, ray_id_of(frame))
    for chunk in encoder.initial_chunks():
        relay.receive_datagram(datagram(m.BROADCAST, origin, height=128, payload=chunk), origin.addr, 1)
    if not auto_propagate:  # the node validates, then re-sends at height 127
        relay.broadcast(relay.next_event().payload, 127, 2)
    by_height = {}
    for x, addr in sent(relay, 2):
        by_height.setdefault(x.height, set()).add(addr)
    checked = 0
    for height, bucket in relay.table.buckets.items():
        if len(bucket.nodes) > 6:
            nearest = sorted(bucket.nodes, key=lambda n: rank[n.addr])[:6]
            assert by_height[height] <= {n.addr for n in nearest} and len(by_height[height]) == 3
            checked += 1
    assert checked >= 3


def test_round_trips_are_measured_from_ping_pong():
    a, b = peer(1), peer(2)
    a.table.insert_or_refresh(b.id, b.ip, b.port, 0)
    a.handle_timer(0)
    a._send(m.PING, b.addr)
    a.datagrams_to_send(0)
    a.receive_datagram(datagram(m.PONG, b), b.addr, 37)
    assert a._rtt[b.addr] == 37 and a.pick_relay() is a.table.get_by_addr(b.addr)
