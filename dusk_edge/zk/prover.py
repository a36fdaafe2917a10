"""The wallet's side of a shielded transaction: witness building and proving with snarkjs.

Theory of operation. `plan_transaction` turns up to two owned notes (with their tree positions),
two outputs (address, value), the public amounts and the fee into a `TransferPlan`: the public
fields of the ShieldedTx (commitments, nullifiers, ciphertexts, binding) plus the circuit input
(the witness's private part). Missing inputs are dummies of value 0 under a fresh random secret,
so their nullifiers are unlinkable random-looking values. `Prover.prove` runs the plans through
snarkjs in one node process and returns finished ShieldedTx objects; it checks that the circuit's
public signals equal the ones the node will compute, so a wallet bug shows up here, not as a
rejected transaction.
"""
import os

from dusk_edge.core.errors import ConfigError, CryptoError
from dusk_edge.crypto import zk
from dusk_edge.zk import notes, toolchain
from dusk_edge.zk.pool import ShieldedTx
from dusk_edge.zk.tree import DEPTH, ZEROS

MAX_INPUTS = 2


class SpendableNote:
    """A note the wallet can spend: its secret, value, blinding and leaf position."""

    __slots__ = ("secret", "value", "blinding", "position")

    def __init__(self, secret, value, blinding, position):
        self.secret = secret
        self.value = value
        self.blinding = blinding
        self.position = position

    def commitment(self):
        return notes.note_commitment(notes.owner_key(self.secret), self.value, self.blinding)

    def nullifier(self):
        return notes.nullifier(self.secret, self.position, self.commitment())


class TransferPlan:
    __slots__ = ("tx", "circuit_input")

    def __init__(self, tx, circuit_input):
        self.tx = tx
        self.circuit_input = circuit_input


def _dummy_input(rng):
    return SpendableNote(notes.random_field(rng), 0, notes.random_field(rng), 0)


def _check_amount(name, value):
    if not 0 <= value <= notes.MAX_VALUE:
        raise ConfigError("%s must be a 64-bit amount, got %r" % (name, value))


def plan_transaction(tree, spends, outputs, public_in=0, public_out=0, fee=0, account=b"",
                     rng=os.urandom):
    """A TransferPlan; ``outputs`` are exactly two (address bytes, value) pairs.

    Raises ConfigError when amounts do not balance or do not fit 64 bits.
    """
    if len(spends) > MAX_INPUTS or len(outputs) != 2:
        raise ConfigError("a shielded transaction has at most 2 inputs and exactly 2 outputs")
    for name, value in (("public_in", public_in), ("public_out", public_out), ("fee", fee)):
        _check_amount(name, value)
    for _, value in outputs:
        _check_amount("output value", value)
    spends = list(spends) + [_dummy_input(rng) for _ in range(MAX_INPUTS - len(spends))]
    if sum(s.value for s in spends) + public_in != sum(v for _, v in outputs) + public_out + fee:
        raise ConfigError("inputs + public_in must equal outputs + public_out + fee")
    root = tree.root
    paths = [tree.path(s.position) if s.value else [ZEROS[level] for level in range(DEPTH)]
             for s in spends]
    out_owners, out_blindings, commitments, ciphertexts = [], [], [], []
    for address, value in outputs:
        owner, _ = notes.parse_address(address)
        blinding = notes.random_field(rng)
        commitment = notes.note_commitment(owner, value, blinding)
        out_owners.append(owner)
        out_blindings.append(blinding)
        commitments.append(commitment)
        ciphertexts.append(notes.encrypt_note(address, value, blinding, commitment, rng))
    tx = ShieldedTx(root, [s.nullifier() for s in spends], commitments, public_in, public_out,
                    fee, account, ciphertexts, b"\0" * zk.PROOF_SIZE)
    circuit_input = {
        "root": str(root),
        "nullifier": [str(n) for n in tx.nullifiers],
        "commitment": [str(c) for c in commitments],
        "publicIn": str(public_in), "publicOut": str(public_out), "fee": str(fee),
        "binding": str(tx.binding()),
        "inSecret": [str(s.secret) for s in spends],
        "inValue": [str(s.value) for s in spends],
        "inBlinding": [str(s.blinding) for s in spends],
        "inSiblings": [[str(x) for x in path] for path in paths],
        "inBits": [[str((s.position >> level) & 1) for level in range(DEPTH)] for s in spends],
        "outOwner": [str(o) for o in out_owners],
        "outValue": [str(v) for _, v in outputs],
        "outBlinding": [str(b) for b in out_blindings],
    }
    return TransferPlan(tx, circuit_input)


class Prover:
    """Proves TransferPlans with the cached circuit artifacts (built on first use)."""

    __slots__ = ("artifacts", "last_proving_ms")

    def __init__(self, artifacts=None):
        self.artifacts = artifacts or toolchain.build()
        self.last_proving_ms = []

    def prove(self, plans):
        """Finished ShieldedTx objects, one per plan, in order."""
        results = toolchain.prove_many(self.artifacts, [p.circuit_input for p in plans])
        txs = []
        self.last_proving_ms = []
        for plan, (proof_json, public_signals, ms) in zip(plans, results):
            if public_signals != plan.tx.public_inputs():
                raise CryptoError("circuit public signals differ from the transaction's")
            tx = plan.tx
            tx.proof = zk.Proof.from_snarkjs(proof_json).to_bytes()
            txs.append(tx)
            self.last_proving_ms.append(ms)
        return txs

    def verifying_key_json(self):
        return self.artifacts.verification_key()
