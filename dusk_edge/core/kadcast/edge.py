# Theory of operation: EdgePeer, the size-aware "edge" broadcast mode (network.broadcast = "edge",
# docs/edge-broadcast.md), a Peer (peer.py) with the same aioquic-style interface.
# - Small frames (<= large_threshold) travel exactly as in Kadcast (tree push with FEC), so
#   as-specified peers interoperate; origin hiding hands them to a relay as BROADCAST height 128.
# - Large frames travel down S "stripe trees" (SplitStream-like): rs symbol (b, e) belongs to
#   stripe e mod S; each node pulls a stripe from its first offerer and forwards it cut-through to
#   one delegate per lower bucket; a node that decodes verifies the content id, delivers and
#   regenerates what its children lack. Per-content state: edge_stripes.py; wire: edge_messages.py.
# - Origin hiding: the originator offers every stripe (role RELAY) to a relay picked among its
#   relay_pool lowest-RTT edge peers; the relay pulls everything and roots the S trees at S random
#   edge peers (role ROOT, height 128).
# This module holds the configuration, the interface, origin hiding with the RTT probes, and the
# content lifecycle (create, verify, serve as-specified delegates); the work is in three mixins:
#   edge_tree.py  offers and acknowledgements: building the stripe trees
#   edge_pull.py  symbols in, decode/verify, liars, per-hop sync, pull repair, expiry
#   edge_serve.py subscriptions, resends, repair answers, upload budgets and pacing
# RTTs are the ping round trips Peer measures (_rtt). Edge capability is learned from the Version
# patch flag (EDGE_VERSION_FLAG); as-specified delegates get Kadcast FEC chunks once we decode.
from collections import deque

from dusk_edge.core.errors import DecodeError, LocalProtocolError, RemoteProtocolError
from dusk_edge.core.kadcast import edge_messages as em
from dusk_edge.core.kadcast import messages as m
from dusk_edge.core.kadcast import rs
from dusk_edge.core.kadcast.config import KadcastConfig
from dusk_edge.core.kadcast.edge_messages import RELAY_HEIGHT
from dusk_edge.core.kadcast.edge_messages import SYMBOL_DGRAM_LEN as DGRAM_LEN
from dusk_edge.core.kadcast.edge_pull import EdgePull
from dusk_edge.core.kadcast.edge_serve import EdgeServe
from dusk_edge.core.kadcast.edge_stripes import NEVER_AT as NEVER
from dusk_edge.core.kadcast.edge_stripes import Content
from dusk_edge.core.kadcast.edge_tree import EdgeTree
from dusk_edge.core.kadcast.peer import RAY_OFFSET, BroadcastReceived, Peer
from dusk_edge.core.kadcast.rs import ray_id_of
from dusk_edge.core.wire import Buffer

H = em.HEADER_END                 # start of an edge message body


class EdgeConfig:
    """Tunables of the edge mode (times in ms). ``budget_copies``: SYMBOL datagram bytes one node
    uploads per large message, in multiples of one full sent set (every ESI < N_b of every block,
    edge_stripes.sent_set_bytes); ``peer_copies``: at most this much to one peer."""
    __slots__ = ("large_threshold", "summary_len", "relay", "relay_pool", "stripes",
                 "repair_percent", "offer_retry_ms", "offer_attempts", "stall_ms",
                 "repair_attempts", "pull_ttl", "content_ttl", "budget_copies", "peer_copies",
                 "request_rate_per_s", "request_burst", "probe_interval", "probe_batch",
                 "fallback_probes", "max_contents", "max_subscribers", "max_holders", "uplink_bps",
                 "pace_slice_ms", "max_queue", "sync_ms", "echo_ms", "echo_attempts", "max_echoes",
                 "interior_cap", "forced_after", "repair_ask_percent")

    def __init__(self, **overrides):
        self.large_threshold = 8192
        self.summary_len = 256
        self.relay = True
        self.relay_pool = 8
        self.stripes = 16
        self.repair_percent = 30
        self.offer_retry_ms = 150
        self.offer_attempts = 5       # then the delegate is replaced (retries back off x2)
        self.stall_ms = 500
        self.repair_attempts = 30
        self.repair_ask_percent = 25  # one pull repair asks <= this % of k_b per block (0: no cap)
        self.interior_cap = 2.0       # decline tree heights projecting more upload (copies; 0: off)
        self.forced_after = 3         # declines of one (stripe, bucket) before the offer is forced
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
        self.sync_ms = 300            # undecoded: every sync_ms ask each parent for lost symbols
        self.echo_ms = 1500           # a small message handed to a relay must come back this fast ...
        self.echo_attempts = 2        # ... else another relay; after these, our own tree (no hiding)
        self.max_echoes = 256         # hand-offs awaiting their echo
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


