"""A transfer-level model of both broadcast modes for the 10,000-node benchmark.

Why a model: 10,000 real peers moving a 1 MB block as ~900 datagrams per copy is tens of millions of
Python calls per broadcast. The real sans-I/O code runs at 500 nodes in
tests/test_edge_broadcast.py; this model replays the same rules one *transfer* (a batch of symbols
from one sender to one receiver) at a time:
- topology: random 128-bit ids; bucket i of v = nodes whose id shares v's bits above i and differs
  at bit i (a contiguous range of the sorted ids); beta=3 random members per bucket (k-buckets are
  random subsets, so this is the same distribution); positions in a unit square, one-way delay
  10 + 90 * distance / sqrt(2) ms (as dusk_edge/sim/overlay_net.py).
- loss: each datagram is lost independently; a transfer of n datagrams delivers a random subset
  (numpy), so which ESIs arrived is tracked exactly per node.
- uplinks: each node serialises what it sends (busy-until time); a transfer arrives when its last
  datagram does (transmission + link delay), as OverlayNet's batches do.
- as-specified (PROTOCOL.md §1.6-§1.7): K source + max(5, 15%) repair RaptorQ symbols of
  1375-byte datagrams, every sender sends the same ESIs, decode at K distinct symbols, forward to
  buckets below the height, no pull repair. The edge mode's small messages use the same push,
  handed first to a relay among the 8 lowest-latency peers at height 128.
- the edge mode's large messages (stripe trees) are dusk_edge/sim/broadcast_stripes.py.
"""
import bisect
import heapq
import math

import numpy as np

SYMBOL = 1296
CHUNK_DATAGRAM = 1375          # raptorq chunk datagram (PROTOCOL.md §1.7)


class Topology:
    def __init__(self, n, rng):
        self.n = n
        self.rng = rng
        ids = sorted(set(rng.getrandbits(128) for _ in range(n)))
        while len(ids) < n:
            ids = sorted(set(ids) | {rng.getrandbits(128)})
        self.ids = ids
        self.pos = [(rng.random(), rng.random()) for _ in range(n)]
        self._buckets = {}

    def delay(self, a, b):
        (x1, y1), (x2, y2) = self.pos[a], self.pos[b]
        return 10 + 90 * math.hypot(x1 - x2, y1 - y2) / math.sqrt(2)

    def bucket_range(self, v, i):
        """Index range [lo, hi) of the nodes in bucket i of v."""
        base = (self.ids[v] >> (i + 1)) << (i + 1)
        other = base | ((~self.ids[v]) & (1 << i))
        lo = bisect.bisect_left(self.ids, other)
        hi = bisect.bisect_left(self.ids, other + (1 << i))
        return lo, hi

    def buckets(self, v):
        """[(i, lo, hi)] of v's non-empty buckets, highest first (cached)."""
        out = self._buckets.get(v)
        if out is None:
            out = []
            for i in range(127, -1, -1):
                lo, hi = self.bucket_range(v, i)
                if hi > lo:
                    out.append((i, lo, hi))
                base = (self.ids[v] >> i) << i   # nodes sharing v's bits >= i: only v left?
                ids = self.ids
                if bisect.bisect_left(ids, base + (1 << i)) - bisect.bisect_left(ids, base) <= 1:
                    break
            self._buckets[v] = out
        return out

    def picks(self, v, heights, beta=3):
        """[(node, height)]: beta random members of each bucket in ``heights``."""
        out = []
        for i in heights:
            lo, hi = self.bucket_range(v, i)
            if hi - lo <= beta:
                out.extend((u, i) for u in range(lo, hi))
            else:
                out.extend((u, i) for u in self.rng.sample(range(lo, hi), beta))
        return out

    def fastest(self, v, count=8, sample=60):
        """``count`` lowest-delay peers of v among a routing-table-sized random sample."""
        cand = [u for u in self.rng.sample(range(self.n), min(self.n, sample + 1)) if u != v]
        return sorted(cand, key=lambda u: self.delay(v, u))[:count]


class Result:
    def __init__(self, n):
        self.arrival = [None] * n
        self.first_sender = [None] * n   # (sender, time it reached this node first)
        self.bytes_sent = [0] * n
        self.relay = None


class Sim:
    """One broadcast of ``size`` bytes from ``origin``."""

    def __init__(self, topo, rng, nprng, loss, uplink_bps, origin_uplink_bps=None):
        self.topo = topo
        self.rng = rng
        self.nprng = nprng
        self.loss = loss
        self.uplink = uplink_bps
        self.origin_uplink = origin_uplink_bps or uplink_bps
        self.heap = []
        self.seq = 0
        self.busy = [0.0] * topo.n

    def push(self, t, kind, *args):
        self.seq += 1
        heapq.heappush(self.heap, (t, self.seq, kind, args))

    def send(self, src, dst, datagrams, nbytes, now, res):
        """Serialise ``datagrams`` on src's uplink; returns the arrival time at dst."""
        rate = self.origin_uplink if src == self.origin else self.uplink
        start = max(now, self.busy[src])
        self.busy[src] = start + nbytes * 8000.0 / rate
        res.bytes_sent[src] += nbytes
        return self.busy[src] + self.topo.delay(src, dst)

    def survivors(self, count):
        return self.nprng.random(count) >= self.loss

    def note_first(self, res, node, sender, t):
        if res.first_sender[node] is None:
            res.first_sender[node] = (sender, t)

    # ---- as-specified tree push (also the edge mode's small messages) ---------------------------
    def run_push(self, size, origin, relay=None):
        self.origin = origin
        n = self.topo.n
        res = Result(n)
        k = -(-size // SYMBOL)
        total = k + max(5, size * 15 // 100 // 1300)
        got = np.zeros((n, total), dtype=bool)
        done = [False] * n
        done[origin] = True
        res.arrival[origin] = 0.0
        if relay is None:
            self._fan(origin, range(128), total, 0.0, res)
        else:
            res.relay = relay
            t = self.send(origin, relay, total, total * CHUNK_DATAGRAM, 0.0, res)
            self.push(t, "chunks", origin, relay, 128, self.survivors(total))
        while self.heap:
            t, _, _, (src, dst, height, mask) = heapq.heappop(self.heap)
            self.note_first(res, dst, src, t)
            if done[dst]:
                continue
            got[dst] |= mask
            if got[dst].sum() >= k:
                done[dst] = True
                res.arrival[dst] = t
                if height > 0:
                    self._fan(dst, range(min(height, 128)), total, t, res)
        return res

    def _fan(self, v, heights, total, now, res):
        for u, h in self.topo.picks(v, heights):
            t = self.send(v, u, total, total * CHUNK_DATAGRAM, now, res)
            self.push(t, "chunks", v, u, h, self.survivors(total))


def time_to_fraction(res, fraction):
    times = sorted(a for a in res.arrival if a is not None)
    need = int(math.ceil(fraction * len(res.arrival)))
    return times[need - 1] if len(times) >= need else None


def guess_origin(topo, res, observers, transfer_ms):
    """The observer's guess: the non-observer sender whose first transmission, seen at an
    observer and corrected for link delay and one transfer time, started earliest."""
    best = None
    for o in observers:
        first = res.first_sender[o]
        if first is None:
            continue
        sender, t = first
        if sender in observers:
            continue
        start = t - topo.delay(sender, o) - transfer_ms
        if best is None or start < best[0]:
            best = (start, sender)
    return None if best is None else best[1]
