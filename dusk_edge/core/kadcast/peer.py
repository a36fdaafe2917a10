# Theory of operation: the Kadcast protocol state machine (PROTOCOL.md §1.4-§1.9), sans I/O in the
# aioquic style. The driver feeds receive_datagram(data, addr, now) and handle_timer(now), sends
# what datagrams_to_send(now) returns, arms get_timer() and drains next_event(). ``addr`` is
# (packed ip octets, port). The application calls broadcast(frame, height, now).
# Inbound order: blocklist, per-ip token bucket, a cheap drop of chunks of already-processed rays,
# full decode, network id, id-matches-sender (the id is bound to udp source ip + header port), then
# version check and table insert (non-broadcast only) and the handler. Broadcast: the originator
# sends to <= beta random nodes of every bucket i with height i; a receiver at height h re-sends to
# buckets 0..h-1 (subtree delegation). Each chunk of a ray goes through the FEC scheme (rays.py).
from collections import deque

from dusk_edge.core.errors import DecodeError, LocalProtocolError, RemoteProtocolError
from dusk_edge.core.kadcast import messages as m
from dusk_edge.core.kadcast.config import KadcastConfig
from dusk_edge.core.kadcast.ids import compute_id, find_nonce, id_at_distance
from dusk_edge.core.kadcast.rays import RayCache
from dusk_edge.core.kadcast.routing import PENDING, RoutingTable
from dusk_edge.core.kadcast.rs import ray_id_of

RAY_OFFSET = m.BROADCAST_FRAME_OFFSET
RELAY_HEIGHT = 128  # above every bucket: the receiver forwards to all of them, like an originator


def spend_token(entry, now, rate_per_s, burst):
    """Token bucket ``entry`` = [tokens, last refill ms]: refill at rate_per_s up to burst, then
    take one token if there is one; True when taken."""
    tokens = min(burst, entry[0] + (now - entry[1]) * rate_per_s / 1000)
    entry[1] = now
    entry[0] = tokens - 1 if tokens >= 1 else tokens
    return tokens >= 1


class BroadcastReceived:
    """Event: a gossip frame arrived (``height`` as received, ``ray_id`` its Blake2s id)."""
    __slots__ = ("payload", "source", "height", "ray_id")

    def __init__(self, payload, source, height, ray_id):
        self.payload = payload
        self.source = source
        self.height = height
        self.ray_id = ray_id


