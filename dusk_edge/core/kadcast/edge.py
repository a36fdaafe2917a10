# Theory of operation: EdgePeer, the size-aware "edge" broadcast mode (network.broadcast = "edge",
# docs/edge-broadcast.md), a Peer (peer.py) with the same aioquic-style interface.
# - Small frames (<= large_threshold) travel exactly as in Kadcast (tree push with FEC), so
#   as-specified peers interoperate; origin hiding hands them to a relay as BROADCAST height 128.
# - Large frames travel down S "stripe trees" (SplitStream-like, edge_stripes.py): rs symbol (b, e)
#   belongs to stripe e mod S. ANNOUNCE offers (stripe, height) pairs; the receiver acknowledges
#   every offered stripe with a REQUEST and wants a stripe only from its first offerer (its parent).
#   Accepting stripe s at height h, a node offers it at once to one delegate per non-empty bucket
#   i < h (beta = 1, a random pick per (stripe, bucket), so the trees differ), before any symbol
#   arrives; symbols then flow down cut-through: each symbol obtained is queued at once to every
#   subscriber of its stripe, at most once per (subscriber, symbol). A node that decodes checks the
#   content id, delivers, and regenerates every sent ESI for its subscribers (healing the loss above).
#   Offers are retried with backoff until acknowledged, then the delegate is replaced. A node without
#   progress for stall_ms pulls repair (per-block need + bitmap) from its parents and other offerers.
# - Origin hiding: the originator offers every stripe (role RELAY) to a relay picked among its
#   relay_pool lowest-RTT edge peers; the relay pulls everything and roots the S trees at S random
#   edge peers (role ROOT, height 128). The originator never offers tree heights itself.
# - Limits (server side): per content at most budget_copies x size of SYMBOL bytes leave the node,
#   at most peer_copies x size to one peer; REQUESTs per peer are token-bucket limited; every
#   container is capped. Lies: a claim (id, size) that differs from the verified body's size, or a
#   body from one source that does not hash to its id, blocklists the peer proven to have made it;
#   with several sources the transfer restarts single-source over the suspects, one at a time.
# RTTs are the ping round trips Peer measures (_rtt). Edge capability is learned from the Version
# patch flag (EDGE_VERSION_FLAG); as-specified delegates get Kadcast FEC chunks once we decode.
from collections import deque

from dusk_edge.core.errors import DecodeError, LocalProtocolError, RemoteProtocolError
from dusk_edge.core.kadcast import edge_messages as em
from dusk_edge.core.kadcast import messages as m
from dusk_edge.core.kadcast import rs
from dusk_edge.core.kadcast.config import KadcastConfig
from dusk_edge.core.kadcast.edge_stripes import Content, Offer
from dusk_edge.core.kadcast.peer import BroadcastReceived, Peer
from dusk_edge.core.kadcast.rs import ray_id_of
from dusk_edge.core.wire import Buffer

RELAY_HEIGHT = 128                # one above any bucket: the receiver covers buckets 0..127
NEVER = 1 << 62
H = em.HEADER_END                 # start of an edge message body
CHUNK_LEN = rs.CHUNK_HEADER_LEN + rs.SYMBOL_SIZE
DGRAM_LEN = H + CHUNK_LEN         # one SYMBOL datagram
MAX_CLAIMS = 2                    # sizes tracked per content id (one honest, one lie)


class EdgeConfig:
    """Tunables of the edge mode (times in ms). ``budget_copies``: SYMBOL bytes one node uploads
    per large message, in multiples of its size; ``peer_copies``: at most this much to one peer."""
    __slots__ = ("large_threshold", "summary_len", "relay", "relay_pool", "stripes",
                 "repair_percent", "offer_retry_ms", "offer_attempts", "stall_ms",
                 "repair_attempts", "pull_ttl", "content_ttl", "budget_copies", "peer_copies",
                 "request_rate_per_s", "request_burst", "probe_interval", "probe_batch",
                 "fallback_probes", "max_contents", "max_subscribers", "max_holders", "uplink_bps",
                 "pace_slice_ms", "max_queue", "sync_ms")

    def __init__(self, **overrides):
        self.large_threshold = 8192
        self.summary_len = 256
        self.relay = True
        self.relay_pool = 8
        self.stripes = 16
        self.repair_percent = 30
        self.offer_retry_ms = 150
        self.offer_attempts = 4       # then the delegate is replaced (retries back off x2)
        self.stall_ms = 500
        self.repair_attempts = 30
        self.pull_ttl = 60000
        self.content_ttl = 60000      # a verified body is served this long
        self.budget_copies = 3
        self.peer_copies = 1.5
        self.request_rate_per_s = 50
        self.request_burst = 100
        self.probe_interval = 10000
        self.probe_batch = 8
        self.fallback_probes = 3
        self.max_contents = 16
        self.max_subscribers = 32     # per stripe
        self.max_holders = 48         # offerers kept per content (a node has up to S parents)
        self.uplink_bps = 10000000    # SYMBOLs are paced at this rate; control messages go first
        self.pace_slice_ms = 10       # symbols are released in slices of this many ms of uplink
        self.max_queue = 20000        # paced symbols waiting (beyond: dropped, budget refunded)
        self.sync_ms = 300            # undecoded: every sync_ms ask each parent for its lost symbols
        for name, value in overrides.items():
            if name not in self.__slots__:
                raise LocalProtocolError("edge: unknown setting %r" % name)
            setattr(self, name, value)
        if not 0 < self.stripes <= em.MAX_STRIPES or not 0 <= self.repair_percent <= 100:
            raise LocalProtocolError("edge: stripes 1..32 and repair_percent 0..100")


