"""The Groth16 verifier's algebra on a synthetic key whose trapdoor the test knows, so valid and
invalid proofs can be made without a prover: a*b = alpha*beta + x*gamma + c*delta in the exponent
(x = the IC combination). Fast; real prover proofs are in test_zk_transfer.py."""
import random

import pytest
from py_arkworks_bls12381 import G1Point, G2Point, Scalar

from dusk_edge.core.errors import CryptoError
from dusk_edge.crypto import zk

R = zk.R
G1, G2 = G1Point(), G2Point()


class Trapdoor:
    def __init__(self, rng, inputs=3):
        self.alpha, self.beta, self.gamma, self.delta = (rng.randrange(1, R) for _ in range(4))
        self.ic = [rng.randrange(1, R) for _ in range(inputs + 1)]
        self.vk = zk.VerifyingKey(G1 * Scalar(self.alpha), G2 * Scalar(self.beta), G2 * Scalar(self.gamma),
                                  G2 * Scalar(self.delta), [G1 * Scalar(k) for k in self.ic])
        self.pvk = zk.PreparedVerifyingKey(self.vk)

    def prove(self, public_inputs, rng):
        a, b = rng.randrange(1, R), rng.randrange(1, R)
        x = (self.ic[0] + sum(v * k for v, k in zip(public_inputs, self.ic[1:]))) % R
        c = (a * b - self.alpha * self.beta - x * self.gamma) * pow(self.delta, R - 2, R) % R
        return zk.Proof(G1 * Scalar(a), G2 * Scalar(b), G1 * Scalar(c))


@pytest.fixture(scope="module")
def setup():
    rng = random.Random(7)
    trapdoor = Trapdoor(rng)
    items = []
    for _ in range(6):
        inputs = [rng.randrange(R) for _ in range(3)]
        items.append((trapdoor.prove(inputs, rng), inputs))
    return trapdoor, items


def test_valid_proofs_verify_and_wrong_inputs_do_not(setup):
    trapdoor, items = setup
    for proof, inputs in items:
        assert zk.verify(trapdoor.pvk, proof, inputs)
        assert zk.verify(trapdoor.pvk, proof.to_bytes(), inputs)
        assert not zk.verify(trapdoor.pvk, proof, [inputs[0], inputs[1], (inputs[2] + 1) % R])


def test_batch_accepts_valid_and_catches_one_bad(setup):
    trapdoor, items = setup
    assert zk.batch_verify(trapdoor.pvk, items)
    assert zk.batch_verify(trapdoor.pvk, items[:1]) and zk.batch_verify(trapdoor.pvk, [])
    for bad_index in range(len(items)):
        bad = list(items)
        proof, inputs = bad[bad_index]
        bad[bad_index] = (zk.Proof(proof.a, proof.b, proof.c + G1), inputs)
        assert not zk.batch_verify(trapdoor.pvk, bad)
    # two wrong proofs that cancel in a plain (unweighted) sum are still caught by random weights
    (p0, x0), (p1, x1) = items[0], items[1]
    shifted = [(zk.Proof(p0.a, p0.b, p0.c + G1), x0), (zk.Proof(p1.a, p1.b, p1.c + (-G1)), x1)]
    assert not zk.batch_verify(trapdoor.pvk, shifted + items[2:])


def test_inputs_must_be_canonical_and_counted(setup):
    trapdoor, items = setup
    proof, inputs = items[0]
    with pytest.raises(CryptoError):
        zk.verify(trapdoor.pvk, proof, inputs[:2])
    with pytest.raises(CryptoError):
        zk.verify(trapdoor.pvk, proof, [inputs[0], inputs[1], inputs[2] + R])


def test_proof_and_key_bytes_round_trip_and_reject_junk(setup):
    trapdoor, items = setup
    proof, _ = items[0]
    data = proof.to_bytes()
    assert len(data) == zk.PROOF_SIZE and zk.Proof.from_bytes(data).to_bytes() == data
    vk_bytes = trapdoor.vk.to_bytes()
    assert zk.VerifyingKey.from_bytes(vk_bytes).to_bytes() == vk_bytes
    assert zk.prepare_verifying_key(vk_bytes) is zk.prepare_verifying_key(vk_bytes)  # cached
    rng = random.Random(9)
    for _ in range(60):
        junk = bytearray(data)
        junk[rng.randrange(len(junk))] ^= 1 << rng.randrange(8)
        try:
            zk.Proof.from_bytes(bytes(junk))
        except CryptoError:
            pass
    for cut in (data[:-1], data + b"\0", b"\xff" * 192):
        with pytest.raises(CryptoError):
            zk.Proof.from_bytes(cut)
    with pytest.raises(CryptoError):
        zk.VerifyingKey.from_bytes(vk_bytes[:100])


def test_snarkjs_json_round_trip(setup):
    _, items = setup
    proof, _ = items[0]
    assert zk.Proof.from_snarkjs(proof.to_snarkjs()).to_bytes() == proof.to_bytes()


def test_points_outside_the_subgroup_are_rejected():
    rng = random.Random(4)
    rejected = {"G1": 0, "G2": 0}
    for cls, size, name in ((G1Point, 48, "G1"), (G2Point, 96, "G2")):
        while rejected[name] < 3:
            raw = bytearray(rng.randbytes(size))
            raw[0] = (raw[0] & 0x1F) | 0x80  # compressed, not infinity
            try:
                cls.from_compressed_bytes_unchecked(bytes(raw))  # x on the curve (not the subgroup)
            except Exception:
                continue
            with pytest.raises(CryptoError):
                zk._decode_point(cls, bytes(raw), name)
            rejected[name] += 1
