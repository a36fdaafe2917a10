"""Groth16 verification over BLS12-381 on py-arkworks-bls12381 (the node's side of shielded proofs).

Theory of operation. A verifying key is (alpha in G1, beta, gamma, delta in G2, IC[0..n] in G1);
a proof is (A in G1, B in G2, C in G1); public inputs x_1..x_n are scalars < r. The proof is
valid when

    e(A, B) = e(alpha, beta) * e(vk_x, gamma) * e(C, delta),   vk_x = IC[0] + sum x_i IC[i]

`PreparedVerifyingKey` decodes the key once, keeps -gamma, -delta and the constant e(alpha, beta),
so one verification is an MSM of n+1 points and a 3-pair multi-pairing compared with that constant.

Batch verification with random 128-bit weights r_j, r_1 = 1 (a random linear combination: a batch
with an invalid proof passes with probability about 2^-128):

    prod_j e(r_j A_j, B_j) * e(-(sum r_j) alpha, beta) * e(-sum_j r_j vk_x_j, gamma)
        * e(-sum_j r_j C_j, delta) == 1

costs n + 3 Miller loops and one final exponentiation instead of 3n and n; the sum of the vk_x_j
collapses into one MSM over IC with coefficients summed mod r.

Byte formats (big-endian compressed points, arkworks/zcash flags):
    proof (192 B)  = A (48) || B (96) || C (48)
    vk             = b"DZV1" || n u16 || alpha (48) || beta || gamma || delta (96 each)
                     || IC[0..n] (48 each)          -- the form fixed in genesis
Malformed bytes (length, not on the curve, not in the subgroup) raise CryptoError; well-formed
proofs that do not verify return False.
"""
import os
import struct

from py_arkworks_bls12381 import GT, G1Point, G2Point, Scalar

from dusk_edge.core.errors import CryptoError

R = 0x73EDA753299D7D483339D80809A1D80553BDA402FFFE5BFEFFFFFFFF00000001
G1_SIZE = 48
G2_SIZE = 96
PROOF_SIZE = 2 * G1_SIZE + G2_SIZE
VK_MAGIC = b"DZV1"
MAX_PUBLIC_INPUTS = 64


# points -------------------------------------------------------------------------------------------


def _decode_point(cls, data, name):
    data = bytes(data)
    try:
        # decompression puts the point on the curve; the subgroup check follows (measured: about
        # half the time of arkworks' checked decoder for G2)
        point = cls.from_compressed_bytes_unchecked(data)
    except Exception as exc:  # arkworks raises plain exceptions for bad encodings
        raise CryptoError("bad %s point: %s" % (name, exc)) from None
    # arkworks ignores stray bits next to the infinity flag; one encoding per point keeps
    # transaction bytes (and their hashes) unmalleable
    if point.to_compressed_bytes() != data:
        raise CryptoError("non-canonical %s point encoding" % name)
    if not point.is_in_subgroup():
        raise CryptoError("%s point is not in the prime-order subgroup" % name)
    return point


def _g1(data):
    return _decode_point(G1Point, data, "G1")


def _g2(data):
    return _decode_point(G2Point, data, "G2")


def g1_from_decimal(coords):
    """A G1 point from snarkjs's JSON form [x, y, z] (decimal strings, z in {0, 1})."""
    if int(coords[2]) == 0:
        return G1Point.identity()
    raw = int(coords[0]).to_bytes(48, "big") + int(coords[1]).to_bytes(48, "big")
    try:
        return G1Point.from_xy_bytes_be(raw)
    except Exception as exc:
        raise CryptoError("bad G1 point: %s" % exc) from None


def g2_from_decimal(coords):
    """A G2 point from snarkjs's JSON form [[x.c0, x.c1], [y.c0, y.c1], [1, 0]]."""
    if int(coords[2][0]) == 0 and int(coords[2][1]) == 0:
        return G2Point.identity()
    parts = (coords[0][0], coords[0][1], coords[1][0], coords[1][1])
    try:
        return G2Point.from_xy_bytes_be(b"".join(int(p).to_bytes(48, "big") for p in parts))
    except Exception as exc:
        raise CryptoError("bad G2 point: %s" % exc) from None


