# Theory of operation: EdgePeer, the size-aware "edge" broadcast mode (network.broadcast = "edge",
# docs/edge-broadcast.md), a Peer (peer.py) with the same aioquic-style interface.
# - Small frames (<= large_threshold) travel exactly as in Kadcast (tree push with FEC), so
#   as-specified peers interoperate; only the start differs (origin hiding, below).
# - Large frames: the tree carries a small ANNOUNCE (content id, size, summary, HAVE) instead of the
#   body. A node that hears HAVE pulls the body (edge_pull.py): REQUESTs for disjoint rs symbol sets
#   go to every holder it knows, SYMBOLs come back, stalls re-ask (pull repair), refusals reassign
#   the refused share and their hints add holders. Once decoded and checked against the content id,
#   the node holds the body, serves it and announces HAVE down its own subtree (heights < its own).
# - Serving limits: per content at most budget_copies full copies (in datagram bytes) leave this
#   node, each peer gets at most peer_copies of one content, and REQUESTs per peer are token-bucket
#   limited. Over budget a node answers REFUSE(busy) with hints (peers it served).
# - Lies: a HAVE claim (id, size) whose size differs from the body that decodes for that id, or a
#   body that does not hash to its id, blocklists the peer proven to have made it.
# - Origin hiding: broadcast(frame, None) hands the message to a relay picked at random among the
#   relay_pool peers with the lowest measured ping RTT; the relay starts the tree (small: BROADCAST
#   height 128 so the relay covers all its buckets, which an as-specified relay also does; large:
#   ANNOUNCE height 128 to an edge relay, which pulls the body and announces it). The originator
#   never sends tree heights itself.
# RTTs are the ping round trips Peer measures (_rtt). Edge capability is learned from the Version patch flag (EDGE_VERSION_FLAG) of PING/PONG/NODES;
# non-edge picks of a large-message fan-out get the as-specified FEC chunks instead.
from dusk_edge.core.errors import LocalProtocolError, RemoteProtocolError
from dusk_edge.core.kadcast import edge_messages as em
from dusk_edge.core.kadcast import messages as m
from dusk_edge.core.kadcast import rs
from dusk_edge.core.kadcast.config import KadcastConfig
from dusk_edge.core.kadcast.edge_pull import Pull
from dusk_edge.core.kadcast.peer import BroadcastReceived, Peer
from dusk_edge.core.kadcast.rs import ray_id_of

RELAY_HEIGHT = 128                # one above any bucket: the receiver covers buckets 0..127
MAX_WAITING = 16                  # requests a still-pulling node queues per content
SYMBOL_DATAGRAM = 1 + m.HEADER_LEN - 1 + rs.CHUNK_HEADER_LEN + rs.SYMBOL_SIZE


class EdgeConfig:
    """Tunables of the edge mode (times in ms). ``budget_copies``: full copies of one large
    message a node uploads at most; ``peer_copies``: at most this much of it to one peer."""
    __slots__ = ("large_threshold", "summary_len", "relay_pool", "relay", "announce_copies",
                 "gather_ms", "stall_ms", "refuse_ms", "margin_percent", "budget_copies",
                 "peer_copies", "max_pulls", "max_attempts", "pull_ttl", "request_rate_per_s",
                 "request_burst", "probe_interval", "probe_batch", "fallback_probes", "max_held")

    def __init__(self, **overrides):
        self.large_threshold = 8192
        self.summary_len = 256
        self.relay = True
        self.relay_pool = 8
        self.announce_copies = 2
        self.gather_ms = 30
        self.stall_ms = 400
        self.refuse_ms = 1000
        self.margin_percent = 30
        self.budget_copies = 4
        self.peer_copies = 1.5
        self.max_pulls = 32
        self.max_attempts = 40
        self.pull_ttl = 60000
        self.request_rate_per_s = 50
        self.request_burst = 100
        self.probe_interval = 10000
        self.probe_batch = 8
        self.fallback_probes = 3
        self.max_held = 16
        for name, value in overrides.items():
            if name not in self.__slots__:
                raise LocalProtocolError("edge: unknown setting %r" % name)
            setattr(self, name, value)


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


class HeldContent:
    """A large body this node holds and serves, with its upload accounting."""
    __slots__ = ("frame", "encoder", "uploaded", "budget", "served_to", "served_full", "symbols")

    def __init__(self, frame, budget_copies):
        self.frame = frame
        self.encoder = None
        self.uploaded = 0
        _, sizes = rs.layout(len(frame))
        self.symbols = sum(sizes)
        self.budget = int(budget_copies * self.symbols * SYMBOL_DATAGRAM)
        self.served_to = {}
        self.served_full = []