class EdgeKadcastConfig(KadcastConfig):
    """A KadcastConfig whose Version carries EDGE_VERSION_FLAG; matching ignores the flag."""
    __slots__ = ()

    def version_matches(self, theirs):
        flag = em.EDGE_VERSION_FLAG
        ours = (self.version[0], self.version[1], self.version[2] & ~flag)
        theirs = (theirs[0], theirs[1], theirs[2] & ~flag)
        if theirs[0] != ours[0] or (ours[0] == 0 and theirs[1] != ours[1]):
            return False
        return theirs >= ours


def edge_kadcast_config(base):
    config = EdgeKadcastConfig(base.network_id, base.version)
    for name in KadcastConfig.__slots__:
        setattr(config, name, getattr(base, name))
    v = base.version
    config.version = (v[0], v[1], v[2] | em.EDGE_VERSION_FLAG)
    return config


def _mask(stripes):
    out = 0
    for s in stripes:
        out |= 1 << s
    return out


class EdgePeer(Peer):
    def __init__(self, ip, port, fec, rng, config=None, bootstrappers=(), nonce=None, now=0,
                 edge=None):
        Peer.__init__(self, ip, port, fec, rng, edge_kadcast_config(config or KadcastConfig()),
                      bootstrappers, nonce, now)
        self.edge = edge or EdgeConfig()
        self.edge_peers = set()
        self.contents = {}            # (content_id, size) -> Content
        self.liars = []
        self._req_tokens = {}
        self._headers_ok = {}         # (ip, header bytes) -> checked source (ip, port)
        self._fresh = []              # offers to send at the end of this step
        self._rtt_probe_at = now
        self._wake = NEVER
        self._now = now
        self._sym_prefix = bytes((em.SYMBOL,)) + self._header_bytes()
        self._queue = deque((), self.edge.max_queue + 1)  # paced symbols: (datagram, addr, content, stripe or -1)
        self._pace_at = NEVER         # when the next slice of the queue may leave
        for name in ("bytes_sent", "bytes_received", "edge_announces_sent", "edge_requests_sent",
                     "edge_symbols_sent", "edge_symbol_bytes_sent", "edge_symbols_received",
                     "edge_symbols_duplicate", "edge_budget_dropped", "edge_peer_cap_dropped",
                     "edge_refused_busy", "edge_refused_not_held", "edge_requests_limited",
                     "edge_decoded", "edge_repair_requests_sent", "edge_repair_symbols_served",
                     "edge_mismatches", "edge_liars_blocked", "edge_relayed", "edge_offers_retried",
                     "edge_delegates_replaced", "edge_expired", "edge_unsolicited",
                     "edge_fallback_probes", "edge_legacy_sends", "edge_queue_dropped",
                     "edge_unsubscribed_dropped"):
            self.stats[name] = 0

    # ---- interface -------------------------------------------------------------------------
    def datagrams_to_send(self, now):
        if self._queue and now >= self._pace_at:
            self._release(now)
        out = Peer.datagrams_to_send(self, now)
        n = 0
        for d, _ in out:
            n += len(d)
        self.stats["bytes_sent"] += n
        return out

    def get_timer(self):
        deadline = Peer.get_timer(self)
        t = self._rtt_probe_at if self._rtt_probe_at < self._wake else self._wake
        if self._queue and self._pace_at < t:
            t = self._pace_at
        return t if deadline is None or t < deadline else deadline

    def handle_timer(self, now):
        self._now = now
        Peer.handle_timer(self, now)
        if now >= self._rtt_probe_at:
            self._probe_rtts(now)
        if now >= self._wake:
            self._run_contents(now)

    def receive_datagram(self, data, addr, now):
        self._now = now
        self.stats["bytes_received"] += len(data)
        if not data or data[0] not in em.EDGE_TYPES:
            Peer.receive_datagram(self, data, addr, now)
            return
        ip = addr[0]
        if addr in self.blocked or (ip, None) in self.blocked:
            self.stats["blocked"] += 1
            return
        if not self._take_token(ip, now):
            self.stats["rate_limited"] += 1
            return
        self.stats["received"] += 1
        try:
            if data[0] == em.SYMBOL:
                src = self._symbol_source(data, ip)
                if src is not None:
                    self._on_symbol(data, src, now)
            else:
                self._handle_edge(em.decode_edge_message(data), ip, now)
        except RemoteProtocolError:
            self._count_invalid(addr)
        self._flush_offers(now)

    def broadcast(self, frame, height=None, now=0):
        """Originate (height None) or re-send (height h: buckets 0..h) a frame; returns its id."""
        self._now = now
        if len(frame) <= self.edge.large_threshold:
            relay = self._pick_relay(False) if height is None and self.edge.relay else None
            if relay is None:
                return Peer.broadcast(self, frame, height, now)
            return self._hand_small_to_relay(frame, relay, now)
        if len(frame) > self.config.max_broadcast_len:
            raise LocalProtocolError("broadcast frame of %d bytes above %d" % (len(frame), self.config.max_broadcast_len))
        cid = ray_id_of(frame)
        if (cid, len(frame)) in self.contents or self.rays.is_processed(cid):
            return cid  # already travelling through the stripe trees
        self.rays.mark_processed(cid, now)
        c = self.adopt(cid, frame, now)
        c.origin = True
        relay = self._pick_relay(True) if height is None and self.edge.relay else None
        if relay is not None:
            self.stats["edge_relayed"] += 1
            for s in range(c.live):
                self._offer(c, relay, s, RELAY_HEIGHT, em.ROLE_RELAY, now)
        elif height is None:
            c.rooted = True
            self._start_roots(c, None, now)
        else:
            for s in range(c.live):
                self._extend(c, s, min(height, 127) + 1, now)
        self._flush_offers(now)
        return cid

    def adopt(self, cid, frame, now):
        """Hold ``frame`` as verified content ``cid`` and serve it (the originator's copy)."""
        c = self._new_content(cid, len(frame), self.edge.stripes, now)
        if c is None:
            raise LocalProtocolError("edge: no room for another content")
        c.summary = frame[:self.edge.summary_len]
        self._verified(c, frame, now, deliver=False)
        return c

    def bandwidth(self):
        """Upload budget and bandwidth counters for status/metrics."""
        contents = list(self.contents.values())
        held = [c for c in contents if c.frame is not None]
        return {"mode": "edge", "budget_copies": self.edge.budget_copies,
                "peer_copies": self.edge.peer_copies, "uplink_bps": self.edge.uplink_bps,
                "bytes_sent": self.stats["bytes_sent"], "bytes_received": self.stats["bytes_received"],
                "symbol_bytes_sent": self.stats["edge_symbol_bytes_sent"],
                "held": len(held), "pulls": len(contents) - len(held),
                "uploaded_for_held": sum(c.uploaded for c in contents),
                "budget_for_held": sum(c.budget for c in contents),
                "max_budget_used": max([c.uploaded * 100 // max(1, c.budget) for c in contents] or [0])}

    # ---- origin hiding and latency probes ----------------------------------------------------
    def _handle(self, msg, ip, now):
        Peer._handle(self, msg, ip, now)
        if msg.version is not None and msg.version[2] & em.EDGE_VERSION_FLAG:
            if len(self.edge_peers) < 65536:
                self.edge_peers.add((ip, msg.header.port))

    def _probe_rtts(self, now):
        alive = self.table.alive_nodes(now)
        unmeasured = [n for n in alive if n.addr not in self._rtt]
        pool = unmeasured if unmeasured else alive
        batch = self.edge.probe_batch
        for node in pool if len(pool) <= batch else self.rng.sample(pool, batch):
            self._send(m.PING, node.addr)
        self._rtt_probe_at = now + self.edge.probe_interval

    def _pick_relay(self, need_edge):
        alive = [n.addr for n in self.table.alive_nodes(self._now)
                 if not need_edge or n.addr in self.edge_peers]
        if not alive:
            return None
        measured = sorted([a for a in alive if a in self._rtt], key=lambda a: self._rtt[a])
        pool = measured[:self.edge.relay_pool] or alive
        return self.rng.choice(pool)

    def _hand_small_to_relay(self, frame, relay, now):
        ray_id = ray_id_of(frame)
        self.rays.mark_processed(ray_id, now)
        encoder = self.fec.new_encoder(frame, ray_id)
        self.rays.keep_encoder(ray_id, encoder)
        self._send_chunks(encoder.initial_chunks(), RELAY_HEIGHT, relay)
        self.stats["edge_relayed"] += 1
        return ray_id

    # ---- contents ----------------------------------------------------------------------------
    def _new_content(self, cid, size, stripes, now):
        if len(self.contents) >= self.edge.max_contents:
            done = [(c.created_at, k) for k, c in self.contents.items() if c.frame is not None]
            if not done:
                return None
            del self.contents[min(done)[1]]
        c = Content(cid, size, stripes, self.edge.repair_percent, now, self.edge.budget_copies,
                    self.edge.peer_copies, DGRAM_LEN)
        c.head = bytes(cid) + bytes((rs.SCHEME_TAG, size & 0xFF, (size >> 8) & 0xFF, (size >> 16) & 0xFF,
                                     size >> 24, rs.SYMBOL_SIZE & 0xFF, rs.SYMBOL_SIZE >> 8, c.num_blocks))
        self.contents[(cid, size)] = c
        return c

    def _schedule(self, t):
        if t < self._wake:
            self._wake = t

    def _verified(self, c, frame, now, deliver=True):
        c.verified(frame)
        c.suspects = None
        c.next_repair_at = None
        c.expires_at = now + self.edge.content_ttl
        self._schedule(c.expires_at)
        self.rays.mark_processed(c.cid, now)
        for key in [k for k in self.contents if k[0] == c.cid and k[1] != c.size]:
            other = self.contents.pop(key)
            for liar in other.holders[:]:  # they announced a size this id does not have
                if liar in other.announcers:
                    self._blame(liar)
        parents = {}
        for s in range(c.stripes):  # tell our parents to stop: ack without want unsubscribes
            if c.parents[s] is not None:
                parents[c.parents[s]] = parents.get(c.parents[s], 0) | 1 << s
        for addr, mask in parents.items():
            self._send_request(c.cid, c.size, 0, mask, (), addr)
        if deliver:
            self.stats["delivered"] += 1
            self.stats["edge_decoded"] += 1
            self._events.append(BroadcastReceived(frame, c.first_source, 0, c.cid))
        masks = {}
        for s in range(c.stripes):  # regenerate: every subscriber gets every sent ESI of its stripe
            for sub in c.subs[s]:
                masks[sub] = masks.get(sub, 0) | 1 << s
        for sub, mask in masks.items():
            self._send_keys(c, sub, mask)
        for addr, height in c.legacy.items():
            self._send_legacy(c, addr, height)

    def _send_legacy(self, c, addr, height):
        """An as-specified delegate: the Kadcast FEC chunks of the verified body at ``height``."""
        if self.fec is None:
            return
        encoder = self.rays.served.get(c.cid)
        if encoder is None or isinstance(encoder, bytes):
            encoder = self.fec.new_encoder(c.frame, c.cid)
            self.rays.keep_encoder(c.cid, encoder)
        self.stats["edge_legacy_sends"] += 1
        self._send_chunks(encoder.initial_chunks(), height, addr)

    # ---- offers (the tree) -------------------------------------------------------------------
    def _extend(self, c, s, h, now):
        """Our height for stripe s rises to h: offer the buckets we did not cover yet."""
        old = c.heights[s]
        if h <= old or s >= c.live:  # an empty stripe has no tree
            return
        c.heights[s] = h
        low = old if old > 0 else 0
        for i, bucket in self.table.buckets.items():
            if low <= i < h and bucket.nodes:
                self._delegate(c, s, i, bucket.nodes, now)

    def _delegate(self, c, s, i, nodes, now):
        tried = c.tried.get((s, i), ())
        parent = c.parents[s]
        edge, legacy = [], []
        for n in nodes:
            a = n.addr
            if a in tried or a == parent or a in self.blocked:
                continue
            (edge if a in self.edge_peers else legacy).append(a)
        if edge:
            self._offer(c, self.rng.choice(edge), s, i, em.ROLE_TREE, now)
        elif legacy and not tried:
            addr = self.rng.choice(legacy)
            if c.legacy.get(addr, -1) < i and len(c.legacy) < 128:
                c.legacy[addr] = i
                if c.frame is not None:
                    self._send_legacy(c, addr, i)

    def _start_roots(self, c, exclude, now):
        """Root the S stripe trees at S distinct random edge peers (fewer: some get several)."""
        pool = [n.addr for n in self.table.alive_nodes(now)
                if n.addr in self.edge_peers and n.addr != exclude and n.addr not in self.blocked]
        if not pool:  # nobody to root at: be every tree's root ourselves
            for s in range(c.live):
                self._extend(c, s, RELAY_HEIGHT, now)
            return
        picks = self.rng.sample(pool, c.live) if len(pool) >= c.live else pool
        for s in range(c.live):
            self._offer(c, picks[s % len(picks)], s, RELAY_HEIGHT, em.ROLE_ROOT, now)

    def _offer(self, c, addr, s, h, role, now):
        key = (addr, role)
        off = c.offers.get(key)
        if off is None:
            off = c.offers[key] = Offer(addr, role, now)
        off.pairs[s] = h
        off.next_at = now
        self._fresh.append(c)

    def _flush_offers(self, now):
        if not self._fresh:
            return
        fresh, self._fresh = self._fresh, []
        seen = set()
        for c in fresh:
            if id(c) in seen:
                continue
            seen.add(id(c))
            for off in c.offers.values():
                if off.next_at <= now and off.pairs:
                    self._send_offer(c, off, now)

    def _send_offer(self, c, off, now):
        off.attempts += 1
        rtt = self._rtt.get(off.addr, 0)
        off.next_at = now + max(self.edge.offer_retry_ms, 2 * rtt) * (1 << (off.attempts - 1))
        self._schedule(off.next_at)
        msg = em.EdgeMessage(em.ANNOUNCE, self._header(), c.cid, c.size, c.stripes, off.role,
                             sorted(off.pairs.items()), c.summary[:self.edge.summary_len])
        self._out.append((em.encode_edge_message(msg), off.addr))
        self.stats["edge_announces_sent"] += 1

    def _retry_offers(self, c, now):
        for key in list(c.offers):
            off = c.offers[key]
            if off.next_at > now:
                self._schedule(off.next_at)
                continue
            if off.attempts < self.edge.offer_attempts:
                self.stats["edge_offers_retried"] += 1
                self._send_offer(c, off, now)
                continue
            del c.offers[key]  # dead or unreachable: give its stripes to someone else
            self.stats["edge_delegates_replaced"] += 1
            relay = None
            for s, h in off.pairs.items():
                tried = c.tried.setdefault((s, h), [])
                if len(tried) < 8:
                    tried.append(off.addr)
                if off.role == em.ROLE_TREE:
                    bucket = self.table.buckets.get(h)
                    if bucket is not None and bucket.nodes:
                        self._delegate(c, s, h, bucket.nodes, now)
                else:
                    pool = [n.addr for n in self.table.alive_nodes(now) if n.addr in self.edge_peers
                            and n.addr not in tried and n.addr not in self.blocked]
                    if pool and (relay is None or off.role != em.ROLE_RELAY):
                        relay = self.rng.choice(pool)  # one new relay takes every stripe
                    if relay is not None:
                        self._offer(c, relay, s, h, off.role, now)
        self._flush_offers(now)

    # ---- inbound edge messages ---------------------------------------------------------------
    def _symbol_source(self, data, ip):
        """The checked (ip, port) of a SYMBOL's header, cached per (ip, header bytes)."""
        hkey = (ip, data[1:H])
        src = self._headers_ok.get(hkey)
        if src is None:
            if len(data) < H:
                raise DecodeError("truncated edge header")
            buf = Buffer(data)
            buf.pull_u8()
            src = self._checked_source(m.pull_header(buf), ip)
            if src is None:
                return None
            if len(self._headers_ok) > 4096:
                self._headers_ok = {}
            self._headers_ok[hkey] = src
        node = self.table.get_by_addr(src)
        if node is not None and self._now - node.seen_at > 1000:  # symbols come in streams
            self.table.insert_or_refresh(node.id, src[0], src[1], self._now)
        return src

    def _handle_edge(self, msg, ip, now):
        h = msg.header
        src = self._checked_source(h, ip)
        if src is None:
            return
        if len(self.edge_peers) < 65536:
            self.edge_peers.add(src)
        node = self.table.get_by_addr(src)
        if node is not None and node.seen_at != now:
            self.table.insert_or_refresh(h.id, ip, h.port, now)
        if msg.kind == em.ANNOUNCE:
            self._on_announce(msg, src, now)
        elif msg.kind == em.REQUEST:
            self._on_request(msg, src, now)
        else:
            self._on_refuse(msg, src, now)

    def _on_announce(self, msg, src, now):
        cid, size = msg.content_id, msg.size
        ack = _mask(s for s, _ in msg.offers)
        c = self.contents.get((cid, size))
        if c is None:
            claims = sum(1 for k in self.contents if k[0] == cid)
            if self.rays.is_processed(cid) and not claims or claims >= MAX_CLAIMS:
                self._send_request(cid, size, 0, ack, (), src)  # we have it (or too many claims)
                return
            c = self._new_content(cid, size, msg.stripes, now)
            if c is None:
                return
            c.summary = msg.summary
            c.first_source = src
            c.next_repair_at = now + 2 * self.edge.stall_ms
            c.next_sync_at = now + self.edge.sync_ms
            self._schedule(c.next_repair_at)
        elif msg.stripes != c.stripes:
            return
        c.add_holder(src, self.edge.max_holders)
        if src not in c.announcers and len(c.announcers) < self.edge.max_holders:
            c.announcers.append(src)
        want = 0
        for s, h in msg.offers:
            if msg.role != em.ROLE_TREE:
                h = RELAY_HEIGHT
            parent = c.parents[s]
            if (c.frame is None and s < c.live and (parent is None or parent == src)
                    and src in c.holder_set):
                c.parents[s] = src
                want |= 1 << s
            if msg.role != em.ROLE_RELAY:
                self._extend(c, s, h, now)
        if msg.role == em.ROLE_RELAY and not c.rooted:
            c.rooted = True
            self._start_roots(c, src, now)
        self._send_request(cid, size, want, ack, (), src)

    def _send_request(self, cid, size, want, ack, repairs, addr):
        msg = em.EdgeMessage(em.REQUEST, self._header(), cid, size, want=want, ack=ack, repairs=repairs)
        self._out.append((em.encode_edge_message(msg), addr))
        self.stats["edge_requests_sent"] += 1

    def _on_symbol(self, data, src, now):
        n = len(data)
        if n < H + rs.CHUNK_HEADER_LEN + 1:
            raise DecodeError("symbol datagram of %d bytes" % n)
        if data[H + 32] != rs.SCHEME_TAG:
            raise DecodeError("not an rs chunk")
        size = data[H + 33] | data[H + 34] << 8 | data[H + 35] << 16 | data[H + 36] << 24
        c = self.contents.get((data[H:H + 32], size))
        if c is None:
            self.stats["edge_unsolicited"] += 1
            return
        block, esi = data[H + 40], data[H + 41]
        if (n - H != CHUNK_LEN or data[H + 37] | data[H + 38] << 8 != rs.SYMBOL_SIZE
                or data[H + 39] != c.num_blocks or block >= c.num_blocks):
            raise DecodeError("rs chunk header does not match the content")
        if c.frame is not None:
            self.stats["edge_symbols_duplicate"] += 1
            return
        if c.suspects is not None and src != c.suspects[0] or src not in c.holder_set:
            self.stats["edge_unsolicited"] += 1
            return
        dec = c.decoder.blocks[block]
        if dec.done is not None or esi in dec.received:
            self.stats["edge_symbols_duplicate"] += 1
            return
        self.stats["edge_symbols_received"] += 1
        c.contributors.add(src)
        dec.add(esi, data[H + rs.CHUNK_HEADER_LEN:])
        c.last_progress = now
        if c.next_repair_at is not None and c.next_repair_at < now + self.edge.stall_ms:
            c.next_repair_at = now + self.edge.stall_ms
            c.repair_attempts = 0
        if esi < c.sent_n[block]:
            key = block << 8 | esi
            dgram = self._sym_prefix + data[H:]
            c.dgrams[key] = dgram
            c.order.append(key)
            c.by_stripe[esi % c.stripes].append(key)
            for sub in c.subs[esi % c.stripes]:
                self._send_symbol(c, sub, key, dgram)
        if dec.done is not None:
            c.blocks_left -= 1
            if c.blocks_left == 0:
                self._on_decoded(c, now)

    def _on_decoded(self, c, now):
        parts = []
        for blk in c.decoder.blocks:
            parts.extend(blk.done)
        frame = b"".join(parts)[:c.size]
        if ray_id_of(frame) == c.cid:
            self._verified(c, frame, now)
            return
        self.stats["edge_mismatches"] += 1
        if c.suspects is not None:
            self._blame(c.suspects.pop(0))
        elif len(c.contributors) == 1:
            for liar in c.contributors:
                self._blame(liar)
        else:  # several sources: try them one at a time, so the liar is caught alone
            c.suspects = [a for a in c.holders if a in c.contributors]
        if c.suspects is not None and not c.suspects:
            c.suspects = None
        c.reset_decoder()
        c.repair_attempts = 0
        c.next_repair_at = now
        self._schedule(now)

    def _blame(self, addr):
        if addr in self.blocked or addr == self.addr:
            return
        self.stats["edge_liars_blocked"] += 1
        if len(self.liars) < 1024:
            self.liars.append(addr)
        self.block_source(addr)
        for c in self.contents.values():
            c.remove_holder(addr)
            for group in (c.announcers, c.suspects or []):
                if addr in group:
                    group.remove(addr)
            for s in range(c.stripes):
                if c.parents[s] == addr:
                    c.parents[s] = None
                if addr in c.subs[s]:
                    c.subs[s].remove(addr)

    # ---- serving -----------------------------------------------------------------------------
    def _take_request_token(self, src, now):
        e = self.edge
        entry = self._req_tokens.get(src)
        if entry is None:
            if len(self._req_tokens) >= self.config.max_rate_sources:
                self._req_tokens = {}
            entry = self._req_tokens[src] = [e.request_burst, now]
        tokens = min(e.request_burst, entry[0] + (now - entry[1]) * e.request_rate_per_s / 1000)
        entry[1] = now
        entry[0] = tokens - 1 if tokens >= 1 else tokens
        return tokens >= 1

    def _on_request(self, msg, src, now):
        if not self._take_request_token(src, now):
            self.stats["edge_requests_limited"] += 1
            return
        c = self.contents.get((msg.content_id, msg.size))
        if c is None:
            if msg.want or msg.repairs:
                self._refuse(msg.content_id, em.REFUSE_NOT_HELD, src)
            return
        if msg.ack:
            for s in em.stripes_of(msg.ack & ~msg.want):  # acked, not wanted: not (or no longer) a child
                if s < c.stripes and src in c.subs[s]:
                    c.subs[s].remove(src)
            for role in (em.ROLE_TREE, em.ROLE_ROOT, em.ROLE_RELAY):
                off = c.offers.get((src, role))
                if off is None:
                    continue
                for s in em.stripes_of(msg.ack):
                    off.pairs.pop(s, None)
                if not off.pairs:
                    del c.offers[(src, role)]
        want = msg.want & ((1 << c.live) - 1)
        if want or msg.repairs:
            if c.uploaded + DGRAM_LEN > c.budget or c.per_peer.get(src, 0) + DGRAM_LEN > c.peer_cap:
                self._refuse(c.cid, em.REFUSE_BUSY, src)
                return
        if want:
            mask = 0
            for s in em.stripes_of(want):
                subs = c.subs[s]
                if src in subs:
                    mask |= 1 << s
                elif len(subs) < self.edge.max_subscribers:
                    subs.append(src)
                    mask |= 1 << s
            if mask:
                self._send_keys(c, src, mask)
        if msg.repairs and want:
            self._resend_lost(c, src, want, msg.repairs, now)
        elif msg.repairs:
            self._serve_repair(c, src, msg.repairs)

    def _send_symbol(self, c, addr, key, dgram):
        sent = c.sent.get(addr)
        if sent is None:
            if len(c.sent) >= c.stripes * self.edge.max_subscribers:
                return
            sent = c.sent[addr] = {}
        elif key in sent:
            return
        if self._upload(c, addr, key, dgram, (key & 0xFF) % c.stripes):
            sent[key] = 0

    def _upload(self, c, addr, key, dgram, stripe=-1):
        n = len(dgram)
        if c.uploaded + n > c.budget:
            self.stats["edge_budget_dropped"] += 1
            return False
        used = c.per_peer.get(addr, 0)
        if used + n > c.peer_cap:
            self.stats["edge_peer_cap_dropped"] += 1
            return False
        if len(self._queue) >= self.edge.max_queue:
            self.stats["edge_queue_dropped"] += 1
            return False
        c.per_peer[addr] = used + n
        c.uploaded += n
        if self._pace_at == NEVER:
            self._pace_at = self._now
        self._queue.append((dgram, addr, c, stripe, key))
        return True

    def _release(self, now):
        """Hand the next pace_slice_ms worth of queued symbols to the driver (FIFO); symbols for a
        child that unsubscribed meanwhile (it decoded) are dropped and refunded."""
        q = self._queue
        rate = self.edge.uplink_bps
        allowance = rate * self.edge.pace_slice_ms // 8000
        used = 0
        out = self._out
        sent = released = 0
        while q and used < allowance:
            dgram, addr, c, stripe, key = q.popleft()
            n = len(dgram)
            if stripe >= 0 and addr not in c.subs[stripe]:
                c.uploaded -= n
                c.per_peer[addr] = c.per_peer.get(addr, n) - n
                self.stats["edge_unsubscribed_dropped"] += 1
                continue
            out.append((dgram, addr))
            record = c.sent.get(addr)
            if record is not None and key in record:
                record[key] = now  # released: a retransmission may follow after a round trip
            used += n
            sent += n
            released += 1
        self.stats["edge_symbols_sent"] += released
        self.stats["edge_symbol_bytes_sent"] += sent
        self._pace_at = now + max(1, used * 8000 // rate) if q else NEVER

    def _dgram(self, c, key):
        dgram = c.dgrams.get(key)  # received (kept until verified), else regenerated now
        if dgram is None:
            dgram = self._sym_prefix + c.head + bytes((key >> 8, key & 0xFF)) + c.symbol(key)
        return dgram

    def _send_keys(self, c, addr, mask):
        """Every symbol of the stripes in ``mask`` we hold, in order, that ``addr`` lacks."""
        sent = c.sent.get(addr)
        if sent is None:
            if len(c.sent) >= c.stripes * self.edge.max_subscribers:
                return
            sent = c.sent[addr] = {}
        stripes = c.stripes
        if mask & (mask - 1) == 0:  # one stripe: walk its own list
            s = 0
            while not mask >> s & 1:
                s += 1
            keys = c.stripe_keys[s] if c.frame is not None else c.by_stripe[s]
        else:
            keys = c.keys_rr if c.frame is not None else c.order
        for key in keys:
            if key in sent or not mask >> ((key & 0xFF) % stripes) & 1:
                continue
            if not self._upload(c, addr, key, self._dgram(c, key), (key & 0xFF) % stripes):
                return
            sent[key] = 0

    def _resend_lost(self, c, src, want, repairs, now):
        """A child's sync: symbols of its stripes we released to it over a round trip ago that it
        still lacks (lost on the way) go again, so each hop recovers its own losses."""
        sent = c.sent.get(src)
        if sent is None:
            return
        grace = 2 * self._rtt.get(src, 150) + 50
        bitmaps = {}
        for block, need, bitmap in repairs:
            bitmaps[block] = bitmap
        stripes = c.stripes
        for s in em.stripes_of(want):
            if s >= stripes:
                break
            for key in c.by_stripe[s] if c.frame is None else c.stripe_keys[s]:
                t = sent.get(key)
                bitmap = bitmaps.get(key >> 8)
                if not t or bitmap is None or now - t < grace or bitmap[(key & 0xFF) >> 3] >> (key & 7) & 1:
                    continue
                if not self._upload(c, src, key, self._dgram(c, key), s):
                    return
                sent[key] = 0
                self.stats["edge_repair_symbols_served"] += 1

    def _serve_repair(self, c, src, repairs):
        served = 0
        for block, need, bitmap in repairs:
            if block >= c.num_blocks:
                continue
            keys = []
            if c.frame is not None:
                esi = c.next_reserve[block]
                while len(keys) < need and esi <= 255:
                    keys.append(block << 8 | esi)
                    esi += 1
                c.next_reserve[block] = esi
                candidates = range(c.sent_n[block])
            else:  # what we hold, less what is already on its way to the requester
                sent = c.sent.get(src, ())
                candidates = [k & 0xFF for k in c.order if k >> 8 == block and k not in sent]
            for esi in candidates:
                if len(keys) >= need:
                    break
                if not bitmap[esi >> 3] >> (esi & 7) & 1:
                    keys.append(block << 8 | esi)
            for key in keys:
                if not self._upload(c, src, key, self._dgram(c, key)):
                    return
                served += 1
        self.stats["edge_repair_symbols_served"] += served

    def _refuse(self, cid, reason, src):
        if reason == em.REFUSE_BUSY:
            self.stats["edge_refused_busy"] += 1
        else:
            self.stats["edge_refused_not_held"] += 1
        msg = em.EdgeMessage(em.REFUSE, self._header(), cid, reason=reason)
        self._out.append((em.encode_edge_message(msg), src))

    def _on_refuse(self, msg, src, now):
        """A refusal proves nothing, but ends our asking: src stops being a parent (no more syncs
        to it; a later offer may re-parent the stripe) and goes last among the repair sources."""
        for c in self.contents.values():
            if c.cid != msg.content_id or c.frame is not None:
                continue
            for s in range(c.live):
                if c.parents[s] == src:
                    c.parents[s] = None
            if src in c.holder_set and len(c.holders) > 1:
                c.holders.remove(src)
                c.holders.append(src)

    # ---- timers: offer retries, pull repair, expiry ------------------------------------------
    def _run_contents(self, now):
        self._wake = NEVER
        for key in list(self.contents):
            c = self.contents[key]
            if c.frame is not None:
                if now >= c.expires_at:
                    del self.contents[key]
                    continue
                self._schedule(c.expires_at)
            elif now - c.created_at > self.edge.pull_ttl or c.repair_attempts >= self.edge.repair_attempts:
                del self.contents[key]
                self.stats["edge_expired"] += 1
                continue
            elif c.next_repair_at is not None:
                if now >= c.next_repair_at:
                    self._repair(c, now)
                if now >= c.next_sync_at:
                    self._sync(c, now)
                self._schedule(c.next_repair_at)
                self._schedule(c.next_sync_at)
            self._retry_offers(c, now)

    def _repair(self, c, now):
        c.repair_attempts += 1
        c.next_repair_at = now + self.edge.stall_ms
        targets = c.suspects[:1] if c.suspects is not None else c.holders
        if not targets:
            targets = self._fallback_holders(c, now)
            if not targets:
                return
        target = targets[c.repair_turn % len(targets)]
        c.repair_turn += 1
        repairs = []
        for b, blk in enumerate(c.decoder.blocks):
            if blk.done is None and len(repairs) < em.MAX_REQUEST_BLOCKS:
                need = blk.k - len(blk.received)
                repairs.append((b, min(255, need + need // 4 + 2), blk.bitmap()))
        if repairs:
            self.stats["edge_repair_requests_sent"] += 1
            self._send_request(c.cid, c.size, 0, 0, repairs, target)

    def _sync(self, c, now):
        c.next_sync_at = now + self.edge.sync_ms
        if c.suspects is not None:
            return
        masks = {}
        for s in range(c.live):
            p = c.parents[s]
            if p is not None:
                masks[p] = masks.get(p, 0) | 1 << s
        if not masks:
            return
        repairs = []
        for b, blk in enumerate(c.decoder.blocks):
            if blk.done is None and len(repairs) < em.MAX_REQUEST_BLOCKS:
                repairs.append((b, 255, blk.bitmap()))
        if repairs:
            for addr, mask in masks.items():
                self._send_request(c.cid, c.size, mask, 0, repairs, addr)

    def _fallback_holders(self, c, now):
        """No holder left to ask: any alive edge peer may hold the body by now."""
        alive = [n.addr for n in self.table.alive_nodes(now)
                 if n.addr in self.edge_peers and n.addr not in c.holders]
        k = self.edge.fallback_probes
        picks = alive if len(alive) <= k else self.rng.sample(alive, k)
        for addr in picks:
            c.add_holder(addr, self.edge.max_holders)
        self.stats["edge_fallback_probes"] += len(picks)
        return picks

    def _header(self):
        return m.Header(self.id, self.nonce, self.port, self.config.network_id)
