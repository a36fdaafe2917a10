"""Generate the bls_public_key / bls_sign / bls_verify / quorum / merkle_root vectors.

Expected values come from independent implementations only: py_ecc (pure-Python BLS12-381,
RFC 9380 hash-to-curve) and hashlib, never from dusk_edge. The one reference value from Dusk's own
code (PROTOCOL.md §4, public key of fixture key 1) is checked here before anything is written.
Run: .venv/bin/python tests/vectors/_gen/gen_bls.py
"""
import hashlib
import json
import os
import random

from py_ecc.bls.hash_to_curve import hash_to_G1
from py_ecc.bls.point_compression import compress_G1, compress_G2
from py_ecc.optimized_bls12_381 import G2, add, curve_order, field_modulus, multiply

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
DST = b"BLS_SIG_BLS12381G1_XMD:SHA-256_DUSK_V2"
H1_PREFIX = b"BLS_SIG_BLS12381_SCALAR_SHA256_DUSK_H1_V2"
SOURCE = "py_ecc 8.0 (independent pure-Python BLS12-381) + hashlib; gen_bls.py"
FIXTURE = [  # PROTOCOL.md §4, generate_provisioners secret keys (32-byte little-endian)
    "7f6f2ccdb23f2abb7b69278e947c01c6160a31cf02c19d06d0f6e5ab1d768b15",
    "611830d3641a68f94a690dcc25d1f4b0dac948325ac18f6dd32564371735f32c",
    "1fbec814b18b1d4c3eaa7cec41007e04bf0a98453b06ec7582aa29882c52eb3e",
    "ecd9c4a53ea15f18447b08fb96a13c5ab7dc7d24067b102fcbaaf7b39ca52e2d",
]
PK1 = ("8cae8f7f3f80932052b0fd71174108a1b8a3ede4f7e81d80d01b4a4ee6e61bd54aa51a30946b621bd495a6cccea"
       "f328d0d5ca39ed840c6a3ae949baa6fae07a8e26143c3b8074e31db751cbe529b61942a7a40bd19a1eeba73bfa0b9af363790")


def g2_bytes(point):
    z1, z2 = compress_G2(point)
    return z1.to_bytes(48, "big") + z2.to_bytes(48, "big")


def g1_bytes(point):
    return compress_G1(point).to_bytes(48, "big")


def sk_int(sk_hex):
    return int.from_bytes(bytes.fromhex(sk_hex), "little")


def pk_of(sk_hex):
    return g2_bytes(multiply(G2, sk_int(sk_hex)))


def h1(pk):
    return int.from_bytes(hashlib.blake2b(H1_PREFIX + pk).digest(), "little") % curve_order


def msig(sk_hex, msg):
    pk = pk_of(sk_hex)
    return multiply(hash_to_G1(msg, DST, hashlib.sha256), sk_int(sk_hex) * h1(pk) % curve_order)


