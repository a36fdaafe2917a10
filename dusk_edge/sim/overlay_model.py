"""Chunk-level model of Kadcast dissemination for 10,000-node studies (bench/bench_kadcast.py).

Real bytes for a 1 MB ray at 10,000 nodes would be ~56 million datagrams, so this model keeps
the algorithm exact and abstracts the payload: PROTOCOL.md §1.4-§1.7 tree broadcast (every bucket
for the originator, buckets below the received height for relays, beta random members each),
routing tables as a converged network has them (<= K random members of each true bucket), per-link
delays from node positions (the same formula as overlay_net.OverlayNet), an optional uplink rate,
and per-chunk independent loss. A transmission delivers a random subset of the ray's encoding
symbol ids; a receiver unions the subsets it gets from every sender (all senders encode the same
symbols) and decodes with the RaptorQ failure curve of RFC 6330 (fails with 1e-2 at K symbols,
1e-4 at K+1, 1e-6 at K+2) or exactly at K for the rs code. Modes: "kadcast" (as specified),
"nofec" (same tree, only the K source chunks), "flood" (push gossip to `fanout` random table
members, with the same FEC chunks as Kadcast), and "kadcast" with pull_repair=True (DESIGN.md §3). The relay mitigation of origin
privacy hands the ray to one random peer among the originator's ``relay_k`` lowest-latency routing
table members (Peer.pick_relay ranks the same set by measured round trip), which then starts the
tree as if it were the originator; fast_first makes the node that starts the tree pick its beta
members per bucket at random among the 2*beta lowest-latency ones instead of among all.
"""
import bisect
import heapq
import math

import numpy as np

CHUNK_BYTES = 1375        # one FEC chunk datagram (PROTOCOL.md §1.7)
SYMBOL = 1296
REPAIR_AFTER_MS = 400
REPAIR_ATTEMPTS = 6


