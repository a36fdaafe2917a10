"""A transfer-level model of both broadcast modes for the 10,000-node benchmark.

Why a model: 10,000 real peers moving a 1 MB block as ~900 datagrams per copy is tens of millions of
Python calls per broadcast. The real sans-I/O code runs at 500 nodes in tests/test_edge_broadcast.py;
this model replays the same rules one *transfer* (a batch of symbols from one sender to one receiver)
at a time, honestly:
- topology: random 128-bit ids; bucket i of v = nodes whose id shares v's bits above i and differs at
  bit i (a contiguous range of the sorted ids); beta=3 random members per bucket (k-buckets are
  random subsets, so this is the same distribution); positions in a unit square, one-way delay
  10 + 90 * distance / sqrt(2) ms (as dusk_edge/sim/overlay_net.py).
- loss: each datagram is lost independently; a transfer of n datagrams delivers a random subset
  (numpy), so which ESIs arrived is tracked exactly per node.
- uplinks: each node serialises what it sends (busy-until time); a transfer arrives when its last
  datagram does (transmission + link delay), as OverlayNet's batches do.
- as-specified (PROTOCOL.md §1.6-§1.7): K source + max(5, 15%) repair RaptorQ symbols of 1375-byte
  datagrams, every sender sends the same ESIs, decode at K distinct symbols, forward to buckets
  below the height, no pull repair.
- edge (dusk_edge/core/kadcast/edge.py): small messages as above but handed to a relay among the 8
  lowest-latency peers at height 128; large messages: HAVE announcements (2 copies of a ~330-byte
  datagram) down the tree from each node that completes; pulls ask need + margin symbols split
  disjointly over the known holders; a holder over its budget (copies) serves what it can and
  refuses with hints (peers it served); a still-pulling holder queues requests and serves them on
  completion; stalled pulls re-ask after stall_ms (pull repair).
"""
import bisect
import heapq
import math

import numpy as np

SYMBOL = 1296
CHUNK_DATAGRAM = 1375          # raptorq chunk datagram (PROTOCOL.md §1.7)
EDGE_DATAGRAM = 1364           # SYMBOL datagram: type + header + rs chunk header + symbol
ANNOUNCE_DATAGRAM = 1 + 25 + 2 + 32 + 4 + 2 + 256


class Topology:
    def __init__(self, n, rng):
        self.n = n
        self.rng = rng
        ids = sorted(set(rng.getrandbits(128) for _ in range(n)))
        while len(ids) < n:
            ids = sorted(set(ids) | {rng.getrandbits(128)})
        self.ids = ids
        self.pos = [(rng.random(), rng.random()) for _ in range(n)]

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


class PullState:
    __slots__ = ("state", "holders", "refused", "height", "got", "uploaded", "served", "waiting",
                 "token", "attempts")

    def __init__(self):
        self.state = 0          # 0 unaware, 1 pulling, 2 holder
        self.holders = []
        self.refused = {}
        self.height = 0
        self.got = 0
        self.uploaded = 0
        self.served = []
        self.waiting = {}
        self.token = 0
        self.attempts = 0


