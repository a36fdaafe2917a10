"""Kadcast at scale on the in-memory network (virtual clock, per-link delays 10-100 ms, 12% random
loss): 500 nodes bootstrap through the protocol from one seed, every node receives every 1 KB and
1 MB broadcast (pull repair allowed and counted), and the tables heal after churn."""
import random

import pytest

from dusk_edge.core.kadcast.config import KadcastConfig
from dusk_edge.core.kadcast.peer import Peer
from dusk_edge.crypto.fec import make_fec
from dusk_edge.sim.overlay_net import OverlayNet

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

N = 500
LOSS = 0.12
REFRESH_MS = 30000


class Swarm:
    def __init__(self, seed=7):
        self.rng = random.Random(seed)
        self.net = OverlayNet(self.rng, loss=LOSS)
        self.fec = make_fec("raptorq")
        # timers scaled down together (reference: node_ttl 30 s << bucket_ttl 1 h)
        self.config = KadcastConfig(pow_bits=8, bootstrap_retry=5000, bucket_ttl=REFRESH_MS,
                                    node_ttl=10000)
        self.seed_addr = (self.ip(0), 9000)
        self.peers = {}
        self.deliveries = {}
        self.net.on_event = self._on_event
        self._next = 0

    @staticmethod
    def ip(i):
        return bytes((10, 2, i >> 8, i & 255))

    def _on_event(self, addr, ev, now):
        self.deliveries.setdefault(ev.ray_id, {})[addr] = now

    def join(self, count, spread_ms):
        start = self.net.now
        for _ in range(count):
            i = self._next
            self._next += 1
            at = start + self.rng.randrange(spread_ms)
            p = Peer(self.ip(i), 9000, self.fec, self.rng, self.config, [self.seed_addr], now=at)
            self.peers[p.addr] = p
            self.net.add(p)

    def leave(self, count):
        gone = self.rng.sample([a for a in self.peers if a != self.seed_addr], count)
        for addr in gone:
            del self.peers[addr]
            self.net.remove(addr)
        return gone

    def broadcast(self, size, timeout_ms=30000):
        origin = self.peers[self.rng.choice(sorted(self.peers))]
        start = self.net.now
        ray_id = self.net.call(origin, origin.broadcast, self.rng.randbytes(size), None)
        want = len(self.peers) - 1
        self.net.run_until(start + timeout_ms, stop=lambda: len(self.deliveries.get(ray_id, ())) >= want)
        got = self.deliveries.get(ray_id, {})
        missing = [a for a in self.peers if a not in got and a != origin.addr]
        latency = max(got.values()) - start if got else None
        return missing, latency

    def repairs(self):
        return sum(p.stats["repair_requests_sent"] for p in self.peers.values())


@pytest.fixture(scope="module")
def swarm():
    s = Swarm()
    s.join(N, 10000)
    s.net.run_until(REFRESH_MS + 12000)  # bootstrap, then one bucket refresh of every node (§1.9)
    return s


def test_tables_converge(swarm):
    sizes = [len(p.table) for p in swarm.peers.values()]
    assert min(sizes) >= 40, min(sizes)


def test_every_node_receives_1kb_broadcasts(swarm):
    for _ in range(3):
        missing, latency = swarm.broadcast(1024)
        assert missing == [], "%d nodes missed a 1 KB broadcast" % len(missing)
        assert latency < 2000


def test_every_node_receives_1mb_broadcast_with_pull_repair(swarm):
    before = swarm.repairs()
    missing, latency = swarm.broadcast(1 << 20)
    assert missing == [], "%d nodes missed a 1 MB broadcast" % len(missing)
    print("1 MB at 12%% loss: %d pull-repair requests, %d ms" % (swarm.repairs() - before, latency))


def test_churn_heals_tables(swarm):
    gone = set(swarm.leave(N // 10))
    swarm.join(N // 10, 5000)
    # one refresh round after the departed nodes went idle (node_ttl): idle nodes are pinged and
    # dropped, newcomers become known
    swarm.net.run_until(swarm.net.now + REFRESH_MS + 12000)
    stale = sum(1 for p in swarm.peers.values() for n in p.table.nodes() if n.addr in gone)
    entries = sum(len(p.table) for p in swarm.peers.values())
    assert stale <= entries // 100, "%d of %d entries still point at departed nodes" % (stale, entries)
    newcomers = [a for a in swarm.peers if a[0][2] * 256 + a[0][3] >= N]
    known = {n.addr for p in swarm.peers.values() for n in p.table.nodes()}
    assert all(a in known for a in newcomers)
    for _ in range(2):
        missing, _ = swarm.broadcast(1024)
        assert missing == [], "%d nodes missed a broadcast after churn" % len(missing)
