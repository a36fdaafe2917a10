"""NodeChain (ledger + flash store + finality) under the real consensus engine: 4 devnet
provisioners with real BLS on a virtual clock, a transfer included, restart from the store."""
import heapq

import pytest

from dusk_edge.core.consensus.engine import ConsensusEngine
from dusk_edge.core.consensus.messages import decode_message, encode_message
from dusk_edge.core.ledger.block import pull_block, push_block
from dusk_edge.core.ledger.mempool import Mempool
from dusk_edge.core.ledger.signatures import NativeVerifier
from dusk_edge.core.ledger.transactions import SCHEME_BLS, AccountKey
from dusk_edge.core.ledger.tx_builder import BlsSigner as TxSigner, build_transfer
from dusk_edge.crypto import bls
from dusk_edge.genesis import load_genesis
from dusk_edge.node_chain import NodeChain
from dusk_edge.sim.fake_bls import BlsSigner, RealVerifier
from dusk_edge.store.block_store import BlockStore

FIXTURE = [  # PROTOCOL.md §4 secret keys 1..4: the devnet preset's provisioners
    "611830d3641a68f94a690dcc25d1f4b0dac948325ac18f6dd32564371735f32c",
    "1fbec814b18b1d4c3eaa7cec41007e04bf0a98453b06ec7582aa29882c52eb3e",
    "ecd9c4a53ea15f18447b08fb96a13c5ab7dc7d24067b102fcbaaf7b39ca52e2d",
    "e463bcb1a6e57288ffd4671503082fa8656e3eacb78fb1925f8a7c76400e8e15",
]


class Net:
    def __init__(self, tmp_path, spec, make_hook=None):
        self.spec = spec
        self.make_hook = make_hook
        self.now = spec.genesis_timestamp * 1000 + 60000
        self.queue = []
        self.seq = 0
        self.verifier = RealVerifier()
        self.nodes = [self.make_node(tmp_path / ("n%d" % i), sk) for i, sk in enumerate(FIXTURE)]

    def make_node(self, path, sk_hex):
        store = BlockStore.open(str(path))
        shielded = self.make_hook() if self.make_hook is not None else None
        mempool = Mempool(self.spec.profile, NativeVerifier(), shielded=shielded)
        chain = NodeChain(self.spec, store, self.verifier, NativeVerifier(), mempool, shielded=shielded)
        signer = BlsSigner(bytes.fromhex(sk_hex))
        engine = ConsensusEngine(chain, signer, self.verifier, chain.timing, emergency_key=self.spec.emergency_key)
        return {"chain": chain, "engine": engine, "store": store, "mempool": mempool, "timer": None}

    def push(self, at, index, payload):
        self.seq += 1
        heapq.heappush(self.queue, (at, self.seq, index, payload))

    def flush(self, index):
        node = self.nodes[index]
        engine = node["engine"]
        for msg in engine.take_outgoing():
            data = encode_message(msg, push_block)
            for j in range(len(self.nodes)):
                if j != index:
                    self.push(self.now + 30, j, data)
        engine.take_events()
        deadline = engine.get_timer()
        if deadline is not None and deadline != node["timer"]:
            node["timer"] = deadline
            self.push(max(deadline, self.now), index, None)

    def run(self, until):
        for i, node in enumerate(self.nodes):
            node["engine"].on_start(self.now)
            self.flush(i)
        limit = self.now + 600000
        while self.queue and self.now < limit and not until():
            at, _, index, payload = heapq.heappop(self.queue)
            self.now = at
            node = self.nodes[index]
            if payload is None:
                if node["timer"] != at:
                    continue
                node["timer"] = None
                node["engine"].on_timer(at)
            else:
                node["engine"].on_message(decode_message(payload, pull_block), at)
            self.flush(index)
        return until()


