"""Generate tests/vectors/header_hash/*.json.

The expected hashes come from this file's own tiny encoder (struct + hashlib.sha3_256) written
straight from PROTOCOL.md §8, never from dusk_edge's Header class.
Run: .venv/bin/python tests/vectors/_gen/gen_header_hash.py
"""
import hashlib
import json
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "header_hash")
SOURCE = "PROTOCOL.md §8 hashable layout, packed by gen_header_hash.py with struct + hashlib.sha3_256"
VOTE_TAGS = {"no_candidate": 0, "valid": 1, "invalid": 2, "no_quorum": 3}


def pack_sv(sv):
    return struct.pack("<Q", sv["bitset"]) + bytes.fromhex(sv["aggregate_signature"])


def pack_att(att):
    out = bytes([1 if att["result"] == "success" else 0, VOTE_TAGS[att["vote"]]])
    if att["vote"] in ("valid", "invalid"):
        out += bytes.fromhex(att["hash"])
    return out + pack_sv(att["validation"]) + pack_sv(att["ratification"])


def pack_header(h):
    out = struct.pack("<BQQ", h["version"], h["height"], h["timestamp"])
    for name in ("prev_block_hash", "seed", "state_hash", "event_bloom", "generator_bls_pubkey", "txroot", "faultroot"):
        out += bytes.fromhex(h[name])
    out += struct.pack("<QB", h["gas_limit"], h["iteration"])
    out += pack_att(h["prev_block_cert"])
    out += bytes([len(h["failed_iterations"])])
    for entry in h["failed_iterations"]:
        if entry is None:
            out += b"\x00"
        else:
            out += b"\x01" + pack_att(entry["attestation"]) + bytes.fromhex(entry["generator"])
    return out


def fill(byte, n):
    return (bytes([byte]) * n).hex()


def sv(bitset, byte):
    return {"bitset": bitset, "aggregate_signature": fill(byte, 48)}


def att(result, vote, hash_byte=None, v=(0, 0), r=(0, 0)):
    a = {"result": result, "vote": vote, "validation": sv(*v), "ratification": sv(*r)}
    if hash_byte is not None:
        a["hash"] = fill(hash_byte, 32)
    return a


def header(**over):
    h = {"version": 1, "height": 0, "timestamp": 0, "prev_block_hash": fill(0, 32), "seed": fill(0, 48),
         "state_hash": fill(0, 32), "event_bloom": fill(0, 256), "generator_bls_pubkey": fill(0, 96),
         "txroot": fill(0, 32), "faultroot": fill(0, 32), "gas_limit": 0, "iteration": 0,
         "prev_block_cert": att("fail", "no_candidate"), "failed_iterations": []}
    h.update(over)
    return h


def failed(vote, gen_byte, hash_byte=None):
    return {"attestation": att("fail", vote, hash_byte, (0xF0F0, 0x21), (0x0F0F, 0x22)), "generator": fill(gen_byte, 96)}


def ok_cases():
    yield "default", header()
    yield "typical-iteration-0", header(
        height=1234, timestamp=1767225610, prev_block_hash=fill(0xAB, 32), seed=fill(0x11, 48),
        state_hash=fill(0x22, 32), generator_bls_pubkey=fill(0x33, 96), txroot=fill(0x44, 32),
        faultroot=fill(0x55, 32), gas_limit=3000000000,
        prev_block_cert=att("success", "valid", 0xAB, ((1 << 64) - 1, 0x66), (0x8000000000000001, 0x77)))
    # PROTOCOL.md §8 round-trip fixture of the reference (message.rs test_serialize)
    yield "reference-fixture", header(
        version=3, height=1888881, timestamp=123456789, gas_limit=111111111, prev_block_hash=fill(1, 32),
        seed=fill(2, 48), generator_bls_pubkey=fill(5, 96), state_hash=fill(4, 32), event_bloom=fill(5, 256),
        txroot=fill(7, 32), faultroot=fill(8, 32), iteration=1,
        prev_block_cert=att("success", "valid", 0x06, (444444444, 6), (55555555, 7)))
    yield "failed-iterations-mixed", header(height=77, iteration=3, failed_iterations=[
        None, failed("no_candidate", 0x91), failed("invalid", 0x92, 0xEE)])
    yield "failed-iterations-eight", header(height=78, iteration=8, failed_iterations=[
        failed("no_quorum", i) if i % 2 else None for i in range(8)])
    yield "max-integers", header(version=255, height=(1 << 64) - 1, timestamp=(1 << 64) - 1,
                                 gas_limit=(1 << 64) - 1, iteration=255)
    yield "invalid-cert-vote", header(height=5, prev_block_cert=att("fail", "invalid", 0x01, (3, 9), (5, 10)))
    yield "no-quorum-cert", header(height=6, prev_block_cert=att("fail", "no_quorum"))


def error_cases():
    yield "nine-failed-iterations", header(failed_iterations=[None] * 9)
    bad = att("fail", "no_candidate")
    bad["hash"] = fill(1, 32)
    yield "hash-on-no-candidate", header(prev_block_cert=bad)
    bad = att("success", "valid", 1)
    del bad["hash"]
    yield "valid-without-hash", header(prev_block_cert=bad)
    yield "bitset-too-large", header(prev_block_cert=att("success", "valid", 1, (1 << 64, 1)))
    h = header()
    h["extra"] = 1
    yield "unknown-header-key", h
    h = header()
    del h["txroot"]
    yield "missing-txroot", h
    yield "short-seed", header(seed=fill(1, 47))
    yield "not-hex", header(state_hash="zz" * 32)
    yield "height-negative", header(height=-1)
    yield "iteration-too-large", header(iteration=256)
    yield "bad-vote-name", header(prev_block_cert=att("fail", "maybe"))


def main():
    cases = []
    for name, h in ok_cases():
        cases.append({"name": name, "input": {"header": h},
                      "output": {"hash": hashlib.sha3_256(pack_header(h)).hexdigest()}})
    for name, h in error_cases():
        cases.append({"name": name, "input": {"header": h}, "output": {"error": True}})
    cases.append({"name": "unknown-input-key", "input": {"header": header(), "x": 1}, "output": {"error": True}})
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "header_hash.json"), "w") as f:
        json.dump({"suite": "header_hash", "source": SOURCE, "cases": cases}, f, indent=1)
        f.write("\n")
    print("wrote %d header_hash cases" % len(cases))


if __name__ == "__main__":
    main()