class EdgePeer(EdgeTree, EdgePull, EdgeServe, Peer):
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
        # paced symbols: (datagram, addr, content, stripe or -1, key)
        self._queue = deque((), self.edge.max_queue + 1)
        self._pace_at = NEVER         # when the next slice of the queue may leave
        self._echoes = {}             # ray id -> [deadline, frame, relays tried]: small hand-offs
        for name in ("edge_announces_sent", "edge_requests_sent",
                     "edge_symbols_sent", "edge_symbol_bytes_sent", "edge_symbols_received",
                     "edge_symbols_duplicate", "edge_budget_dropped", "edge_peer_cap_dropped",
                     "edge_refused_busy", "edge_refused_not_held", "edge_requests_limited",
                     "edge_decoded", "edge_repair_requests_sent", "edge_repair_symbols_served",
                     "edge_mismatches", "edge_liars_blocked", "edge_relayed", "edge_offers_retried",
                     "edge_delegates_replaced", "edge_expired", "edge_unsolicited",
                     "edge_fallback_probes", "edge_legacy_sends", "edge_queue_dropped",
                     "edge_unsubscribed_dropped", "edge_echo_missed", "edge_relay_fallbacks"):
            self.stats[name] = 0

    # ---- interface -------------------------------------------------------------------------
    def datagrams_to_send(self, now):
        if self._queue and now >= self._pace_at:
            self._release(now)
        return Peer.datagrams_to_send(self, now)

    def get_timer(self):
        deadline = Peer.get_timer(self)
        t = self._rtt_probe_at if self._rtt_probe_at < self._wake else self._wake
        for entry in self._echoes.values():
            if entry[0] < t:
                t = entry[0]
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
        if self._echoes:
            self._check_echoes(now)

    def receive_datagram(self, data, addr, now):
        self._now = now
        if not data or data[0] not in em.EDGE_TYPES:
            Peer.receive_datagram(self, data, addr, now)  # counts bytes_received
            return
        self.stats["bytes_received"] += len(data)
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
            raise LocalProtocolError("broadcast frame of %d bytes above %d"
                                     % (len(frame), self.config.max_broadcast_len))
        cid = ray_id_of(frame)
        if (cid, len(frame)) in self.contents or self.rays.is_processed(cid):
            return cid  # already travelling through the stripe trees
        self.rays.mark_processed(cid, now)
        c = self.adopt(cid, frame, now)
        c.origin = True
        c.load = self._cap_bytes(c)  # it streams to the relay or the roots: no interior role
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
                "bytes_sent": self.stats["bytes_sent"],
                "bytes_received": self.stats["bytes_received"],
                "symbol_bytes_sent": self.stats["edge_symbol_bytes_sent"],
                "held": len(held), "pulls": len(contents) - len(held),
                "uploaded_for_held": sum(c.uploaded for c in contents),
                "budget_for_held": sum(c.budget for c in contents),
                "max_budget_used": max([c.uploaded * 100 // max(1, c.budget) for c in contents]
                                       or [0])}

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
        """Peer.pick_relay among the alive (edge-capable: ``need_edge``) peers; an address."""
        alive = [n for n in self.table.alive_nodes(self._now)
                 if not need_edge or n.addr in self.edge_peers]
        node = self.pick_relay(self.edge.relay_pool, alive)
        return node.addr if node is not None else None

    def _hand_small_to_relay(self, frame, relay, now, tried=None):
        """Send a small frame to ``relay`` at height 128 and wait for its echo: the tree the relay
        starts reaches us too. No echo within echo_ms (a dead or dropping relay) tries another
        relay, then our own tree, so a relay cannot silently swallow our votes."""
        ray_id = ray_id_of(frame)
        self.rays.mark_processed(ray_id, now)
        encoder = self.fec.new_encoder(frame, ray_id)
        self.rays.keep_encoder(ray_id, encoder)
        self._send_chunks(encoder.initial_chunks(), RELAY_HEIGHT, relay)
        self.stats["edge_relayed"] += 1
        if ray_id in self._echoes or len(self._echoes) < self.edge.max_echoes:
            self._echoes[ray_id] = [now + self.edge.echo_ms, frame, (tried or []) + [relay]]
        return ray_id

    def _is_duplicate_chunk(self, data, ip, now):
        if not Peer._is_duplicate_chunk(self, data, ip, now):
            return False
        if self._echoes:  # our own ray came back: the relay started the tree
            self._echoes.pop(bytes(data[RAY_OFFSET:RAY_OFFSET + 32]), None)
        return True

    def _check_echoes(self, now):
        for ray_id in [r for r, entry in self._echoes.items() if entry[0] <= now]:
            _, frame, tried = self._echoes.pop(ray_id)
            self.stats["edge_echo_missed"] += 1
            self._rtt.pop(tried[-1], None)  # out of the relay pool until it answers a ping again
            relay = None
            if len(tried) < self.edge.echo_attempts:
                alive = [n.addr for n in self.table.alive_nodes(now) if n.addr not in tried]
                relay = self.rng.choice(alive) if alive else None
            if relay is not None:
                self._hand_small_to_relay(frame, relay, now, tried)
            else:
                self.stats["edge_relay_fallbacks"] += 1
                Peer.broadcast(self, frame, None, now)

    # ---- contents ----------------------------------------------------------------------------
    def _new_content(self, cid, size, stripes, now):
        if len(self.contents) >= self.edge.max_contents:
            done = [(c.created_at, k) for k, c in self.contents.items() if c.frame is not None]
            if not done:
                return None
            del self.contents[min(done)[1]]
        c = Content(cid, size, stripes, self.edge.repair_percent, now, self.edge.budget_copies,
                    self.edge.peer_copies, DGRAM_LEN)
        c.head = bytes(cid) + bytes((rs.SCHEME_TAG, size & 0xFF, (size >> 8) & 0xFF,
                                     (size >> 16) & 0xFF, size >> 24, rs.SYMBOL_SIZE & 0xFF,
                                     rs.SYMBOL_SIZE >> 8, c.num_blocks))
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
        for addr, mask in c.parent_masks().items():  # tell our parents to stop: ack without want
            self._send_request(c.cid, c.size, 0, mask, (), addr)  # unsubscribes
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

    def _header(self):
        return m.Header(self.id, self.nonce, self.port, self.config.network_id)