@pytest.mark.slow
def test_devnet_chain_finalizes_includes_a_transfer_and_restarts_from_the_store(tmp_path):
    spec = load_genesis("devnet")
    net = Net(tmp_path, spec)
    chains = [n["chain"] for n in net.nodes]
    # fixture key 5 holds the preset's first funded account (PROTOCOL.md §4 keys, devnet only)
    sender = TxSigner(bytes.fromhex("7a19fb2d099a9557f7c10c2efbb8b101d9e0ec85610d5c74a887d1d4fb8d2827"))
    assert sender.account_key == spec.balances[0][0]
    receiver = AccountKey(SCHEME_BLS, bls.public_key(bls.secret_key_from_int(43)))
    tx = build_transfer(sender, receiver, 5 * 10 ** 9, nonce=1, chain_id=spec.profile.chain_id)
    for node in net.nodes:
        node["mempool"].add(tx, node["chain"].state, net.now)

    assert net.run(lambda: min(c.finality.last_final for c in chains) >= 4), [c.state.height for c in chains]
    for c in chains:
        assert c.state.balance(receiver) == 5 * 10 ** 9
        assert c.store.tx_location(tx.tx_id()) is not None
        assert len(c.mempool) == 0
    tips = set(c.tip_header().hash for c in chains if c.state.height == chains[0].state.height)
    assert len(tips) == 1
    for c in chains:
        assert c.finality.last_final >= 4
        for h in range(1, c.finality.last_final + 1):
            assert c.store.label(h) is not None

    # restart node 0 from its store: same tip and state hash, no replay from peers needed
    first = chains[0]
    height, state_hash = first.state.height, first.state.state_hash()
    first.store.close()
    reopened = NodeChain(spec, BlockStore.open(str(tmp_path / "n0")), net.verifier, NativeVerifier())
    assert reopened.state.height == height
    assert reopened.state.state_hash() == state_hash
    assert reopened.finality.last_final == first.finality.last_final
    assert reopened.state.balance(receiver) == 5 * 10 ** 9


@pytest.mark.slow
def test_shielded_transaction_is_final_on_every_chain_and_survives_a_restart(tmp_path):
    """The shielded kind through NodeChain: mempool, candidate, validation, acceptance, finality,
    the wallet's sync view, and the hook rebuilt by replaying the store."""
    from dusk_edge.core.ledger.execution import GAS_COSTS
    from dusk_edge.core.ledger.genesis_spec import GenesisSpec
    from dusk_edge.core.ledger.transactions import KIND_SHIELDED
    from dusk_edge.core.ledger.tx_builder import build_shielded
    from dusk_edge.zk.ledger_hook import ShieldedLedger
    from dusk_edge.zk.pool import ShieldedPool, ShieldedTx
    from tests.test_ledger_shielded import ProofStandIn

    doc = load_genesis("devnet").to_dict()
    doc["zk_verifying_keys"] = {"transfer": "ab" * 40}  # the stand-in verifier ignores it
    spec = GenesisSpec.from_dict(doc)
    net = Net(tmp_path, spec, lambda: ShieldedLedger(ProofStandIn()))
    chains = [n["chain"] for n in net.nodes]
    sender = TxSigner(bytes.fromhex("7a19fb2d099a9557f7c10c2efbb8b101d9e0ec85610d5c74a887d1d4fb8d2827"))
    fee = GAS_COSTS[KIND_SHIELDED]
    stx = ShieldedTx(ShieldedPool().tree.root, (5, 6), (7, 8), 10 ** 9 + fee, 0, fee, sender.account_key.encode(),
                     (b"\x01" * 88, b"\x02" * 88), bytes(192))
    tx = build_shielded(sender, stx.to_bytes(), 1, spec.profile.chain_id)
    for node in net.nodes:
        node["mempool"].add(tx, node["chain"].state, net.now)
    assert net.run(lambda: min(c.shielded_sync(0, 10)["final_total"] for c in chains) == 2), \
        [c.state.height for c in chains]
    views = [c.shielded_sync(0, 10) for c in chains]
    assert all(v["outputs"] == views[0]["outputs"] and v["pool_balance"] == 10 ** 9 for v in views)
    assert views[0]["outputs"][1] == [notes_hex(8), "02" * 88]
    assert all(c.state.shielded_pool == 10 ** 9 and c.state.check_supply() for c in chains)
    assert all(len(n["mempool"]) == 0 and not n["mempool"].reserved for n in net.nodes)

    first = chains[0]
    first.store.close()
    hook = ShieldedLedger(ProofStandIn())
    reopened = NodeChain(spec, BlockStore.open(str(tmp_path / "n0")), net.verifier, NativeVerifier(), shielded=hook)
    assert reopened.state.state_hash() == first.state.state_hash()
    assert reopened.shielded_sync(0, 10)["outputs"] == views[0]["outputs"]
    assert hook.pool.tree.root == first.shielded.pool.tree.root


def notes_hex(value):
    return value.to_bytes(32, "big").hex()
