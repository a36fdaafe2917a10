"""Generate the keystore_open and guard_record vectors (docs/keystore.md, docs/guard-format.md).

Independent of dusk_edge: keystores are sealed here with hashlib.scrypt and cryptography's AESGCM
following docs/keystore.md; public keys come from py_ecc; guard records are packed with struct and
the `crc32c` package following docs/guard-format.md.
Run: .venv/bin/python tests/vectors/_gen/gen_keys.py
"""
import hashlib
import json
import os
import random
import struct

import crc32c
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from py_ecc.bls.point_compression import compress_G2
from py_ecc.optimized_bls12_381 import G2, multiply

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
SOURCE = "hashlib.scrypt + cryptography AESGCM + py_ecc + struct/crc32c per docs/; gen_keys.py"
FIXTURE = [  # PROTOCOL.md §4 fixture secret keys (32-byte little-endian)
    "7f6f2ccdb23f2abb7b69278e947c01c6160a31cf02c19d06d0f6e5ab1d768b15",
    "611830d3641a68f94a690dcc25d1f4b0dac948325ac18f6dd32564371735f32c",
]
PK1 = ("8cae8f7f3f80932052b0fd71174108a1b8a3ede4f7e81d80d01b4a4ee6e61bd54aa51a30946b621bd495a6cccea"
       "f328d0d5ca39ed840c6a3ae949baa6fae07a8e26143c3b8074e31db751cbe529b61942a7a40bd19a1eeba73bfa0b9af363790")


def public_key(sk_hex):
    z1, z2 = compress_G2(multiply(G2, int.from_bytes(bytes.fromhex(sk_hex), "little")))
    return (z1.to_bytes(48, "big") + z2.to_bytes(48, "big")).hex()


def seal(sk_hex, passphrase, rng, n=1024, version=1):
    pk = public_key(sk_hex)
    salt, nonce = rng(16), rng(12)
    derived = hashlib.scrypt(passphrase.encode(), salt=salt, n=n, r=8, p=1, dklen=64, maxmem=1 << 26)
    seal_obj = {"scheme": "scrypt-aes256gcm", "kdf": {"n": n, "r": 8, "p": 1, "salt": salt.hex()},
                "check": hashlib.sha256(derived[32:]).hexdigest()}
    aad = b"dusk-edge-keystore/v1\x00" + json.dumps({"public_key": pk, "seal": seal_obj},
                                                     sort_keys=True, separators=(",", ":")).encode()
    ct = AESGCM(derived[:32]).encrypt(nonce, bytes.fromhex(sk_hex), aad)
    return {"format": "dusk-edge-keystore", "version": version, "public_key": pk, "seal": seal_obj,
            "nonce": nonce.hex(), "ciphertext": ct.hex()}


def keystore_cases(rng):
    cases = []
    for i, sk in enumerate(FIXTURE):
        for j, passphrase in enumerate(["edge", "pässwörd ✓ with spaces"]):
            cases.append({"name": "key%d-pass%d" % (i, j),
                          "input": {"keystore": seal(sk, passphrase, rng), "passphrase": passphrase},
                          "output": {"secret_key": sk, "public_key": public_key(sk)}})
    good = seal(FIXTURE[0], "edge", rng)
    cases.append({"name": "wrong-passphrase", "input": {"keystore": good, "passphrase": "Edge"},
                  "output": {"error": True}})
    tampered = json.loads(json.dumps(good))
    tampered["ciphertext"] = ("%02x" % (int(good["ciphertext"][:2], 16) ^ 1)) + good["ciphertext"][2:]
    cases.append({"name": "tampered-ciphertext", "input": {"keystore": tampered, "passphrase": "edge"},
                  "output": {"error": True}})
    swapped = dict(good, public_key=public_key(FIXTURE[1]))
    cases.append({"name": "swapped-public-key", "input": {"keystore": swapped, "passphrase": "edge"},
                  "output": {"error": True}})
    cases.append({"name": "newer-version", "input": {"keystore": seal(FIXTURE[0], "edge", rng, version=2),
                                                     "passphrase": "edge"}, "output": {"error": True}})
    huge = json.loads(json.dumps(good))
    huge["seal"]["kdf"]["n"] = 1 << 22
    cases.append({"name": "scrypt-n-over-limit", "input": {"keystore": huge, "passphrase": "edge"},
                  "output": {"error": True}})
    return cases


def record(kind, round_, iteration, step, data_hash, signature):
    body = struct.pack("<BQBB", kind, round_, iteration, step) + data_hash + signature
    return body + struct.pack("<I", crc32c.crc32c(body))


def guard_cases(rng):
    steps = ["proposal", "validation", "ratification", "seed"]
    kinds = {1: "signed", 2: "blocked", 3: "floor"}
    cases = []
    for i, (kind, round_, iteration, step) in enumerate([(1, 1, 0, 1), (1, 2 ** 64 - 2, 49, 2),
                                                        (2, 77, 3, 0), (3, 1000, 0, 0), (1, 5, 0, 3)]):
        h, s = rng(32), rng(48)
        if kind != 1:
            h, s = bytes(32), bytes(48)
        raw = record(kind, round_, iteration, step, h, s)
        cases.append({"name": "record%d-%s" % (i, kinds[kind]), "input": {"bytes": raw.hex()},
                      "output": {"kind": kinds[kind], "round": round_, "iteration": iteration,
                                 "step": steps[step], "data_hash": h.hex(), "signature": s.hex()}})
    raw = record(1, 9, 0, 1, rng(32), rng(48))
    bad_crc = raw[:-1] + bytes([raw[-1] ^ 0xFF])
    errors = {"truncated": raw[:-1], "trailing-byte": raw + b"\x00", "bad-crc": bad_crc,
              "unknown-kind": record(4, 9, 0, 1, bytes(32), bytes(48)),
              "unknown-step": record(1, 9, 0, 4, bytes(32), bytes(48)), "empty": b""}
    for name, data in errors.items():
        cases.append({"name": name, "input": {"bytes": data.hex()}, "output": {"error": True}})
    return cases


def write(suite, cases, comment):
    os.makedirs(os.path.join(OUT, suite), exist_ok=True)
    with open(os.path.join(OUT, suite, "project.json"), "w", encoding="utf-8") as f:
        json.dump({"suite": suite, "source": SOURCE, "comment": comment, "cases": cases}, f,
                  indent=1, ensure_ascii=False)
        f.write("\n")


def main():
    if public_key(FIXTURE[1]) != PK1:
        raise SystemExit("py_ecc disagrees with the reference public key of PROTOCOL.md §4")
    r = random.Random(8)
    rng = lambda n: bytes(r.getrandbits(8) for _ in range(n))  # noqa: E731 - deterministic vectors
    write("keystore_open", keystore_cases(rng), "scrypt-aes256gcm keystores sealed per docs/keystore.md")
    write("guard_record", guard_cases(rng), "96-byte guard records per docs/guard-format.md")


if __name__ == "__main__":
    main()
