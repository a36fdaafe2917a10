"""The speedups added after profiling (issue 10): gf256_combine (one Reed-Solomon symbol per call)
and the SIMD rows under gf256_mul_add agree with their pure twins and with a schoolbook GF(2^8)
reference, raise the same errors, leak nothing; the rs code decodes through them on both twins."""
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dusk_edge.core import _native, accel
from tests.conftest import assert_no_leaks, c_speedups

pytestmark = pytest.mark.twin


speedups = c_speedups


def backends():
    """Both twins; only the pure one in the DUSK_EDGE_PUREPYTHON=1 pass."""
    if accel.SPEEDUPS is None and os.environ.get("DUSK_EDGE_PUREPYTHON"):
        return [_native]
    return [_native, speedups()]


def schoolbook_mul(a, b):
    """Carry-less multiply reduced by 0x11d, bit by bit (independent of both twins' tables)."""
    out = 0
    while b:
        if b & 1:
            out ^= a
        a <<= 1
        if a & 0x100:
            a ^= 0x11D
        b >>= 1
    return out


def schoolbook_combine(symbols, coefficients, size):
    acc = bytearray(size)
    for sym, c in zip(symbols, coefficients):
        for i in range(size):
            acc[i] ^= schoolbook_mul(sym[i], c)
    return bytes(acc)


@st.composite
def combinations(draw):
    size = draw(st.integers(0, 70))  # crosses the 16-byte SIMD lanes and their scalar tail
    count = draw(st.integers(0, 6))
    symbols = [draw(st.binary(min_size=size, max_size=size)) for _ in range(count)]
    coefficients = draw(st.binary(min_size=count, max_size=count))
    return symbols, coefficients, size


@settings(max_examples=300, deadline=None)
@given(case=combinations())
def test_gf256_combine_twins_agree_with_schoolbook(case):
    symbols, coefficients, size = case
    expected = schoolbook_combine(symbols, coefficients, size)
    for twin in backends():
        assert twin.gf256_combine(symbols, coefficients, size) == expected


@settings(max_examples=300, deadline=None)
@given(dst=st.binary(max_size=100), c=st.integers(0, 255), data=st.data())
def test_gf256_mul_add_simd_rows_agree(dst, c, data):
    src = data.draw(st.binary(min_size=len(dst), max_size=len(dst)))
    expected = bytes(d ^ schoolbook_mul(s, c) for d, s in zip(dst, src))
    for twin in backends():
        row = bytearray(dst)
        twin.gf256_mul_add(row, src, c)
        assert bytes(row) == expected


@pytest.mark.parametrize("args", [
    ([b"ab", b"cd"], b"\x01", 2),       # fewer coefficients than symbols
    ([b"ab"], b"\x01\x02", 2),           # more coefficients than symbols
    ([b"ab", b"c"], b"\x01\x00", 2),     # a short symbol, even with coefficient 0
    ([b"ab"], b"\x01", -1),              # negative size
])
def test_gf256_combine_errors_are_the_same(args):
    for twin in backends():
        with pytest.raises(ValueError):
            twin.gf256_combine(*args)


def test_rs_round_trip_on_both_twins(twins):
    from dusk_edge.core.kadcast.rs import RsDecoder, RsEncoder, repair_count

    message = os.urandom(200 * 1296 + 77)
    enc = RsEncoder(message)
    dec = RsDecoder(len(message), enc.symbol_size, enc.num_blocks)
    out = None
    for b, k in enumerate(enc.sizes):
        lost = set(range(0, k, 7))  # every 7th source symbol, replaced by repair symbols
        for esi in [e for e in range(k) if e not in lost] + list(range(k, k + repair_count(k)))[:len(lost)]:
            out = dec.add(b, esi, enc.symbol(b, esi))
    assert out == message


def test_new_c_functions_do_not_leak():
    c = speedups()
    symbols = [os.urandom(1296) for _ in range(8)]
    coefficients = bytes(range(1, 9))
    dst = bytearray(1296)

    def failing_combine():
        try:
            c.gf256_combine([b"ab", b"c"], b"\x01\x01", 2)
        except ValueError:
            pass

    calls = [lambda: c.gf256_combine(symbols, coefficients, 1296), lambda: c.gf256_mul_add(dst, symbols[0], 7),
             lambda: c.gf256_combine(tuple(symbols), bytearray(coefficients), 1296), failing_combine]
    assert_no_leaks(calls)