def g1_to_decimal(point):
    raw = point.to_xy_bytes_be()
    return [str(int.from_bytes(raw[:48], "big")), str(int.from_bytes(raw[48:], "big")), "1"]


def g2_to_decimal(point):
    raw = point.to_xy_bytes_be()
    c = [str(int.from_bytes(raw[i:i + 48], "big")) for i in range(0, 192, 48)]
    return [[c[0], c[1]], [c[2], c[3]], ["1", "0"]]


# proofs -------------------------------------------------------------------------------------------


class Proof:
    """A decoded Groth16 proof (points already checked on the curve and in the subgroup)."""

    __slots__ = ("a", "b", "c")

    def __init__(self, a, b, c):
        self.a = a
        self.b = b
        self.c = c

    @classmethod
    def from_bytes(cls, data):
        if len(data) != PROOF_SIZE:
            raise CryptoError("proof must be %d bytes, got %d" % (PROOF_SIZE, len(data)))
        return cls(_g1(data[:48]), _g2(data[48:144]), _g1(data[144:]))

    def to_bytes(self):
        return self.a.to_compressed_bytes() + self.b.to_compressed_bytes() + self.c.to_compressed_bytes()

    @classmethod
    def from_snarkjs(cls, doc):
        """From snarkjs's proof.json dict."""
        return cls(g1_from_decimal(doc["pi_a"]), g2_from_decimal(doc["pi_b"]), g1_from_decimal(doc["pi_c"]))

    def to_snarkjs(self):
        return {"pi_a": g1_to_decimal(self.a), "pi_b": g2_to_decimal(self.b),
                "pi_c": g1_to_decimal(self.c), "protocol": "groth16", "curve": "bls12381"}


# verifying keys -----------------------------------------------------------------------------------


class VerifyingKey:
    """Groth16 verifying key: alpha (G1), beta, gamma, delta (G2), ic (list of G1, n + 1)."""

    __slots__ = ("alpha", "beta", "gamma", "delta", "ic")

    def __init__(self, alpha, beta, gamma, delta, ic):
        if not 2 <= len(ic) <= MAX_PUBLIC_INPUTS + 1:
            raise CryptoError("verifying key must have 1..%d public inputs" % MAX_PUBLIC_INPUTS)
        self.alpha = alpha
        self.beta = beta
        self.gamma = gamma
        self.delta = delta
        self.ic = list(ic)

    @property
    def public_input_count(self):
        return len(self.ic) - 1

    @classmethod
    def from_snarkjs(cls, doc):
        """From snarkjs's verification_key.json dict (must be groth16 over bls12381)."""
        if doc.get("protocol") != "groth16" or doc.get("curve") != "bls12381":
            raise CryptoError("verifying key is not groth16/bls12381")
        return cls(g1_from_decimal(doc["vk_alpha_1"]), g2_from_decimal(doc["vk_beta_2"]),
                   g2_from_decimal(doc["vk_gamma_2"]), g2_from_decimal(doc["vk_delta_2"]),
                   [g1_from_decimal(p) for p in doc["IC"]])

    def to_bytes(self):
        """The genesis form of the key (see the module comment)."""
        out = [VK_MAGIC, struct.pack(">H", self.public_input_count), self.alpha.to_compressed_bytes()]
        out += [p.to_compressed_bytes() for p in (self.beta, self.gamma, self.delta)]
        out += [p.to_compressed_bytes() for p in self.ic]
        return b"".join(out)

    @classmethod
    def from_bytes(cls, data):
        data = bytes(data)
        if len(data) < 6 or data[:4] != VK_MAGIC:
            raise CryptoError("verifying key must start with %r" % VK_MAGIC)
        (count,) = struct.unpack(">H", data[4:6])
        expected = 6 + G1_SIZE + 3 * G2_SIZE + (count + 1) * G1_SIZE
        if len(data) != expected:
            raise CryptoError("verifying key for %d inputs must be %d bytes, got %d"
                              % (count, expected, len(data)))
        pos = 6 + G1_SIZE
        g2s = [_g2(data[pos + i * G2_SIZE:pos + (i + 1) * G2_SIZE]) for i in range(3)]
        pos += 3 * G2_SIZE
        ic = [_g1(data[pos + i * G1_SIZE:pos + (i + 1) * G1_SIZE]) for i in range(count + 1)]
        return cls(_g1(data[6:6 + G1_SIZE]), g2s[0], g2s[1], g2s[2], ic)


