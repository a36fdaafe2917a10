"""A swarm of real sans-I/O Kadcast peers (Peer or EdgePeer) on the in-memory network, for the
edge-broadcast tests: per-link delays, random loss and per-node uplink limits.

Routing tables are filled directly with what a converged bootstrap would hold (every node offered
to every table in random order, k-buckets keep the first k, edge capability as the Version flags of
those exchanges would have told), so a 500-node test spends its time on broadcasts, not on joins.
"""
import random

from dusk_edge.core.kadcast.config import KadcastConfig
from dusk_edge.core.kadcast.edge import EdgeConfig, EdgePeer
from dusk_edge.core.kadcast.peer import Peer
from dusk_edge.crypto.fec import make_fec
from dusk_edge.sim.overlay_net import OverlayNet


class UplinkNet(OverlayNet):
    """OverlayNet with one uplink rate per sender (bits/s; None = unlimited)."""

    charge_lost_datagrams = True

    def __init__(self, rng, loss=0.0, min_delay=10, span=90, default_uplink=None):
        OverlayNet.__init__(self, rng, loss, min_delay, span, None)
        self.uplinks = {}
        self.default_uplink = default_uplink

    def uplink_of(self, src):
        return self.uplinks.get(src, self.default_uplink)


class Swarm:
    def __init__(self, n, edge_count=None, loss=0.12, seed=5, uplink_bps=100_000_000,
                 edge_config=None, fec="rs", auto_propagate=True):
        self.rng = random.Random(seed)
        self.net = UplinkNet(self.rng, loss=loss, default_uplink=uplink_bps)
        self.fec = make_fec(fec)
        self.deliveries = {}
        self.net.on_event = self._on_event
        edge_count = n if edge_count is None else edge_count
        self.peers = []
        for i in range(n):
            config = KadcastConfig(pow_bits=8, auto_propagate=auto_propagate)
            ip = bytes((10, 3, i >> 8, i & 255))
            if i < edge_count:
                peer = EdgePeer(ip, 9000, self.fec, random.Random(seed * 1000 + i), config,
                                edge=edge_config or EdgeConfig(probe_interval=400))
            else:
                peer = Peer(ip, 9000, self.fec, random.Random(seed * 1000 + i), config)
            self.peers.append(peer)
        self._fill_tables()
        for peer in self.peers:
            self.net.add(peer)

    def _fill_tables(self):
        edge = set(p.addr for p in self.peers if isinstance(p, EdgePeer))
        for peer in self.peers:
            others = [p for p in self.peers if p is not peer]
            self.rng.shuffle(others)
            for other in others:
                peer.table.insert_or_refresh(other.id, other.ip, other.port, 0)
            if isinstance(peer, EdgePeer):
                peer.edge_peers.update(n.addr for n in peer.table.nodes() if n.addr in edge)

    def _on_event(self, addr, ev, now):
        self.deliveries.setdefault(ev.ray_id, {})[addr] = now

    def warm_up(self, ms=2000):
        """Let latency probes run (RTTs for relay choice)."""
        self.net.run_until(self.net.now + ms)

    def broadcast(self, origin, frame, timeout_ms=30000):
        """Originate ``frame`` at peer ``origin``; returns (missing addrs, ms to the last delivery)."""
        start = self.net.now
        ray_id = self.net.call(origin, origin.broadcast, frame, None)
        want = len(self.peers) - 1
        self.net.run_until(start + timeout_ms,
                           stop=lambda: len(self.deliveries.get(ray_id, ())) >= want)
        got = self.deliveries.get(ray_id, {})
        missing = [p.addr for p in self.peers if p.addr not in got and p is not origin]
        latency = max(got.values()) - start if got else None
        return missing, latency
