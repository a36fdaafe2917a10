"""In-memory datagram network with a virtual clock for Kadcast simulations.

Nodes are sans-I/O peers (anything with receive_datagram / datagrams_to_send / get_timer /
handle_timer / next_event and an ``addr``). Each node sits at a random point of a unit square; the
one-way delay of a link is ``min_delay + span * distance / sqrt(2)`` ms, so delays are per link,
symmetric and obey the triangle inequality (an observer can subtract them, as in DESIGN.md §3).
Every datagram is dropped independently with probability ``loss``. An optional uplink rate
serialises each sender's datagrams. Datagrams one call hands to the same destination travel as one
batch (one heap event, the arrival time of its last datagram): this keeps 1 MB rays tractable.
"""
import heapq
import math


class OverlayNet:
    charge_lost_datagrams = False  # whether a dropped datagram still occupied the sender's uplink
    def __init__(self, rng, loss=0.0, min_delay=10, span=90, uplink_bps=None):
        self.rng = rng
        self.loss = loss
        self.min_delay = min_delay
        self.span = span
        self.uplink_bps = uplink_bps
        self.now = 0
        self.nodes = {}
        self.positions = {}
        self.on_event = None          # callback(addr, event, now)
        self.dropped = 0
        self.delivered = 0
        self.bytes_sent = {}
        self.datagrams_sent = {}
        self._heap = []
        self._seq = 0
        self._armed = {}
        self._uplink_free = {}

    # ---- topology ---------------------------------------------------------------------------
    def add(self, node, position=None):
        self.nodes[node.addr] = node
        self.positions[node.addr] = position or (self.rng.random(), self.rng.random())
        self.bytes_sent.setdefault(node.addr, 0)
        self.datagrams_sent.setdefault(node.addr, 0)
        self._arm(node)

    def remove(self, addr):
        """The node leaves: nothing more is delivered to it or sent by it."""
        self.nodes.pop(addr, None)
        self._armed.pop(addr, None)

    def delay(self, a, b):
        (x1, y1), (x2, y2) = self.positions[a], self.positions[b]
        return int(self.min_delay + self.span * math.hypot(x1 - x2, y1 - y2) / math.sqrt(2))

    # ---- driving ----------------------------------------------------------------------------
    def call(self, node, fn, *args):
        """Run fn(*args, now) on ``node`` (e.g. node.broadcast) and move what it produced."""
        result = fn(*(args + (self.now,)))
        self._after(node)
        return result

    def run_until(self, deadline, stop=None):
        """Process events up to virtual time ``deadline`` (ms), or until stop() is true."""
        heap = self._heap
        while heap and heap[0][0] <= deadline:
            t, _, kind, addr, payload = heapq.heappop(heap)
            node = self.nodes.get(addr)
            if node is None:
                continue
            self.now = t
            if kind == 0:
                if self._armed.get(addr) != t:
                    continue
                del self._armed[addr]
                node.handle_timer(t)
            else:
                src, batch = payload
                for data in batch:
                    node.receive_datagram(data, src, t)
                self.delivered += len(batch)
            self._after(node)
            if stop is not None and stop():
                return True
        self.now = max(self.now, deadline)
        return stop() if stop is not None else False

    def _after(self, node):
        addr = node.addr
        events = []
        ev = node.next_event()
        while ev is not None:
            events.append(ev)
            ev = node.next_event()
        out = node.datagrams_to_send(self.now)
        if out:
            self._transmit(addr, out)
        self._arm(node)
        if self.on_event is not None:
            for ev in events:
                self.on_event(addr, ev, self.now)

    def _transmit(self, src, out):
        batches = {}
        rng, loss = self.rng, self.loss
        nbytes = 0
        for data, dst in out:
            nbytes += len(data)
            if loss and rng.random() < loss:
                self.dropped += 1
                continue
            batches.setdefault(dst, []).append(data)
        self.bytes_sent[src] = self.bytes_sent.get(src, 0) + nbytes
        self.datagrams_sent[src] = self.datagrams_sent.get(src, 0) + len(out)
        rate = self.uplink_of(src)
        start = max(self.now, self._uplink_free.get(src, 0))
        if rate and self.charge_lost_datagrams:
            # the whole call's bytes occupy the uplink, lost datagrams included
            self._uplink_free[src] = start + nbytes * 8000 // rate
        for dst, batch in batches.items():
            if dst not in self.positions:
                continue
            if rate:
                start += sum(len(d) for d in batch) * 8000 // rate
                if not self.charge_lost_datagrams:
                    self._uplink_free[src] = start
            self._push(start + self.delay(src, dst), 1, dst, (src, batch))

    def uplink_of(self, src):
        """Uplink rate of ``src`` in bits/s (None: unlimited)."""
        return self.uplink_bps

    def _arm(self, node):
        t = node.get_timer()
        if t is None or self._armed.get(node.addr) == t:
            return
        t = max(t, self.now)
        self._armed[node.addr] = t
        self._push(t, 0, node.addr, None)

    def _push(self, t, kind, addr, payload):
        self._seq += 1
        heapq.heappush(self._heap, (t, self._seq, kind, addr, payload))
