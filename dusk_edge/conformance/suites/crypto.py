"""Suites quorum, bls_public_key, bls_sign, bls_verify, merkle_root (CONFORMANCE.md)."""
from dusk_edge.conformance import hexbytes
from dusk_edge.core.consensus.quorum import get_majority, get_supermajority
from dusk_edge.core.errors import CryptoError, DecodeError
from dusk_edge.core.merkle import compute_merkle_root
from dusk_edge.crypto import bls


def quorum(inp):
    credits = inp["credits"]
    if not isinstance(credits, int) or isinstance(credits, bool) or credits < 0:
        raise DecodeError("credits must be a non-negative integer")
    return {"majority": get_majority(credits), "supermajority": get_supermajority(credits)}


def bls_public_key(inp):
    sk = hexbytes(inp["secret_key"], 32, "secret_key")
    return {"public_key": bls.public_key(sk).hex()}


def bls_sign(inp):
    sk = hexbytes(inp["secret_key"], 32, "secret_key")
    msg = hexbytes(inp["message"], None, "message")
    return {"signature": bls.sign_multisig(sk, msg).hex()}


def bls_verify(inp):
    keys = inp["public_keys"]
    if not isinstance(keys, list) or not keys:
        raise CryptoError("public_keys must be a non-empty list")
    pks = [hexbytes(k, 96, "public_keys") for k in keys]
    msg = hexbytes(inp["message"], None, "message")
    sig = hexbytes(inp["signature"], 48, "signature")
    cache = bls.CoefficientKeyCache()  # vectors must not warm the node's shared cache
    return {"valid": bool(bls.verify_multisig(pks, msg, sig, cache))}


def merkle_root(inp):
    leaves = [hexbytes(leaf, 32, "leaves") for leaf in inp["leaves"]]
    return {"root": compute_merkle_root(leaves).hex()}


SUITES = {
    "quorum": quorum,
    "bls_public_key": bls_public_key,
    "bls_sign": bls_sign,
    "bls_verify": bls_verify,
    "merkle_root": merkle_root,
}