class PreparedVerifyingKey:
    """A verifying key with what every verification reuses computed once."""

    __slots__ = ("vk", "neg_gamma", "neg_delta", "alpha_beta", "neg_alpha")

    def __init__(self, vk):
        self.vk = vk
        self.neg_gamma = -vk.gamma
        self.neg_delta = -vk.delta
        self.neg_alpha = -vk.alpha
        self.alpha_beta = GT.pairing(vk.alpha, vk.beta)


_PREPARED = {}


def prepare_verifying_key(vk_bytes):
    """The PreparedVerifyingKey for genesis bytes, decoded once per process and cached."""
    vk_bytes = bytes(vk_bytes)
    prepared = _PREPARED.get(vk_bytes)
    if prepared is None:
        prepared = PreparedVerifyingKey(VerifyingKey.from_bytes(vk_bytes))
        _PREPARED[vk_bytes] = prepared
    return prepared


# verification -------------------------------------------------------------------------------------


def _check_inputs(pvk, public_inputs):
    if len(public_inputs) != pvk.vk.public_input_count:
        raise CryptoError("expected %d public inputs, got %d"
                          % (pvk.vk.public_input_count, len(public_inputs)))
    for value in public_inputs:
        if not 0 <= value < R:
            raise CryptoError("public input is not a canonical scalar")


def _vk_x(pvk, coefficients):
    return G1Point.multiexp_unchecked(pvk.vk.ic, [Scalar(c) for c in coefficients])


def verify(pvk, proof, public_inputs):
    """True when ``proof`` (a Proof or its 192 bytes) is valid for ``public_inputs`` (ints < r)."""
    if not isinstance(proof, Proof):
        proof = Proof.from_bytes(proof)
    _check_inputs(pvk, public_inputs)
    vk_x = _vk_x(pvk, [1] + list(public_inputs))
    lhs = GT.multi_pairing([proof.a, vk_x, proof.c], [proof.b, pvk.neg_gamma, pvk.neg_delta])
    return lhs == pvk.alpha_beta


def batch_verify(pvk, items, rng=os.urandom):
    """True when every (proof, public_inputs) in ``items`` is valid (one combined pairing check).

    ``rng(n)`` gives the random bytes of the weights; a False result says some proof is invalid,
    not which one (callers fall back to `verify` one by one to find it).
    """
    if not items:
        return True
    if len(items) == 1:
        return verify(pvk, items[0][0], items[0][1])
    count = pvk.vk.public_input_count
    ic_coefficients = [0] * (count + 1)
    weight_sum = 0
    weighted_a, b_points, c_points, c_weights = [], [], [], []
    for proof, public_inputs in items:
        if not isinstance(proof, Proof):
            proof = Proof.from_bytes(proof)
        _check_inputs(pvk, public_inputs)
        # the first weight may be 1 (a forged proof still has to guess the others): one G1
        # multiplication less
        weight = int.from_bytes(rng(16), "big") | 1 if weighted_a else 1
        weight_sum += weight
        ic_coefficients[0] += weight
        for i, value in enumerate(public_inputs):
            ic_coefficients[i + 1] = (ic_coefficients[i + 1] + weight * value) % R
        weighted_a.append(proof.a * Scalar(weight) if weight != 1 else proof.a)
        b_points.append(proof.b)
        c_points.append(proof.c)
        c_weights.append(Scalar(weight))
    vk_x_sum = _vk_x(pvk, [c % R for c in ic_coefficients])
    c_sum = G1Point.multiexp_unchecked(c_points, c_weights)
    alpha_term = pvk.neg_alpha * Scalar(weight_sum % R)
    return GT.pairing_check(weighted_a + [alpha_term, vk_x_sum, c_sum],
                            b_points + [pvk.vk.beta, pvk.neg_gamma, pvk.neg_delta])