def off_subgroup_g1():
    """A compressed point on y^2 = x^3 + 4 that is not in the prime-order subgroup."""
    x = 5
    while True:
        rhs = (x ** 3 + 4) % field_modulus
        y = pow(rhs, (field_modulus + 1) // 4, field_modulus)
        if y * y % field_modulus == rhs:
            flag = 0x20 if y > field_modulus - y else 0
            raw = bytearray(x.to_bytes(48, "big"))
            raw[0] |= 0x80 | flag
            return bytes(raw).hex()
        x += 1


def write(suite, cases, comment):
    os.makedirs(os.path.join(OUT, suite), exist_ok=True)
    with open(os.path.join(OUT, suite, "project.json"), "w") as f:
        json.dump({"suite": suite, "source": SOURCE, "comment": comment, "cases": cases}, f, indent=1)
        f.write("\n")


def main():
    if pk_of(FIXTURE[1]).hex() != PK1:
        raise SystemExit("py_ecc disagrees with the reference public key of PROTOCOL.md §4")
    rng = random.Random(20261124)
    keys = FIXTURE + [rng.randrange(1, curve_order).to_bytes(32, "little").hex() for _ in range(4)]
    r_le = curve_order.to_bytes(32, "little").hex()

    pk_cases = [{"name": "fixture-%d" % i, "input": {"secret_key": k}, "output": {"public_key": pk_of(k).hex()}}
                for i, k in enumerate(keys)]
    pk_cases[1]["source"] = "PROTOCOL.md §4 pk1 (Dusk reference)"
    pk_cases += [
        {"name": "zero-key", "input": {"secret_key": "00" * 32}, "output": {"error": True}},
        {"name": "non-canonical-r", "input": {"secret_key": r_le}, "output": {"error": True}},
        {"name": "short-key", "input": {"secret_key": "01" * 31}, "output": {"error": True}},
        {"name": "not-hex", "input": {"secret_key": "zz" * 32}, "output": {"error": True}},
    ]
    write("bls_public_key", pk_cases, "pk = sk*g2, 96-byte compressed G2")

    messages = [b"", b"dusk", bytes(range(64)), b"\x00" * 41 + b"\x01\x01" + b"\xab" * 32]
    sign_cases = []
    for i, k in enumerate(keys[:5]):
        for j, m in enumerate(messages):
            if (i + j) % 2:
                continue
            sign_cases.append({"name": "key%d-msg%d" % (i, j), "input": {"secret_key": k, "message": m.hex()},
                               "output": {"signature": g1_bytes(msig(k, m)).hex()}})
    sign_cases.append({"name": "zero-key", "input": {"secret_key": "00" * 32, "message": "00"}, "output": {"error": True}})
    write("bls_sign", sign_cases, "multisig sk*H1(pk)*H0(m), V2 DST")

    verify_cases = []
    msg = b"validation-vote"
    for n in (1, 2, 4):
        signers = keys[:n]
        agg = msig(signers[0], msg)
        for k in signers[1:]:
            agg = add(agg, msig(k, msg))
        pks = [pk_of(k).hex() for k in signers]
        sig = g1_bytes(agg).hex()
        verify_cases.append({"name": "agg-%d" % n, "input": {"public_keys": pks, "message": msg.hex(), "signature": sig},
                             "output": {"valid": True}})
        verify_cases.append({"name": "agg-%d-wrong-msg" % n,
                             "input": {"public_keys": pks, "message": (msg + b"!").hex(), "signature": sig},
                             "output": {"valid": False}})
        if n > 1:
            verify_cases.append({"name": "agg-%d-missing-key" % n,
                                 "input": {"public_keys": pks[:-1], "message": msg.hex(), "signature": sig},
                                 "output": {"valid": False}})
    pks1 = [pk_of(keys[0]).hex()]
    plain = g1_bytes(multiply(hash_to_G1(msg, DST, hashlib.sha256), sk_int(keys[0]))).hex()
    good_sig = verify_cases[0]["input"]["signature"]
    verify_cases += [
        {"name": "plain-sig-is-not-multisig", "input": {"public_keys": pks1, "message": msg.hex(), "signature": plain},
         "output": {"valid": False}},
        {"name": "empty-keys", "input": {"public_keys": [], "message": msg.hex(), "signature": good_sig}, "output": {"error": True}},
        {"name": "identity-signature", "input": {"public_keys": pks1, "message": msg.hex(), "signature": "c0" + "00" * 47},
         "output": {"error": True}},
        {"name": "identity-key", "input": {"public_keys": ["c0" + "00" * 95], "message": msg.hex(), "signature": good_sig},
         "output": {"error": True}},
        {"name": "signature-off-subgroup", "input": {"public_keys": pks1, "message": msg.hex(), "signature": off_subgroup_g1()},
         "output": {"error": True}},
        {"name": "signature-uncompressed-flag", "input": {"public_keys": pks1, "message": msg.hex(),
                                                          "signature": "%02x" % (int(good_sig[:2], 16) & 0x7F) + good_sig[2:]},
         "output": {"error": True}},
        {"name": "key-not-on-curve", "input": {"public_keys": ["80" + "00" * 94 + "05"], "message": msg.hex(), "signature": good_sig},
         "output": {"error": True}},
        {"name": "short-signature", "input": {"public_keys": pks1, "message": msg.hex(), "signature": good_sig[:-2]},
         "output": {"error": True}},
    ]
    write("bls_verify", verify_cases, "aggregate multisig verify against APK = sum H1(pk)*pk")

    quorum_cases = [{"name": "credits-%d" % n, "input": {"credits": n},
                     "output": {"majority": n // 2 + 1, "supermajority": -(-2 * n // 3)}}
                    for n in (0, 1, 2, 3, 10, 63, 64, 65, 128)]
    quorum_cases[6]["source"] = "PROTOCOL.md §3.1: majority(64)=33, supermajority(64)=43"
    quorum_cases.append({"name": "negative", "input": {"credits": -1}, "output": {"error": True}})
    write("quorum", quorum_cases, "majority n//2+1, supermajority ceil(2n/3)")

    def sha3(b):
        return hashlib.sha3_256(b).digest()

    def ref_root(leaves):  # written from PROTOCOL.md §8 independently of dusk_edge.core.merkle
        if not leaves:
            return bytes(32)
        level = leaves
        while True:
            level = [sha3(level[i] + (level[i + 1] if i + 1 < len(level) else level[i])) for i in range(0, len(level), 2)]
            if len(level) == 1:
                return level[0]

    words = ["Hello", "Hi", "Hey", "Hola"]
    merkle_cases = [
        {"name": "reference-4", "source": "PROTOCOL.md §8", "input": {"leaves": [sha3(w.encode()).hex() for w in words]},
         "output": {"root": bytes([32, 188, 172, 153, 245, 171, 51, 156, 161, 201, 80, 58, 155, 97, 1, 79, 86, 175, 244, 91,
                                   137, 105, 238, 155, 233, 126, 112, 151, 195, 101, 37, 220]).hex()}},
        {"name": "reference-1", "source": "PROTOCOL.md §8", "input": {"leaves": [sha3(b"Bella").hex()]},
         "output": {"root": bytes([21, 37, 141, 144, 92, 108, 151, 168, 167, 108, 172, 79, 204, 99, 154, 196, 242, 247, 38,
                                   145, 254, 228, 141, 104, 75, 210, 148, 101, 74, 166, 1, 65]).hex()}},
        {"name": "empty", "input": {"leaves": []}, "output": {"root": "00" * 32}},
        {"name": "short-leaf", "input": {"leaves": ["00" * 31]}, "output": {"error": True}},
    ]
    for n in (2, 3, 5, 7, 8, 9, 33):
        leaves = [sha3(b"leaf%d" % i) for i in range(n)]
        merkle_cases.append({"name": "leaves-%d" % n, "input": {"leaves": [x.hex() for x in leaves]},
                             "output": {"root": ref_root(leaves).hex()}})
    if ref_root([sha3(w.encode()) for w in words]).hex() != merkle_cases[0]["output"]["root"]:
        raise SystemExit("reference merkle disagrees with PROTOCOL.md")
    write("merkle_root", merkle_cases, "binary SHA3-256 tree, odd node paired with itself, at least one level")


if __name__ == "__main__":
    main()
