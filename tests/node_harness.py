"""In-process devnet harness for NodeCore tests: real Kadcast peers, real engine, ledger, store
and BLS, datagrams moved by a virtual-clock loop (the real-UDP, multi-process runs are in
tests/test_devnet.py)."""
import heapq
import random

from dusk_edge.core.consensus.engine import ConsensusEngine
from dusk_edge.core.kadcast.config import KadcastConfig
from dusk_edge.core.kadcast.peer import Peer
from dusk_edge.core.ledger.mempool import Mempool
from dusk_edge.core.ledger.signatures import NativeVerifier
from dusk_edge.crypto.fec import make_fec
from dusk_edge.node import NodeCore
from dusk_edge.node_chain import NodeChain
from dusk_edge.sim.fake_bls import BlsSigner, RealVerifier
from dusk_edge.store.block_store import BlockStore

FIXTURE = [  # PROTOCOL.md §4 secret keys 1..4: the devnet preset's provisioners
    "611830d3641a68f94a690dcc25d1f4b0dac948325ac18f6dd32564371735f32c",
    "1fbec814b18b1d4c3eaa7cec41007e04bf0a98453b06ec7582aa29882c52eb3e",
    "ecd9c4a53ea15f18447b08fb96a13c5ab7dc7d24067b102fcbaaf7b39ca52e2d",
    "e463bcb1a6e57288ffd4671503082fa8656e3eacb78fb1925f8a7c76400e8e15",
]
FUNDED_KEY = "7a19fb2d099a9557f7c10c2efbb8b101d9e0ec85610d5c74a887d1d4fb8d2827"  # fixture key 5


class InProcessNet:
    def __init__(self, tmp_path, spec, count=4, loss=0.0, seed=3, peer_class=Peer):
        self.spec = spec
        self.peer_class = peer_class
        self.tmp_path = tmp_path
        self.rng = random.Random(seed)
        self.loss = loss
        self.now = spec.genesis_timestamp * 1000 + 60000
        self.heap = []
        self.seq = 0
        self.verifier = RealVerifier()
        self.nodes = {}
        self.timers = {}
        seed_addr = (bytes([127, 0, 0, 2]), 9000)
        for i in range(count):
            self.add_node(i, FIXTURE[i] if i < len(FIXTURE) else None, [seed_addr])

    def add_node(self, i, sk_hex, bootstrap):
        addr = (bytes([127, 0, 0, 2 + i]), 9000)
        store = BlockStore.open(str(self.tmp_path / ("node%d" % i)))
        mempool = Mempool(self.spec.profile, NativeVerifier())
        chain = NodeChain(self.spec, store, self.verifier, NativeVerifier(), mempool)
        signer = BlsSigner(bytes.fromhex(sk_hex)) if sk_hex else None
        engine = ConsensusEngine(chain, signer, self.verifier, chain.timing, emergency_key=self.spec.emergency_key)
        config = KadcastConfig(network_id=self.spec.profile.network_id, auto_propagate=False, pow_bits=8)
        peer = self.peer_class(addr[0], addr[1], make_fec(self.spec.profile.fec), random.Random(i), config, bootstrap,
                    now=self.now)
        node = NodeCore("node%d" % i, chain, engine, mempool, peer, random.Random(100 + i))
        self.nodes[addr] = node
        node.start(self.now)
        self.pump(addr)
        return addr, node

    def pump(self, addr):
        node = self.nodes[addr]
        for data, dest in node.datagrams_to_send(self.now):
            if dest in self.nodes and self.rng.random() >= self.loss:
                self.seq += 1
                heapq.heappush(self.heap, (self.now + 5, self.seq, "dgram", dest, (data, addr)))
        deadline = node.get_timer()
        if deadline is not None and self.timers.get(addr) != deadline:
            self.timers[addr] = deadline
            self.seq += 1
            heapq.heappush(self.heap, (max(deadline, self.now), self.seq, "timer", addr, None))

    def run(self, until, limit_ms=600000):
        end = self.now + limit_ms
        while self.heap and self.now < end and not until():
            at, _, kind, addr, payload = heapq.heappop(self.heap)
            self.now = max(self.now, at)
            node = self.nodes.get(addr)
            if node is None:
                continue
            if kind == "timer":
                if self.timers.get(addr) != at:
                    continue
                self.timers[addr] = None
                node.handle_timer(self.now)
            else:
                node.receive_datagram(payload[0], payload[1], self.now)
            self.pump(addr)
        return until()

    def remove(self, addr):
        node = self.nodes.pop(addr)
        node.chain.store.close()
        return node
