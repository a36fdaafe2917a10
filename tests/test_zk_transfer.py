"""Real proofs end to end: the circom/snarkjs prover's proofs verify in the node's arkworks
verifier; tampered proofs and inputs are rejected; reused nullifiers are rejected in the mempool
and in blocks; and on >= 50 valid and invalid proofs our verifier agrees with snarkjs's own.

The circuit artifacts are cached under .cache/zk by source hash (a cold run builds them: npm
install, compile, a local powers-of-tau and Groth16 setup). All proofs are made in two node
processes and snarkjs verifies all cases in one.
"""
import random

import pytest
from py_arkworks_bls12381 import G1Point, G2Point, Scalar

from dusk_edge.core.errors import CryptoError
from dusk_edge.crypto import zk
from dusk_edge.zk import notes, toolchain
from dusk_edge.zk.pool import (
    DoubleSpend, InvalidProof, ShieldedMempool, ShieldedPool, ShieldedTx, apply_shielded_block,
    check_shielded_tx)
from dusk_edge.zk.prover import Prover, SpendableNote, plan_transaction
from dusk_edge.zk.verifier import TransferVerifier, verifying_key_bytes_from_snarkjs
from tests.conftest import require

pytestmark = pytest.mark.timeout(1800)


class World:
    """Three wallets' keys, one pool, and the proved transactions of two rounds."""


def _own(key, tx, index, position):
    value, blinding = key.decrypt_note(tx.commitments[index], tx.ciphertexts[index])
    return SpendableNote(key.secret, value, blinding, position)


@pytest.fixture(scope="module")
def world():
    require("node", "npm")
    w = World()
    w.artifacts = toolchain.build()
    w.prover = Prover(w.artifacts)
    w.vk_json = w.artifacts.verification_key()
    w.vk_bytes = verifying_key_bytes_from_snarkjs(w.vk_json)
    w.verifier = TransferVerifier(w.vk_bytes)
    w.alice, w.bob, w.carol = (notes.SpendingKey(bytes([i]) * 32) for i in (1, 2, 3))
    w.pool = ShieldedPool()
    tree = w.pool.tree
    # round 1: shielding, all against the empty tree
    shields = [plan_transaction(tree, [], [(k.address, v), (k.address, 0)], public_in=v + f, fee=f,
                                account=name)
               for k, v, f, name in ((w.alice, 1000, 0, b"alice"), (w.bob, 500, 5, b"bob"),
                                     (w.alice, 200, 1, b"alice"), (w.carol, 300, 0, b"carol"))]
    w.round1 = w.prover.prove(shields)
    apply_shielded_block(w.pool, w.round1, w.verifier)
    a1000, b500, a200, c300 = (_own(k, tx, 0, 2 * i) for i, (k, tx) in
                               enumerate(zip((w.alice, w.bob, w.alice, w.carol), w.round1)))
    w.root_after_round1 = w.pool.tree.root
    # round 2: transfers and an unshield; the third conflicts with the first (same note)
    plans = [
        plan_transaction(tree, [a1000], [(w.bob.address, 300), (w.alice.address, 698)], fee=2),
        plan_transaction(tree, [b500], [(w.bob.address, 99), (w.bob.address, 0)], public_out=400,
                         fee=1, account=b"bob"),
        plan_transaction(tree, [a1000, a200], [(w.carol.address, 1100), (w.alice.address, 100)]),
        plan_transaction(tree, [c300], [(w.alice.address, 100), (w.carol.address, 200)]),
    ]
    w.round2 = w.prover.prove(plans)
    return w


def test_proofs_from_the_prover_verify_in_the_node(world):
    for tx in world.round1 + world.round2:
        assert world.verifier.verify(tx.public_inputs(), tx.proof)
    assert world.pool.balance == 1000 + 500 + 200 + 300
    assert len(world.pool.tree) == 8


def test_verifying_key_genesis_bytes_round_trip(world):
    vk = zk.VerifyingKey.from_bytes(world.vk_bytes)
    assert vk.to_bytes() == world.vk_bytes and vk.public_input_count == 9
    with pytest.raises(CryptoError):
        zk.VerifyingKey.from_bytes(world.vk_bytes[:-1])
    with pytest.raises(CryptoError):
        zk.VerifyingKey.from_bytes(b"XXXX" + world.vk_bytes[4:])


def test_tampered_public_inputs_are_rejected(world):
    tx = world.round2[0]
    for index in range(9):
        inputs = tx.public_inputs()
        inputs[index] = (inputs[index] + 1) % notes.R
        assert not world.verifier.verify(inputs, tx.proof), index
    with pytest.raises(CryptoError):
        zk.verify(world.verifier.prepared, tx.proof, tx.public_inputs()[:-1])
    # a changed account (or ciphertext) changes the binding input, so the proof fails
    stolen = ShieldedTx(tx.root, tx.nullifiers, tx.commitments, tx.public_in, tx.public_out, tx.fee,
                        b"mallory", tx.ciphertexts, tx.proof)
    assert not world.verifier.verify(stolen.public_inputs(), stolen.proof)


