"""The C speedups and their pure twins agree (hypothesis), match independent references, and the
C side leaks no references."""
import os
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dusk_edge.core import _native, accel
from tests.conftest import assert_no_leaks, c_speedups

pytestmark = pytest.mark.twin


speedups = c_speedups


def test_every_pure_function_has_a_c_twin():
    c = speedups()
    public = [n for n in dir(_native) if not n.startswith("_") and callable(getattr(_native, n))]
    assert [n for n in public if not hasattr(c, n)] == []
    assert accel.MISSING_IN_C == ()


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=300), seed=st.integers(0, 2 ** 32 - 1))
def test_crc32c_twins_agree(data, seed):
    assert speedups().crc32c(data, seed) == _native.crc32c(data, seed)


def test_crc32c_matches_independent_package():
    crc32c = pytest.importorskip("crc32c")  # the `crc32c` PyPI package (hardware CRC)
    for data in (b"", b"123456789", bytes(range(256)) * 9, os.urandom(4097)):
        assert _native.crc32c(data) == crc32c.crc32c(data)
        assert speedups().crc32c(data) == crc32c.crc32c(data)
    assert _native.crc32c(b"123456789") == 0xE3069283  # the CRC-32C check value
    # continuing a CRC over two parts equals one pass
    assert _native.crc32c(b"6789", _native.crc32c(b"12345")) == 0xE3069283
    assert zlib.crc32(b"123456789") != 0xE3069283  # not plain CRC-32


ids = st.binary(min_size=16, max_size=16)


@settings(max_examples=300, deadline=None)
@given(a=ids, b=ids)
def test_xor_bucket_twins_agree(a, b):
    expected = int.from_bytes(bytes(x ^ y for x, y in zip(a, b)), "little").bit_length() - 1
    assert _native.xor_bucket(a, b) == expected
    assert speedups().xor_bucket(a, b) == expected


def test_xor_bucket_rejects_unequal_lengths():
    for impl in (_native, speedups()):
        with pytest.raises(ValueError):
            impl.xor_bucket(bytes(16), bytes(15))


@settings(max_examples=300, deadline=None)
@given(bitset=st.integers(0, 2 ** 64 - 1), size=st.integers(0, 64))
def test_bitset_indices_twins_agree(bitset, size):
    expected = [i for i in range(size) if bitset >> i & 1]
    assert _native.bitset_indices(bitset, size) == expected
    assert speedups().bitset_indices(bitset, size) == expected


@pytest.mark.parametrize("args", [(-1, 3), (2 ** 64, 3), (1, 65), (1, -1)])
def test_bitset_indices_rejects_out_of_range(args):
    for impl in (_native, speedups()):
        with pytest.raises(ValueError):
            impl.bitset_indices(*args)


def test_c_functions_do_not_leak():
    c = speedups()
    calls = [
        lambda: c.crc32c(b"x" * 100, 5),
        lambda: c.xor_bucket(b"a" * 16, b"b" * 16),
        lambda: c.bitset_indices(2 ** 63 + 5, 64),
    ]
    assert_no_leaks(calls)
