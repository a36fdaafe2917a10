"""EdgePeer (its mixin modules) serves and decodes one stripe-tree content between two peers; runs
under CPython (pytest) and under real MicroPython (scripts/mpy_gate.py)."""
from dusk_edge.core.kadcast import edge_messages as em
from dusk_edge.core.kadcast.config import KadcastConfig
from dusk_edge.core.kadcast.edge import EdgeConfig, EdgePeer
from dusk_edge.core.kadcast.rs import ray_id_of
import expect


class Rng:
    def __init__(self):
        self.i = 0

    def choice(self, seq):
        self.i += 1
        return seq[self.i % len(seq)]

    def sample(self, seq, k):
        return list(seq)[:k]


def peer(i):
    return EdgePeer(bytes((10, 9, 1, i)), 9000, None, Rng(), KadcastConfig(pow_bits=8),
                    edge=EdgeConfig(large_threshold=300, relay=False))


def test_edge_peer_serves_and_decodes_under_micropython():
    a, b = peer(1), peer(2)
    frame = bytes(range(256)) * 12
    cid = ray_id_of(frame)
    c = a.adopt(cid, frame, 0)
    for s in range(c.live):
        a._offer(c, b.addr, s, 0, em.ROLE_TREE, 0)
    a._flush_offers(0)
    for now in range(0, 3000, 10):
        for d, addr in a.datagrams_to_send(now):
            if addr == b.addr:
                b.receive_datagram(d, a.addr, now)
        for d, addr in b.datagrams_to_send(now):
            if addr == a.addr:
                a.receive_datagram(d, b.addr, now)
    expect.equal(b.stats["edge_decoded"], 1, "decoded")
    expect.equal(b.contents[(cid, len(frame))].frame, frame, "frame")
    expect.true(a.stats["edge_symbols_sent"] >= 3, "served")