def test_tampered_proofs_are_rejected(world):
    tx = world.round2[0]
    for variant in _tampered_proofs(tx.proof, world.round2[1].proof, random.Random(5)):
        assert not world.verifier.verify(tx.public_inputs(), variant)
    for cut in (tx.proof[:-1], tx.proof + b"\0", bytes(192), b"\xff" * 192):
        assert not world.verifier.verify(tx.public_inputs(), cut)


def test_batch_verification(world):
    items = [(tx.public_inputs(), tx.proof) for tx in world.round1 + world.round2]
    assert world.verifier.batch_verify(items)
    bad = list(items)
    bad[3] = (bad[3][0], world.round2[0].proof)
    assert not world.verifier.batch_verify(bad)
    inputs = [list(i) for i, _ in items]
    inputs[5][7] += 1
    assert not world.verifier.batch_verify([(i, p) for i, (_, p) in zip(inputs, items)])


def test_reused_nullifier_rejected_in_mempool_and_block(world):
    pool = ShieldedPool()
    apply_shielded_block(pool, world.round1, world.verifier)
    first, unshield, conflicting, carol = world.round2
    assert set(first.nullifiers) & set(conflicting.nullifiers)
    mempool = ShieldedMempool()
    mempool.admit(pool, first, world.verifier)
    mempool.admit(pool, unshield, world.verifier)
    with pytest.raises(DoubleSpend):
        mempool.admit(pool, conflicting, world.verifier)
    before = pool.sub_root()
    with pytest.raises(DoubleSpend):
        apply_shielded_block(pool, [first, conflicting], world.verifier)
    assert pool.sub_root() == before
    apply_shielded_block(pool, mempool.take(), world.verifier)
    assert pool.balance == 2000 - 400 - 1 - 2
    with pytest.raises(DoubleSpend):
        apply_shielded_block(pool, [conflicting], world.verifier)
    with pytest.raises(DoubleSpend):
        check_shielded_tx(pool, first, world.verifier)
    apply_shielded_block(pool, [carol], world.verifier)  # an unrelated spend still goes through


def test_recipients_find_their_notes(world):
    first = world.round2[0]
    assert world.bob.decrypt_note(first.commitments[0], first.ciphertexts[0]) is not None
    assert world.alice.decrypt_note(first.commitments[0], first.ciphertexts[0]) is None


def test_invalid_block_proof_is_named(world):
    pool = ShieldedPool()
    forged = world.round1[1]
    forged = ShieldedTx(forged.root, forged.nullifiers, forged.commitments, forged.public_in + 1,
                        forged.public_out, forged.fee, forged.account, forged.ciphertexts, forged.proof)
    with pytest.raises(InvalidProof):
        apply_shielded_block(pool, [world.round1[0], forged], world.verifier)
    assert len(pool.tree) == 0


def _tampered_proofs(proof_bytes, other_bytes, rng):
    proof, other = zk.Proof.from_bytes(proof_bytes), zk.Proof.from_bytes(other_bytes)
    random_g1 = G1Point() * Scalar(rng.randrange(1, notes.R))
    random_g2 = G2Point() * Scalar(rng.randrange(1, notes.R))
    variants = [
        zk.Proof(proof.a + G1Point(), proof.b, proof.c),
        zk.Proof(proof.a, proof.b + G2Point(), proof.c),
        zk.Proof(proof.a, proof.b, proof.c + G1Point()),
        zk.Proof(-proof.a, proof.b, proof.c),
        zk.Proof(proof.c, proof.b, proof.a),
        zk.Proof(random_g1, proof.b, proof.c),
        zk.Proof(proof.a, random_g2, proof.c),
        zk.Proof(other.a, proof.b, proof.c),
        zk.Proof(proof.a, other.b, other.c),
    ]
    return [v.to_bytes() for v in variants]


def test_agreement_with_snarkjs_verifier(world):
    require("node")
    rng = random.Random(50)
    txs = world.round1 + world.round2
    cases = []
    for i, tx in enumerate(txs):
        cases.append((tx.proof, tx.public_inputs()))
        other = txs[(i + 1) % len(txs)]
        for variant in _tampered_proofs(tx.proof, other.proof, rng)[: 3 + i % 3]:
            cases.append((variant, tx.public_inputs()))
        inputs = tx.public_inputs()
        index = rng.randrange(9)
        inputs[index] = rng.randrange(notes.R) if rng.random() < 0.5 else (inputs[index] + 1) % notes.R
        cases.append((tx.proof, inputs))
        cases.append((other.proof, tx.public_inputs()))
    assert len(cases) >= 50
    ours = [world.verifier.verify(inputs, proof) for proof, inputs in cases]
    theirs = toolchain.snarkjs_verify_many(
        world.vk_json, [(zk.Proof.from_bytes(proof).to_snarkjs(), inputs) for proof, inputs in cases])
    assert ours == theirs
    assert sum(ours) == len(txs) and len(cases) - sum(ours) >= 40