class EdgePeer(Peer):
    def __init__(self, ip, port, fec, rng, config=None, bootstrappers=(), nonce=None, now=0,
                 edge=None):
        Peer.__init__(self, ip, port, fec, rng, edge_kadcast_config(config or KadcastConfig()),
                      bootstrappers, nonce, now)
        self.edge = edge or EdgeConfig()
        self.edge_peers = set()
        self.pulls = {}
        self.held = {}
        self.liars = []
        self._held_order = []
        self._req_tokens = {}
        self._rtt_probe_at = now
        self._now = now
        self._edge_head = self._header_bytes()
        for name in ("bytes_sent", "bytes_received", "edge_announces_sent", "edge_requests_sent",
                     "edge_symbols_served", "edge_symbols_received", "edge_refused_busy",
                     "edge_refused_not_held", "edge_requests_limited", "edge_pulls_done",
                     "edge_pull_rounds", "edge_reassigned", "edge_mismatches", "edge_liars_blocked",
                     "edge_relayed", "edge_pulls_expired", "edge_unsolicited", "edge_fallback_probes"):
            self.stats[name] = 0

    # ---- interface -------------------------------------------------------------------------
    def datagrams_to_send(self, now):
        out = Peer.datagrams_to_send(self, now)
        self.stats["bytes_sent"] += sum(len(d) for d, _ in out)
        return out

    def get_timer(self):
        deadline = Peer.get_timer(self)
        for t in [self._rtt_probe_at] + [p.next_request_at for p in self.pulls.values()]:
            if t is not None and (deadline is None or t < deadline):
                deadline = t
        return deadline

    def handle_timer(self, now):
        self._now = now
        Peer.handle_timer(self, now)
        if now >= self._rtt_probe_at:
            self._probe_rtts(now)
        self._run_pulls(now)

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
            self._handle_edge(em.decode_edge_message(data), ip, now)
        except RemoteProtocolError:
            self._count_invalid(addr)

    def broadcast(self, frame, height=None, now=0):
        """Originate (height None) or relay (height h: buckets 0..h) a frame; returns its id."""
        self._now = now
        if len(frame) <= self.edge.large_threshold:
            relay = self._pick_relay(False) if height is None and self.edge.relay else None
            if relay is None:
                return Peer.broadcast(self, frame, height, now)
            return self._hand_small_to_relay(frame, relay, now)
        if len(frame) > self.config.max_broadcast_len:
            raise LocalProtocolError("broadcast frame of %d bytes above %d" % (len(frame), self.config.max_broadcast_len))
        cid = ray_id_of(frame)
        self.rays.mark_processed(cid, now)
        self._hold(cid, frame)
        relay = self._pick_relay(True) if height is None and self.edge.relay else None
        if relay is not None:
            self.stats["edge_relayed"] += 1
            self._send_announce(cid, frame, RELAY_HEIGHT, relay)
        else:
            top = 127 if height is None else min(height, 127)
            self._announce_down(cid, frame, range(top + 1))
        return cid

    def bandwidth(self):
        """Upload budget and bandwidth counters for status/metrics."""
        held = list(self.held.values())
        return {"mode": "edge", "budget_copies": self.edge.budget_copies,
                "bytes_sent": self.stats["bytes_sent"], "bytes_received": self.stats["bytes_received"],
                "held": len(held), "pulls": len(self.pulls),
                "uploaded_for_held": sum(h.uploaded for h in held),
                "budget_for_held": sum(h.budget for h in held),
                "max_budget_used": max([h.uploaded * 100 // max(1, h.budget) for h in held] or [0])}

    # ---- origin hiding and latency probes ----------------------------------------------------
    def _handle(self, msg, ip, now):
        Peer._handle(self, msg, ip, now)
        src = (ip, msg.header.port)
        if msg.version is not None and msg.version[2] & em.EDGE_VERSION_FLAG:
            if len(self.edge_peers) < 65536:
                self.edge_peers.add(src)

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

    # ---- announcing --------------------------------------------------------------------------
    def _hold(self, cid, frame):
        if cid not in self.held:
            self._held_order.append(cid)
        self.held[cid] = HeldContent(frame, self.edge.budget_copies)
        while len(self._held_order) > self.edge.max_held:
            self.held.pop(self._held_order.pop(0), None)
        return self.held[cid]

    def _send_announce(self, cid, frame, height, addr):
        msg = em.EdgeMessage(em.ANNOUNCE, self._header(), cid, height=height, flags=em.FLAG_HAVE,
                             size=len(frame), summary=frame[:self.edge.summary_len])
        data = em.encode_edge_message(msg)
        for _ in range(self.edge.announce_copies):
            self._out.append((data, addr))
        self.stats["edge_announces_sent"] += 1

    def _announce_down(self, cid, frame, heights):
        legacy = None
        for height in heights:
            bucket = self.table.buckets.get(height)
            if bucket is None or not bucket.nodes:
                continue
            nodes = bucket.nodes
            picks = nodes if len(nodes) <= self.config.beta else self.rng.sample(nodes, self.config.beta)
            for node in picks:
                if node.addr in self.edge_peers:
                    self._send_announce(cid, frame, height, node.addr)
                    continue
                if legacy is None:  # an as-specified peer: the Kadcast FEC chunks, as a Peer would
                    encoder = self.fec.new_encoder(frame, cid)
                    self.rays.keep_encoder(cid, encoder)
                    legacy = encoder.initial_chunks()
                self._send_chunks(legacy, height, node.addr)

    def _header(self):
        return m.Header(self.id, self.nonce, self.port, self.config.network_id)

    def _send_edge(self, msg, addr):
        self._out.append((em.encode_edge_message(msg), addr))

    # ---- inbound edge messages ---------------------------------------------------------------
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
        elif msg.kind == em.SYMBOL:
            self._on_symbol(msg, src, now)
        else:
            self._on_refuse(msg, src, now)

    def _on_announce(self, msg, src, now):
        cid, size = msg.content_id, msg.size
        if cid in self.held or self.rays.is_processed(cid) or size > self.config.max_broadcast_len:
            return
        key = (cid, size)
        pull = self.pulls.get(key)
        if pull is None:
            if len(self.pulls) >= self.edge.max_pulls:
                return
            pull = self.pulls[key] = Pull(cid, size, msg.summary, msg.height, now, src)
            pull.next_request_at = now + self.edge.gather_ms
        if msg.height > pull.height:
            pull.height = msg.height
        if msg.flags & em.FLAG_HAVE:
            pull.add_holder(src)
            pull.add_announcer(src)

    def _on_refuse(self, msg, src, now):
        for pull in self.pulls.values():
            if pull.content_id != msg.content_id or src not in pull.outstanding:
                continue
            pull.refused[src] = now
            if pull.suspects and pull.suspects[0] == src:
                pull.forget_holder(src)
                pull.reset_decoder()
            if msg.reason == em.REFUSE_BUSY:
                self.stats["edge_refused_busy"] += 1
            else:
                self.stats["edge_refused_not_held"] += 1
            for info in msg.hints:
                addr = (bytes(info.ip), info.port)
                if addr != self.addr and addr not in self.blocked:
                    pull.add_holder(addr)
            self._reassign(pull, src, now)

    def _on_symbol(self, msg, src, now):
        ray_id, key, block, esi, symbol = rs.pull_chunk(msg.chunk)
        size = key[1] | key[2] << 8 | key[3] << 16 | key[4] << 24
        pull = self.pulls.get((ray_id, size))
        if pull is None or src not in pull.outstanding:
            self.stats["edge_unsolicited"] += 1
            return
        if pull.suspects is not None and src != pull.suspects[0]:
            return
        self.stats["edge_symbols_received"] += 1
        before = pull.received_count()
        frame = pull.add_symbol(block, esi, symbol, src)
        if pull.received_count() > before:
            pull.next_request_at = now + self.edge.stall_ms
        if frame is not None:
            self._on_decoded(pull, frame, now)

    def _on_decoded(self, pull, frame, now):
        if ray_id_of(frame) == pull.content_id:
            self._complete(pull, frame, now)
            return
        self.stats["edge_mismatches"] += 1
        sole = pull.sole_server()
        if sole is not None:
            self._blame(sole)
            pull.forget_holder(sole)
            pull.reset_decoder()
        else:
            pull.restart_single_source()
        pull.next_request_at = now

    def _complete(self, pull, frame, now):
        cid = pull.content_id
        del self.pulls[(cid, pull.size)]
        for key in [k for k in self.pulls if k[0] == cid]:
            for liar in self.pulls.pop(key).announcers:  # HAVE of a size this id does not have
                self._blame(liar)
        self.rays.mark_processed(cid, now)
        held = self._hold(cid, frame)
        for waiter, wants in pull.waiting.items():
            self._serve(held, cid, wants, waiter)
        self.stats["edge_pulls_done"] += 1
        self.stats["delivered"] += 1
        self._events.append(BroadcastReceived(frame, pull.first_source, pull.height, cid))
        if self.config.auto_propagate and pull.height > 0:
            self._announce_down(cid, frame, range(min(pull.height, RELAY_HEIGHT)))

    def _blame(self, addr):
        if addr in self.blocked or addr == self.addr:
            return
        self.stats["edge_liars_blocked"] += 1
        if len(self.liars) < 1024:
            self.liars.append(addr)
        self.block_source(addr)
        for pull in self.pulls.values():
            pull.forget_holder(addr)

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
        held = self.held.get(msg.content_id)
        if held is None or len(held.frame) != msg.size:
            pull = self.pulls.get((msg.content_id, msg.size))
            if pull is not None and (src in pull.waiting or len(pull.waiting) < MAX_WAITING):
                pull.waiting[src] = msg.wants  # served once decoded (store and forward)
                return
            self._refuse(msg.content_id, em.REFUSE_NOT_HELD, src, None)
            return
        self._serve(held, msg.content_id, msg.wants, src)

    def _serve(self, held, cid, wants, src):
        if held.encoder is None:
            held.encoder = rs.RsEncoder(held.frame)
        peer_cap = int(self.edge.peer_copies * held.symbols) + 8
        served = held.served_to.get(src, 0)
        prefix = bytes((em.SYMBOL,)) + self._edge_head
        for block, bitmap in wants:
            for esi in em.esis_of(bitmap):
                if held.uploaded + SYMBOL_DATAGRAM > held.budget or served >= peer_cap:
                    held.served_to[src] = served
                    self._refuse(cid, em.REFUSE_BUSY, src, held)
                    return
                self._out.append((prefix + rs.push_chunk(cid, held.encoder, block, esi), src))
                held.uploaded += SYMBOL_DATAGRAM
                served += 1
                self.stats["edge_symbols_served"] += 1
        held.served_to[src] = served
        if served >= held.symbols // 2 and src not in held.served_full and len(held.served_full) < 64:
            held.served_full.append(src)

    def _refuse(self, cid, reason, src, held):
        hints = []
        if held is not None:
            picks = [a for a in held.served_full if a != src]
            picks = picks if len(picks) <= em.MAX_HINTS else self.rng.sample(picks, em.MAX_HINTS)
            hints = [m.PeerInfo(a[0], a[1], self._expected_id(a[0], a[1])) for a in picks]
        self._send_edge(em.EdgeMessage(em.REFUSE, self._header(), cid, reason=reason, hints=hints), src)

    # ---- pulling -----------------------------------------------------------------------------
    def _run_pulls(self, now):
        for key in list(self.pulls):
            pull = self.pulls[key]
            if pull.next_request_at is None or now < pull.next_request_at:
                continue
            if pull.attempts >= self.edge.max_attempts or now - pull.created_at > self.edge.pull_ttl:
                del self.pulls[key]
                self.stats["edge_pulls_expired"] += 1
                continue
            holders = pull.usable_holders(now, self.edge.refuse_ms)
            if not holders:
                holders = self._fallback_holders(pull, now)
            pull.attempts += 1
            pull.next_request_at = now + self.edge.stall_ms
            if holders:
                self.stats["edge_pull_rounds"] += 1
                self._send_requests(pull, pull.plan(holders, self.edge.margin_percent))

    def _fallback_holders(self, pull, now):
        """No holder left to ask: any alive edge peer may hold the body by now."""
        alive = [n.addr for n in self.table.alive_nodes(now)
                 if n.addr in self.edge_peers and n.addr not in pull.holders]
        picks = alive if len(alive) <= self.edge.fallback_probes else self.rng.sample(alive, self.edge.fallback_probes)
        for addr in picks:
            pull.add_holder(addr)
        self.stats["edge_fallback_probes"] += len(picks)
        return picks

    def _send_requests(self, pull, plan):
        for holder, wants in plan:
            pull.outstanding[holder] = wants
            for i in range(0, len(wants), em.MAX_REQUEST_BLOCKS):
                part = wants[i:i + em.MAX_REQUEST_BLOCKS]
                self._send_edge(em.EdgeMessage(em.REQUEST, self._header(), pull.content_id,
                                               size=pull.size, wants=part), holder)
                self.stats["edge_requests_sent"] += 1

    def _reassign(self, pull, refuser, now):
        """Ask the other usable holders for what ``refuser`` will not send."""
        holders = [h for h in pull.usable_holders(now, self.edge.refuse_ms) if h != refuser]
        wants = pull.outstanding.get(refuser)
        if not holders or not wants:
            return
        self.stats["edge_reassigned"] += 1
        self._send_requests(pull, pull.split_wants(wants, holders))
