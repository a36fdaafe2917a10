"""Conformance suites of key custody (docs/keystore.md, docs/guard-format.md).

keystore_open: {"keystore": <document>, "passphrase": text} -> {"secret_key": hex32, "public_key": hex96}
guard_record:  {"bytes": hex} -> {"kind", "round", "iteration", "step", "data_hash", "signature"}
Rejections raise DuskEdgeError subclasses (vectors say {"error": true}).
"""
from dusk_edge.conformance import hexbytes
from dusk_edge.keys import keystore
from dusk_edge.keys.sign_history import STEP_NAMES, decode_record

KIND_NAMES = {1: "signed", 2: "blocked", 3: "floor"}


def keystore_open(case):
    key = keystore.unseal(case["keystore"], passphrase=case["passphrase"])
    return {"secret_key": key.secret_key.hex(), "public_key": key.public_key.hex()}


def guard_record(case):
    kind, round_, iteration, step, data_hash, signature = decode_record(hexbytes(case["bytes"], None, "bytes"))
    return {"kind": KIND_NAMES[kind], "round": round_, "iteration": iteration,
            "step": STEP_NAMES[step], "data_hash": data_hash.hex(), "signature": signature.hex()}


SUITES = {"keystore_open": keystore_open, "guard_record": guard_record}
