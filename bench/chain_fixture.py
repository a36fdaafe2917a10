"""A long devnet chain for the sync benchmark, made once and cached under .cache/bench/.

Four devnet provisioners (PROTOCOL.md §4 fixture keys 1..4) run the real consensus engine over
NodeChain on a virtual clock, as tests/test_node_chain.py does, with real BLS signing and real
aggregated attestations; a transfer from the funded fixture account goes into every
TRANSFER_EVERY-th block. While *making* the chain the engines trust signatures (our own honest
keys signed them), which makes generation ~3x faster; the benchmark's sync pass then verifies
every signature and attestation for real, so a bad chain would be rejected there.

The cache holds the encoded blocks (u32 length + block, in height order) and meta.json; it is
keyed by CHAIN_VERSION and the block count, so changing the block format means bumping it.
"""
import heapq
import json
import os
import struct
import tempfile
import time

from dusk_edge.core.consensus.engine import ConsensusEngine
from dusk_edge.core.consensus.messages import decode_message, encode_message
from dusk_edge.core.ledger.block import decode_block, encode_block, pull_block, push_block
from dusk_edge.core.ledger.mempool import Mempool
from dusk_edge.core.ledger.signatures import NativeVerifier
from dusk_edge.core.ledger.transactions import SCHEME_BLS, AccountKey
from dusk_edge.core.ledger.tx_builder import BlsSigner as TxSigner, build_transfer
from dusk_edge.crypto import bls
from dusk_edge.genesis import load_genesis
from dusk_edge.node_chain import NodeChain
from dusk_edge.sim.fake_bls import BlsSigner
from dusk_edge.store.block_store import BlockStore

CHAIN_VERSION = "devnet-4prov-v1"
TRANSFER_EVERY = 10
CACHE_ROOT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".cache", "bench")
PROVISIONER_KEYS = [  # PROTOCOL.md §4 secret keys 1..4: the devnet preset's provisioners
    "611830d3641a68f94a690dcc25d1f4b0dac948325ac18f6dd32564371735f32c",
    "1fbec814b18b1d4c3eaa7cec41007e04bf0a98453b06ec7582aa29882c52eb3e",
    "ecd9c4a53ea15f18447b08fb96a13c5ab7dc7d24067b102fcbaaf7b39ca52e2d",
    "e463bcb1a6e57288ffd4671503082fa8656e3eacb78fb1925f8a7c76400e8e15",
]
FUNDED_KEY = "7a19fb2d099a9557f7c10c2efbb8b101d9e0ec85610d5c74a887d1d4fb8d2827"  # fixture key 5
LINK_DELAY_MS = 30


class TrustingVerifier:
    """Real aggregation, signatures taken as valid: only for producing the chain from honest keys."""

    verify_multisig = staticmethod(lambda public_keys, message, signature: True)
    aggregate_signatures = staticmethod(bls.aggregate_signatures)


