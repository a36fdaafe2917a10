"""Dusk BLS V2 multisig on arkworks, cross-checked against py_ecc (an independent implementation)."""
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dusk_edge.core.errors import CryptoError
from dusk_edge.crypto import bls

pytestmark = pytest.mark.twin

py_ecc = pytest.importorskip("py_ecc")
from py_ecc.bls.hash_to_curve import hash_to_G1  # noqa: E402
from py_ecc.bls.point_compression import compress_G1, compress_G2  # noqa: E402
from py_ecc.optimized_bls12_381 import G2, curve_order, multiply  # noqa: E402


def ref_public_key(sk):
    z1, z2 = compress_G2(multiply(G2, sk))
    return z1.to_bytes(48, "big") + z2.to_bytes(48, "big")


def ref_multisig(sk, msg):
    pk = ref_public_key(sk)
    coeff = int.from_bytes(hashlib.blake2b(bls.H1_PREFIX + pk).digest(), "little") % curve_order
    return compress_G1(multiply(hash_to_G1(msg, bls.DST_V2, hashlib.sha256), sk * coeff % curve_order)).to_bytes(48, "big")


@settings(max_examples=4, deadline=None)
@given(sk=st.integers(min_value=1, max_value=curve_order - 1), msg=st.binary(max_size=80))
def test_matches_py_ecc_on_random_keys(sk, msg):
    sk_bytes = sk.to_bytes(32, "little")
    assert bls.public_key(sk_bytes) == ref_public_key(sk)
    assert bls.sign_multisig(sk_bytes, msg) == ref_multisig(sk, msg)


def test_hash_to_scalar_is_blake2b_wide_reduction():
    for msg in (b"", b"abc", bytes(200)):
        expected = int.from_bytes(hashlib.blake2b(msg).digest(), "little") % bls.R
        assert bls.hash_to_scalar(msg) == expected


def keys(n):
    return [bls.secret_key_from_int(1000 + i) for i in range(n)]


def test_aggregate_of_64_verifies_and_detects_tampering():
    sks = keys(64)
    pks = [bls.public_key(sk) for sk in sks]
    msg = b"ratification"
    agg = bls.aggregate_signatures([bls.sign_multisig(sk, msg) for sk in sks])
    cache = bls.CoefficientKeyCache()
    assert bls.verify_multisig(pks, msg, agg, cache)
    assert bls.verify_multisig(list(reversed(pks)), msg, agg, cache)  # APK is a sum: order-free
    assert not bls.verify_multisig(pks[:-1], msg, agg, cache)
    assert not bls.verify_multisig(pks, msg + b"x", agg, cache)
    assert cache.misses == 64 and cache.hits >= 64 * 2


def test_plain_and_multisig_are_distinct_schemes():
    sk = keys(1)[0]
    pk = bls.public_key(sk)
    assert bls.verify(pk, b"m", bls.sign(sk, b"m"))
    assert not bls.verify_multisig([pk], b"m", bls.sign(sk, b"m"))
    assert not bls.verify(pk, b"m", bls.sign_multisig(sk, b"m"))


def test_coefficient_cache_is_bounded():
    cache = bls.CoefficientKeyCache(capacity=3)
    pks = [bls.public_key(sk) for sk in keys(5)]
    for pk in pks:
        cache.get(pk)
    assert len(cache._points) == 3
    cache.get(pks[0])  # evicted long ago: computed again
    assert cache.misses == 6


@pytest.mark.parametrize("bad", [b"", bytes(31), bytes(32), bls.R.to_bytes(32, "little"), b"\xff" * 32])
def test_bad_secret_keys_are_named_errors(bad):
    with pytest.raises(CryptoError):
        bls.public_key(bad)


@pytest.mark.parametrize("bad", [bytes(96), b"\xc0" + bytes(95), b"\x80" + bytes(94) + b"\x05", bytes(95), b"\xff" * 96])
def test_bad_public_keys_are_named_errors(bad):
    with pytest.raises(CryptoError):
        bls.load_public_key(bad)


@pytest.mark.parametrize("bad", [bytes(48), b"\xc0" + bytes(47), bytes(47), b"\xff" * 48])
def test_bad_signatures_are_named_errors(bad):
    pk = bls.public_key(keys(1)[0])
    with pytest.raises(CryptoError):
        bls.verify_multisig([pk], b"m", bad)


def test_empty_lists_are_named_errors():
    with pytest.raises(CryptoError):
        bls.aggregate_public_keys([])
    with pytest.raises(CryptoError):
        bls.aggregate_signatures([])