class EdgePullSim(Sim):
    """The edge mode's large-message path (announce HAVE, pull, budget, hints, repair)."""

    def __init__(self, topo, rng, nprng, loss, uplink_bps, origin_uplink_bps=None, budget_copies=4,
                 margin_percent=30, gather_ms=30, stall_ms=400, refuse_ms=1000, max_holders=8):
        Sim.__init__(self, topo, rng, nprng, loss, uplink_bps, origin_uplink_bps)
        self.budget_copies = budget_copies
        self.margin = margin_percent
        self.gather = gather_ms
        self.stall = stall_ms
        self.refuse_ms = refuse_ms
        self.max_holders = max_holders
        self.max_events = 2000000

    def run(self, size, origin, relay=None):
        self.origin = origin
        n = self.topo.n
        self.k = -(-size // SYMBOL)
        self.budget = self.budget_copies * self.k
        self.peer_cap = int(1.5 * self.k) + 8
        self.res = res = Result(n)
        self.nodes = [PullState() for _ in range(n)]
        me = self.nodes[origin]
        me.state = 2
        me.got = self.k
        res.arrival[origin] = 0.0
        if relay is None:
            self.announce_down(origin, range(128), 0.0)
        else:
            res.relay = relay
            self.announce(origin, relay, 128, 0.0)
        handlers = {"announce": self.on_announce, "round": self.on_round, "req": self.on_req,
                    "symbols": self.on_symbols, "refuse": self.on_refuse}
        while self.heap and self.seq < self.max_events:  # a cap so a pathological run ends
            t, _, kind, args = heapq.heappop(self.heap)
            handlers[kind](t, *args)
        res.truncated = bool(self.heap)
        return res

    # announcements
    def announce(self, src, dst, height, now):
        t = self.send(src, dst, 2, 2 * ANNOUNCE_DATAGRAM, now, self.res)
        if self.nprng.random() >= self.loss * self.loss:
            self.push(t, "announce", src, dst, height)

    def announce_down(self, v, heights, now):
        for u, h in self.topo.picks(v, heights):
            self.announce(v, u, h, now)

    def on_announce(self, t, src, dst, height):
        self.note_first(self.res, dst, src, t)
        node = self.nodes[dst]
        if node.state == 2:
            return
        node.height = max(node.height, height)
        if src not in node.holders and len(node.holders) < 16:
            node.holders.append(src)
        if node.state == 0:
            node.state = 1
            self.schedule_round(dst, t + self.gather)

    # requester
    def schedule_round(self, v, t):
        node = self.nodes[v]
        node.token += 1
        self.push(t, "round", v, node.token)

    def usable(self, node, t):
        return [h for h in node.holders if t - node.refused.get(h, -1e9) >= self.refuse_ms][:self.max_holders]

    def on_round(self, t, v, token):
        node = self.nodes[v]
        if node.state != 1 or token != node.token or node.attempts >= 40:
            return
        node.attempts += 1
        holders = self.usable(node, t)
        if not holders:
            holders = self.rng.sample(range(self.topo.n), 3)
            node.holders.extend(h for h in holders if h not in node.holders and h != v)
        deficit = self.k - node.got
        ask = deficit + (deficit * self.margin + 99) // 100 + 1
        self.split(v, ask, holders, t)
        self.schedule_round(v, t + self.stall)

    def split(self, v, count, holders, t):
        holders = [h for h in holders if h != v]
        for i, h in enumerate(holders):
            share = count // len(holders) + (1 if i < count % len(holders) else 0)
            if share:
                self.push(t + self.topo.delay(v, h), "req", h, v, share)

    def on_symbols(self, t, src, dst, count):
        self.note_first(self.res, dst, src, t)
        node = self.nodes[dst]
        if node.state != 1:
            return
        node.got += count
        if node.got >= self.k:
            self.complete(dst, t)
        else:
            self.schedule_round(dst, t + self.stall)

    def on_refuse(self, t, src, dst, hints, remainder):
        node = self.nodes[dst]
        if node.state != 1:
            return
        node.refused[src] = t
        for h in hints:
            if h not in node.holders and h != dst and len(node.holders) < 16:
                node.holders.append(h)
        others = [h for h in self.usable(node, t) if h != src]
        if others and remainder:
            self.split(dst, remainder, others, t)

    def complete(self, v, t):
        node = self.nodes[v]
        node.state = 2
        self.res.arrival[v] = t
        if node.height > 0:
            self.announce_down(v, range(min(node.height, 128)), t)
        for waiter, share in node.waiting.items():
            self.serve(v, waiter, share, t)
        node.waiting = {}

    # server
    def on_req(self, t, h, v, share):
        node = self.nodes[h]
        if node.state == 2:
            self.serve(h, v, share, t)
        elif node.state == 1 and (v in node.waiting or len(node.waiting) < 16):
            node.waiting[v] = share
        else:
            self.push(t + self.topo.delay(h, v), "refuse", h, v, (), share)

    def serve(self, h, v, share, t):
        node = self.nodes[h]
        served_v = sum(1 for x in node.served if x == v)  # rare repeats: cheap enough
        room = min(self.budget - node.uploaded, self.peer_cap - served_v * share)
        count = max(0, min(share, room))
        if count:
            node.uploaded += count
            arrive = self.send(h, v, count, count * EDGE_DATAGRAM, t, self.res)
            got = int(self.survivors(count).sum())
            self.push(arrive, "symbols", h, v, got)
            if len(node.served) < 64:
                node.served.append(v)
        if count < share:
            pool = [x for x in node.served if x != v]
            hints = tuple(self.rng.sample(pool, min(4, len(pool))))
            self.push(t + self.topo.delay(h, v), "refuse", h, v, hints, share - count)


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