class ChainMaker:
    """The 4-provisioner engine loop; node 0 keeps a store, the others run in memory."""

    def __init__(self, store_dir):
        self.spec = load_genesis("devnet")
        self.now = self.spec.genesis_timestamp * 1000 + 60000
        self.queue = []
        self.seq = 0
        self.nodes = [self.make_node(store_dir if i == 0 else None, sk) for i, sk in enumerate(PROVISIONER_KEYS)]
        self.sender = TxSigner(bytes.fromhex(FUNDED_KEY))
        self.receiver = AccountKey(SCHEME_BLS, bls.public_key(bls.secret_key_from_int(43)))
        self.nonce = 0

    def make_node(self, store_dir, sk_hex):
        store = BlockStore.open(store_dir) if store_dir is not None else None
        mempool = Mempool(self.spec.profile, NativeVerifier())
        chain = NodeChain(self.spec, store, TrustingVerifier(), NativeVerifier(), mempool)
        engine = ConsensusEngine(chain, BlsSigner(bytes.fromhex(sk_hex)), TrustingVerifier(), chain.timing,
                                 emergency_key=self.spec.emergency_key)
        return {"chain": chain, "engine": engine, "mempool": mempool, "timer": None}

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
                    self.push(self.now + LINK_DELAY_MS, j, data)
        engine.take_events()
        deadline = engine.get_timer()
        if deadline is not None and deadline != node["timer"]:
            node["timer"] = deadline
            self.push(max(deadline, self.now), index, None)

    def offer_transfer(self):
        self.nonce += 1
        tx = build_transfer(self.sender, self.receiver, 10 ** 9, nonce=self.nonce, chain_id=self.spec.profile.chain_id)
        for node in self.nodes:
            node["mempool"].add(tx, node["chain"].state, self.now)

    def step(self):
        at, _, index, payload = heapq.heappop(self.queue)
        self.now = at
        node = self.nodes[index]
        if payload is None:
            if node["timer"] != at:
                return
            node["timer"] = None
            node["engine"].on_timer(at)
        else:
            node["engine"].on_message(decode_message(payload, pull_block), at)
        self.flush(index)

    def run(self, blocks, progress=None):
        """Run until every node holds ``blocks`` blocks; returns node 0's chain."""
        for i, node in enumerate(self.nodes):
            node["engine"].on_start(self.now)
            self.flush(i)
        chains = [n["chain"] for n in self.nodes]
        offered = 0
        while min(c.state.height for c in chains) < blocks:
            height = chains[0].state.height
            if height // TRANSFER_EVERY > offered and height + 2 < blocks:
                offered = height // TRANSFER_EVERY
                self.offer_transfer()
            self.step()
            if progress is not None and chains[0].state.height != height:
                progress(chains[0].state.height)
        return chains[0]


def cache_dir(blocks):
    return os.path.join(CACHE_ROOT, "chain-%d" % blocks)


def load_chain(blocks):
    """(encoded blocks list, meta dict) from the cache, or None when missing or stale."""
    path = cache_dir(blocks)
    try:
        with open(os.path.join(path, "meta.json")) as f:
            meta = json.load(f)
        if meta.get("version") != CHAIN_VERSION or meta.get("blocks") != blocks:
            return None
        with open(os.path.join(path, "blocks.bin"), "rb") as f:
            data = f.read()
    except (OSError, ValueError):
        return None
    encoded, offset = [], 0
    while offset < len(data):
        (size,) = struct.unpack_from("<I", data, offset)
        encoded.append(data[offset + 4:offset + 4 + size])
        offset += 4 + size
    return (encoded, meta) if len(encoded) == blocks else None


def make_chain(blocks, log=print):
    """Produce and cache a ``blocks``-long chain; returns (encoded blocks, meta)."""
    started = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        maker = ChainMaker(os.path.join(tmp, "store"))

        def progress(height):
            if height % 500 == 0:
                log("chain: %d/%d blocks, %.0f s" % (height, blocks, time.time() - started))

        chain = maker.run(blocks, progress)
        encoded = [encode_block(chain._stored_block(h)) for h in range(1, blocks + 1)]
        meta = {"version": CHAIN_VERSION, "blocks": blocks, "transfers": maker.nonce,
                "state_hash": chain.state.state_hash().hex(), "tip_hash": chain.tip_header().hash.hex(),
                "iterations_nonzero": sum(1 for e in encoded if decode_block(e).header.iteration != 0),
                "make_s": round(time.time() - started, 1)}
        chain.store.close()
    path = cache_dir(blocks)
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "blocks.bin"), "wb") as f:
        for e in encoded:
            f.write(struct.pack("<I", len(e)) + e)
    with open(os.path.join(path, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2)
    return encoded, meta


def load_or_make_chain(blocks, log=print):
    cached = load_chain(blocks)
    return cached if cached is not None else make_chain(blocks, log)