class Peer:
    def __init__(self, ip, port, fec, rng, config=None, bootstrappers=(), nonce=None, now=0):
        self.config = config or KadcastConfig()
        self.ip = bytes(ip)
        self.port = port
        self.addr = (self.ip, port)
        self.id = compute_id(self.ip, port)
        self.nonce = find_nonce(self.id, self.config.pow_bits) if nonce is None else nonce
        self.rng = rng
        self.fec = fec
        c = self.config
        self.table = RoutingTable(self.id, c.k, c.node_ttl, c.evict_after)
        self.rays = RayCache(fec, c.cache_ttl, c.max_receiving_rays, c.max_receiving_bytes,
                             c.max_served_rays)
        self.bootstrappers = [a for a in bootstrappers if tuple(a) != self.addr]
        self.blocked = set()
        self.stats = {"sent": 0, "received": 0, "rate_limited": 0, "invalid": 0, "blocked": 0,
                      "duplicate_chunks": 0, "repair_requests_sent": 0, "repair_chunks_served": 0,
                      "delivered": 0, "foreign_network": 0, "bad_id": 0, "bad_version": 0,
                      "bytes_sent": 0, "bytes_received": 0}
        self._out = []
        self._events = deque((), 100000)
        self._tokens = {}
        self._invalid = {}
        self._id_cache = {}
        self._served_to = {}
        self._asked = {}
        self._probe_at = {}
        self._rtt = {}
        self._prefix = bytes((m.BROADCAST,)) + self._header_bytes()
        # header + version: the fixed start of every non-broadcast message we send
        self._head = m.encode_message(m.Message(m.PING, m.Header(
            self.id, self.nonce, self.port, c.network_id), version=c.version))[1:]
        self._now = now
        self._bootstrap_at = now
        self._refresh_at = now + c.bucket_ttl
        self._prune_at = now + c.cache_ttl // 2

    # ---- the aioquic-style interface ---------------------------------------------------------
    def datagrams_to_send(self, now):
        out, self._out = self._out, []
        self.stats["sent"] += len(out)
        n = 0
        for data, _ in out:
            n += len(data)
        self.stats["bytes_sent"] += n
        return out

    def next_event(self):
        return self._events.popleft() if self._events else None

    def get_timer(self):
        deadline = min(self._bootstrap_at, self._refresh_at, self._prune_at)
        ray_deadline = self.rays.next_deadline()
        return deadline if ray_deadline is None else min(deadline, ray_deadline)

    def handle_timer(self, now):
        self._now = now
        if now >= self._bootstrap_at:
            self._bootstrap(now)
        if now >= self._refresh_at:
            self._refresh_buckets(now)
        if now >= self._prune_at:
            self.rays.expire(now)
            self._served_to = {}
            self._prune_at = now + self.config.cache_ttl // 2
        self._repair_stalled_rays(now)
        self.rays.expire(now)

    def receive_datagram(self, data, addr, now):
        self._now = now
        self.stats["bytes_received"] += len(data)
        ip = addr[0]
        if addr in self.blocked or (ip, None) in self.blocked:
            self.stats["blocked"] += 1
            return
        if not self._take_token(ip, now):
            self.stats["rate_limited"] += 1
            return
        self.stats["received"] += 1
        if self._is_duplicate_chunk(data, ip, now):
            return
        try:
            msg = m.decode_message(data)
            self._handle(msg, ip, now)
        except RemoteProtocolError:
            self._count_invalid(addr)

    def broadcast(self, frame, height=None, now=0, relay=False):
        """Originate a broadcast of ``frame`` to every bucket (or buckets 0..height).

        relay=True (origin privacy, docs/kadcast.md): hand the ray to one random peer among the
        config.relay_fastest (8) with the lowest measured round trip, at height 128, so that it
        starts the tree as if it were the originator (any Kadcast receiver forwards height 128 to all
        buckets 0..127). Re-sending what arrived at height 128 (height 127 here) is such a start:
        with config.relay_fast_first its first hop goes to the nearest members of each bucket."""
        if not 0 < len(frame) <= self.config.max_broadcast_len:
            raise LocalProtocolError("broadcast frame of %d bytes outside 1..%d"
                                     % (len(frame), self.config.max_broadcast_len))
        ray_id = ray_id_of(frame)
        self.rays.mark_processed(ray_id, now)
        encoder = self.fec.new_encoder(frame, ray_id)
        self.rays.keep_encoder(ray_id, encoder)
        if relay:
            via = self.pick_relay()
            if via is not None:
                self._send_chunks(encoder.initial_chunks(), RELAY_HEIGHT, via.addr)
                return ray_id
        top = 127 if height is None else min(height, 127)
        self._fan_out(encoder.initial_chunks(), range(top + 1), fast=height == RELAY_HEIGHT - 1)
        return ray_id

    def pick_relay(self, fastest=None, nodes=None):
        """A random node among the ``fastest`` of ``nodes`` (default: the table) by round trip,
        padded with random ones when fewer round trips are measured."""
        fastest = fastest or self.config.relay_fastest
        nodes = self.table.nodes() if nodes is None else nodes
        if not nodes:
            return None
        pool = sorted((n for n in nodes if n.addr in self._rtt), key=lambda n: self._rtt[n.addr])
        pool = pool[:fastest]
        if len(pool) < fastest:  # too few round trips measured: pad with random members
            rest = [n for n in nodes if n.addr not in self._rtt]
            pool += self.rng.sample(rest, min(len(rest), fastest - len(pool)))
        return self.rng.choice(pool)

    def send_to(self, frame, addr, now=0):
        """Unicast a frame through FEC as BROADCAST height 0 (the reference's send_to_peers)."""
        ray_id = ray_id_of(frame)
        encoder = self.fec.new_encoder(frame, ray_id)
        self.rays.keep_encoder(ray_id, encoder)
        self._send_chunks(encoder.initial_chunks(), 0, addr)

    def bootstrap(self, now):
        self._now = now
        self._bootstrap_at = now
        self._bootstrap(now)

    def block_source(self, addr):
        """Drop everything from ``addr`` ((ip, port), or (ip, None) for every port of an ip)."""
        self.blocked.add(addr)
        for node in self.table.nodes():
            if node.addr == addr or (addr[1] is None and node.ip == addr[0]):
                self.table.remove(node.id)

    # ---- inbound ------------------------------------------------------------------------------
    def _take_token(self, ip, now):
        c = self.config
        entry = self._tokens.get(ip)
        if entry is None:
            if len(self._tokens) >= c.max_rate_sources:
                self._tokens = dict((k, v) for k, v in self._tokens.items() if now - v[1] < 1000)
                if len(self._tokens) >= c.max_rate_sources:
                    return False
            entry = self._tokens[ip] = [c.rate_burst, now]
        return spend_token(entry, now, c.rate_per_s, c.rate_burst)

    def _count_invalid(self, addr):
        self.stats["invalid"] += 1
        n = self._invalid.get(addr, 0) + 1
        self._invalid[addr] = n
        if n >= self.config.invalid_limit:
            self.block_source(addr)
        if len(self._invalid) > self.config.max_rate_sources:
            self._invalid = {}

    def _expected_id(self, ip, port):
        key = (ip, port)
        node_id = self._id_cache.get(key)
        if node_id is None:
            if len(self._id_cache) > 16384:
                self._id_cache = {}
            node_id = self._id_cache[key] = compute_id(ip, port)
        return node_id

    def _is_duplicate_chunk(self, data, ip, now):
        # Chunks of processed rays are most of the traffic of a big broadcast: drop them after
        # only the id-binding check, refreshing the sender like a full parse would.
        if len(data) < RAY_OFFSET + 32 or data[0] != m.BROADCAST:
            return False
        if not self.rays.is_processed(bytes(data[RAY_OFFSET:RAY_OFFSET + 32])):
            return False
        port = data[21] | data[22] << 8
        if data[1:17] != self._expected_id(ip, port) or data[23] != self.config.network_id:
            return False  # let the full path reject it
        self.stats["duplicate_chunks"] += 1
        node = self.table.get_by_addr((ip, port))
        if node is not None and node.seen_at != now:
            self.table.insert_or_refresh(node.id, ip, port, now)
        return True

    def _checked_source(self, h, ip):
        """(ip, port) of a header from our network whose id matches its sender; None for another
        network (dropped quietly); DecodeError for a spoofed id."""
        if h.network_id != self.config.network_id:
            self.stats["foreign_network"] += 1
            return None
        if h.id != self._expected_id(ip, h.port):
            self.stats["bad_id"] += 1
            raise DecodeError("id does not match the sender's address")
        return (ip, h.port)

    def _handle(self, msg, ip, now):
        h = msg.header
        src = self._checked_source(h, ip)
        if src is None:
            return
        if msg.kind == m.BROADCAST:
            node = self.table.get_by_addr(src)
            if node is not None:
                if node.seen_at != now:  # a ray's chunks come in bursts: refresh once per instant
                    self.table.insert_or_refresh(h.id, ip, h.port, now)
            elif self._first_time(("ping", src), now):
                self._send(m.PING, src)
            self._on_chunk(msg, src, now)
            return
        if not self.config.version_matches(msg.version):
            self.stats["bad_version"] += 1
            return
        result, lru = self.table.insert_or_refresh(h.id, ip, h.port, now)
        if result == PENDING:
            self._send(m.PING, lru.addr)
        if msg.kind in (m.PONG, m.NODES):
            self._measure_rtt(src, now)
        if msg.kind == m.PING:
            self._send(m.PONG, src)
        elif msg.kind == m.FIND_NODES:
            peers = []
            for n in self.table.closest(msg.target, m.MAX_NODES_PEERS, msg.target):
                if n.info is None:
                    n.info = m.peer_info_bytes(m.PeerInfo(n.ip, n.port, n.id))
                peers.append(n.info)
            self._send(m.NODES, src, peers=peers)
        elif msg.kind == m.NODES:
            self._on_nodes(msg.peers, now)
        elif msg.kind == m.REPAIR:
            self._on_repair(msg, src)

    def _on_nodes(self, peers, now):
        for info in peers[:2 * self.config.k]:
            addr = (bytes(info.ip), info.port)
            if self.table.get_by_addr(addr) is not None or info.id == self.id:
                continue
            if self.table.is_bucket_full(info.id):
                continue
            # many replies list the same newcomer: ask it once per evict_after, not per mention
            if self._first_time(addr, now):
                self._send(m.FIND_NODES, addr, target=info.id)

    def _measure_rtt(self, src, now):
        sent_at = self._probe_at.pop(src, None)
        if sent_at is not None:
            if len(self._rtt) > 4 * self.config.max_rate_sources:
                self._rtt = {}
            self._rtt[src] = now - sent_at

    def _first_time(self, key, now):
        """True unless ``key`` was seen within evict_after (bounded memory)."""
        asked = self._asked.get(key)
        if asked is not None and now - asked < self.config.evict_after:
            return False
        if len(self._asked) > 4 * self.config.max_rate_sources:
            self._asked = {}
        self._asked[key] = now
        return True

    def _on_chunk(self, msg, src, now):
        result = self.rays.add_chunk(msg.payload, msg.height, src, now)
        if result is None:
            ray = self.rays.receiving.get(bytes(msg.payload[:32]))
            if ray is not None and self.config.pull_repair:
                ray.next_repair_at = now + self.config.repair_after
            return
        ray_id, frame, height = result
        self.stats["delivered"] += 1
        self._events.append(BroadcastReceived(frame, src, height, ray_id))
        if self.config.auto_propagate and height > 0:
            encoder = self.fec.new_encoder(frame, ray_id)
            self.rays.keep_encoder(ray_id, encoder)
            self._fan_out(encoder.initial_chunks(), range(height), fast=height == RELAY_HEIGHT)
        elif self.config.pull_repair:
            self.rays.keep_encoder(ray_id, frame)  # encoded only if someone asks

    def _on_repair(self, msg, src):
        encoder = self.rays.served.get(msg.ray_id)
        if encoder is None or self.table.get_by_addr(src) is None:
            return  # serve known peers only: limits reflection with spoofed sources
        if isinstance(encoder, bytes):
            encoder = self.fec.new_encoder(encoder, msg.ray_id)
            self.rays.keep_encoder(msg.ray_id, encoder)
        key = (msg.ray_id, src)
        budget = self._served_to.get(key, 2 * m.MAX_REPAIR_NEED)
        for rb in msg.blocks:
            need = min(rb.need, budget)
            if need <= 0:
                break
            chunks = encoder.fresh_chunks(rb.block, need, rb.bitmap)
            budget -= len(chunks)
            self.stats["repair_chunks_served"] += len(chunks)
            self._send_chunks(chunks, 0, src)
        self._served_to[key] = budget

    # ---- outbound -----------------------------------------------------------------------------
    def _header_bytes(self):
        h = m.Header(self.id, self.nonce, self.port, self.config.network_id)
        return m.encode_message(m.Message(m.PING, h, version=(0, 0, 0)))[1:m.HEADER_LEN]

    def _send(self, kind, addr, target=None, peers=None, ray_id=None, blocks=None):
        if kind == m.REPAIR:
            h = m.Header(self.id, self.nonce, self.port, self.config.network_id)
            data = m.encode_message(m.Message(kind, h, version=self.config.version,
                                              ray_id=ray_id, blocks=blocks))
        elif kind == m.NODES:  # header and version are fixed: only the body is built per send
            data = bytes((kind,)) + self._head + len(peers).to_bytes(2, "little") + b"".join(peers)
        elif kind == m.FIND_NODES:
            data = bytes((kind,)) + self._head + bytes(target)
        else:
            data = bytes((kind,)) + self._head
        self._out.append((data, addr))
        if kind == m.PING or kind == m.FIND_NODES:
            if len(self._probe_at) > 4 * self.config.max_rate_sources:
                self._probe_at = {}
            self._probe_at[addr] = self._now

    def _chunk_datagrams(self, chunks, height):
        prefix = self._prefix + bytes((height,))
        return [prefix + bytes((len(c) & 0xFF, (len(c) >> 8) & 0xFF, (len(c) >> 16) & 0xFF, len(c) >> 24)) + c
                for c in chunks]

    def _send_chunks(self, chunks, height, addr):
        self._out.extend([(d, addr) for d in self._chunk_datagrams(chunks, height)])

    def _fan_out(self, chunks, heights, fast=False):
        """beta random members of each bucket in ``heights``; ``fast`` (a relay starting the tree,
        config.relay_fast_first): random among the 2 * beta with the lowest measured round trip,
        which pays back the relay's extra hop (bench/results/kadcast.json, privacy)."""
        buckets = self.table.buckets
        fast = fast and self.config.relay_fast_first
        near = 2 * self.config.beta
        for height in heights:
            bucket = buckets.get(height)
            if bucket is None or not bucket.nodes:
                continue
            nodes = bucket.nodes
            if fast and len(nodes) > near:
                nodes = sorted(nodes, key=lambda n: self._rtt.get(n.addr, 1 << 30))[:near]
            picks = nodes if len(nodes) <= self.config.beta else self.rng.sample(nodes, self.config.beta)
            datagrams = self._chunk_datagrams(chunks, height)  # shared by the picks of a bucket
            for node in picks:
                self._out.extend([(d, node.addr) for d in datagrams])

    # ---- maintenance (§1.9) and pull repair -------------------------------------------------
    def _bootstrap(self, now):
        c = self.config
        if self.table.alive_count(now) < c.min_peers:
            for addr in self.bootstrappers:
                self._send(m.FIND_NODES, tuple(addr), target=self.id)
            self._bootstrap_at = now + c.bootstrap_retry
        else:
            self._bootstrap_at = now + c.bootstrap_retry

    def _refresh_buckets(self, now):
        c = self.config
        alive = self.table.alive_nodes(now)
        for height in self.table.stale_heights(now, c.bucket_ttl):
            target = id_at_distance(self.id, height)
            picks = alive if len(alive) <= c.alpha else self.rng.sample(alive, c.alpha)
            for node in picks:
                self._send(m.FIND_NODES, node.addr, target=target)
            for addr in self.bootstrappers:
                self._send(m.FIND_NODES, tuple(addr), target=target)
        for node in self.table.idle_nodes(now):
            self._send(m.PING, node.addr)
        self.table.remove_idle_nodes(now)
        self._refresh_at = now + c.bucket_ttl

    def _repair_stalled_rays(self, now):
        c = self.config
        for ray_id, ray in self.rays.receiving.items():
            if ray.next_repair_at is None or now < ray.next_repair_at:
                continue
            if ray.repair_attempts >= c.repair_attempts or not ray.senders:
                ray.next_repair_at = None
                continue
            sender = ray.senders[ray.repair_attempts % len(ray.senders)]
            blocks = []
            for decoder in ray.decoders.values():
                for block, need, bitmap in decoder.missing()[:m.MAX_REPAIR_BLOCKS]:
                    # ask for a margin: the answer crosses the same lossy links
                    ask = need + need // 4 + 2
                    blocks.append(m.RepairBlock(block, min(ask, m.MAX_REPAIR_NEED), bitmap))
            ray.repair_attempts += 1
            ray.next_repair_at = now + c.repair_after
            if blocks:
                self.stats["repair_requests_sent"] += 1
                self._send(m.REPAIR, sender, ray_id=ray_id, blocks=blocks[:m.MAX_REPAIR_BLOCKS])