def chunk_counts(size, fec=True):
    k = max(1, -(-size // SYMBOL))
    if not fec:
        return k, 0
    return k, max(5, size * 15 // 100 // 1300)


class Topology:
    """Node ids, positions and converged routing tables (bucket -> member indices)."""

    def __init__(self, n, rng, k=20, min_delay=10, span=90, ids=None):
        self.n = n
        # ids as little-endian integers: the bucket of y seen from x is (x ^ y).bit_length() - 1
        self.ids = sorted(ids if ids is not None else (rng.getrandbits(128) for _ in range(n)))
        self.pos = [(rng.random(), rng.random()) for _ in range(n)]
        self.min_delay, self.span = min_delay, span
        self.tables = [self._table(i, rng, k) for i in range(n)]
        self.flat = [[j for members in t.values() for j in members] for t in self.tables]
        self._fastest = {}
        self._chose = {}  # relay_k -> relay -> nodes whose relay_k fastest include it

    def could_have_chosen(self, relay, relay_k):
        """Nodes that have ``relay`` among their ``relay_k`` fastest table members: the origins an
        observer who knows the scheme and the latency map cannot tell apart."""
        inverse = self._chose.get(relay_k)
        if inverse is None:
            inverse = self._chose[relay_k] = {}
            for i in range(self.n):
                for j in self.fastest(i, relay_k):
                    inverse.setdefault(j, []).append(i)
        return inverse.get(relay, [])

    def _table(self, i, rng, k):
        x, ids, table = self.ids[i], self.ids, {}
        for h in range(128):
            lo = ((x >> h) ^ 1) << h
            a, b = bisect.bisect_left(ids, lo), bisect.bisect_left(ids, lo + (1 << h))
            if a < b:
                table[h] = list(range(a, b)) if b - a <= k else rng.sample(range(a, b), k)
        return table

    def delay(self, a, b):
        (x1, y1), (x2, y2) = self.pos[a], self.pos[b]
        return self.min_delay + self.span * math.hypot(x1 - x2, y1 - y2) / math.sqrt(2)

    def fastest(self, i, count=8):
        """The ``count`` (<= 16) lowest-latency members of i's routing table, fastest first."""
        got = self._fastest.get(i)
        if got is None:
            got = self._fastest[i] = sorted(self.flat[i], key=lambda j: self.delay(i, j))[:16]
        return got[:count]


class Run:
    """One broadcast. Results: coverage, latency and hops per node, datagrams and bytes sent."""

    def __init__(self, topo, rng, size, loss, mode="kadcast", beta=3, fanout=8, uplink_bps=None,
                 scheme="raptorq", pull_repair=False, relay=False, observers=None, relay_k=8,
                 relay_u=None, fast_first=False):
        self.t, self.rng, self.loss = topo, rng, loss
        self.mode, self.beta, self.fanout, self.uplink = mode, beta, fanout, uplink_bps
        self.scheme, self.pull_repair = scheme, pull_repair
        # flooding gets the same FEC as Kadcast: without it a 1 MB push never completes a copy
        self.k, self.r = chunk_counts(size, mode != "nofec")
        self.total = self.k + self.r
        self.np_rng = np.random.default_rng(rng.getrandbits(32))
        n = topo.n
        self.mask = [0] * n
        self.extra = [0] * n
        self.done = [None] * n
        self.hops = [0] * n
        self.height = [0] * n  # max height seen per node: repair answers come at height 0
        self.senders = [[] for _ in range(n)]
        self.free_at = [0.0] * n
        self.last_arrival = [0.0] * n
        self.attempts = [0] * n
        self.datagrams = 0
        self.observers = observers
        self.seen = {}  # observer -> (arrival, sender, height)
        self.relay = relay
        self.relay_k = relay_k
        self.relay_u = relay_u  # a uniform draw in [0, 1) picking the relay (pairs variants); None: rng
        self.fast_first = fast_first
        self.start = None
        self._heap, self._seq = [], 0

    # -- transmissions ------------------------------------------------------------------------
    def _send(self, now, src, dst, height, hop, count=None, fresh=False):
        count = self.total if count is None else count
        self.datagrams += count
        start = max(now, self.free_at[src])
        if self.uplink:
            start += count * CHUNK_BYTES * 8000.0 / self.uplink
            self.free_at[src] = start
        arrive = start + self.t.delay(src, dst)
        if fresh:
            survived = int((self.np_rng.random(count) >= self.loss).sum())
            payload = ("fresh", survived)
        elif self.total <= 32:
            rnd, loss, mask = self.rng.random, self.loss, 0
            for i in range(self.total):
                if rnd() >= loss:
                    mask |= 1 << i
            payload = ("mask", mask)
        else:
            keep = self.np_rng.random(self.total) >= self.loss
            payload = ("mask", int.from_bytes(np.packbits(keep, bitorder="little").tobytes(), "little"))
        self._seq += 1
        heapq.heappush(self._heap, (arrive, self._seq, 0, dst, src, height, hop, payload))

    def _decodable(self, node):
        have = self.mask[node].bit_count() + self.extra[node]
        if self.mode == "nofec":
            return self.mask[node] == (1 << self.k) - 1
        if have < self.k:
            return False
        if self.scheme == "rs" or have >= self.k + 2:
            return True
        return self.rng.random() >= (1e-2 if have == self.k else 1e-4)

    def _forward(self, now, node, height, hop):
        table = self.t.tables[node]
        if self.fast_first and node == self.start and height == 128:
            for h, members in table.items():
                near = sorted(members, key=lambda j: self.t.delay(node, j))[:2 * self.beta]
                for dst in (near if len(near) <= self.beta else self.rng.sample(near, self.beta)):
                    self._send(now, node, dst, h, hop + 1)
            return
        if self.mode == "flood":
            flat = self.t.flat[node]
            for dst in self.rng.sample(flat, min(self.fanout, len(flat))):
                self._send(now, node, dst, 0, hop + 1)
            return
        for h, members in table.items():
            if h < height:
                for dst in (members if len(members) <= self.beta else self.rng.sample(members, self.beta)):
                    self._send(now, node, dst, h, hop + 1)

    # -- driving ------------------------------------------------------------------------------
    def broadcast(self, origin):
        self.origin = origin
        self.start = origin
        self.done[origin] = 0.0
        if self.relay:
            near = self.t.fastest(origin, self.relay_k)
            u = self.rng.random() if self.relay_u is None else self.relay_u
            self.start = self.relay_node = near[int(u * len(near))]
            self._send(0.0, origin, self.start, 128, 1)  # the hand-over: one unicast copy
        else:
            self._forward(0.0, origin, 128, 0)
        heap = self._heap
        while heap:
            now, _, kind, node, src, height, hop, payload = heapq.heappop(heap)
            if kind == 1:
                self._repair_check(now, node, payload)
                continue
            self._arrive(now, node, src, height, hop, payload)
        return self

    def _arrive(self, now, node, src, height, hop, payload):
        if self.observers is not None and node in self.observers and node not in self.seen:
            self.seen[node] = (now, src, height)
        if self.done[node] is not None:
            return
        if payload[0] == "mask":
            self.mask[node] |= payload[1]
        else:
            self.extra[node] += payload[1]
        if height > self.height[node]:
            self.height[node] = height
        if src not in self.senders[node]:
            self.senders[node].append(src)
        self.last_arrival[node] = now
        if self._decodable(node):
            self.done[node] = now
            self.hops[node] = hop
            self._forward(now, node, self.height[node], hop)
        elif self.pull_repair and self.mode == "kadcast":
            self._seq += 1
            heapq.heappush(self._heap, (now + REPAIR_AFTER_MS, self._seq, 1, node, None, 0, 0, now))

    def _repair_check(self, now, node, armed_for):
        if self.done[node] is not None or self.last_arrival[node] != armed_for:
            return
        if self.attempts[node] >= REPAIR_ATTEMPTS:
            return
        self.attempts[node] += 1
        self.repairs = getattr(self, "repairs", 0) + 1
        server = self.senders[node][(self.attempts[node] - 1) % len(self.senders[node])]
        self.datagrams += 1
        have = self.mask[node].bit_count() + self.extra[node]
        need = self.k - have + (self.k - have) // 4 + 2
        self.last_arrival[node] = now  # re-arm even if everything is lost
        self._seq += 1
        heapq.heappush(self._heap, (now + REPAIR_AFTER_MS + 2 * self.t.delay(node, server), self._seq, 1,
                                    node, None, 0, 0, now))
        if self.rng.random() < self.loss:
            return  # the request itself was lost
        self._send(now + self.t.delay(node, server), server, node, 0, self.hops[server] + 1,
                   count=need, fresh=True)

    # -- results ------------------------------------------------------------------------------
    def summary(self):
        n = self.t.n
        got = [d for i, d in enumerate(self.done) if d is not None and i != self.origin]
        at99 = -(-99 * (n - 1) // 100)  # time until 99% of the other nodes hold the ray
        hops = [self.hops[i] for i, d in enumerate(self.done) if d is not None and i != self.origin]
        return {"coverage": len(got) / (n - 1),
                "latency_ms_mean": sum(got) / len(got) if got else None,
                "latency_ms_max": max(got) if got else None,
                "latency_ms_p99": sorted(got)[at99 - 1] if len(got) >= at99 else None,
                "hops_mean": sum(hops) / len(hops) if hops else None,
                "datagrams_per_node": self.datagrams / n,
                "bytes_per_node": self.datagrams * CHUNK_BYTES / n,
                "repair_requests": getattr(self, "repairs", 0)}


def guess_origin(run, topo, relay_aware=False, relay_k=8, rng=None, exclude=()):
    """The observer's guess: subtract the link delay from each first arrival and name the sender
    with the earliest estimated send time (a height-128 hand-over names its sender outright).
    relay_aware: the observer knows the relay scheme and the latency map, takes the named node
    for the relay and picks at random (``rng``) among the nodes outside ``exclude`` (its own)
    that have it among their ``relay_k`` fastest peers: each of them chose it with probability
    1/relay_k, so they are equally likely (the maximum a posteriori guess)."""
    best = None
    for obs, (arrival, src, height) in run.seen.items():
        if height == 128:
            return src  # an observer was the relay: it knows who handed the ray over
        est = arrival - topo.delay(src, obs)
        if best is None or est < best[0]:
            best = (est, src)
    if best is None:
        return None
    if relay_aware:
        candidates = [i for i in topo.could_have_chosen(best[1], relay_k) if i not in exclude]
        if candidates:
            return (rng or run.rng).choice(candidates)
    return best[1]
