"""dusk_edge.core.cbor against cbor2 (an independent implementation) plus strictness and fuzz."""
import cbor2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dusk_edge.core import cbor
from dusk_edge.core.errors import DecodeError, LocalProtocolError, RemoteProtocolError

pytestmark = pytest.mark.twin

ints = st.integers(min_value=-(2**64), max_value=2**64 - 1)
keys = st.one_of(ints, st.text(max_size=8), st.binary(max_size=8))
scalars = st.one_of(st.none(), st.booleans(), ints, st.binary(max_size=40), st.text(max_size=40))
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=6), st.dictionaries(keys, inner, max_size=6)),
    max_leaves=30,
)


@settings(max_examples=400, deadline=None)
@given(values)
def test_encode_equals_cbor2_canonical(value):
    assert cbor.encode(value) == cbor2.dumps(value, canonical=True)


@settings(max_examples=400, deadline=None)
@given(values)
def test_decode_cbor2_canonical_round_trip(value):
    data = cbor2.dumps(value, canonical=True)
    assert cbor.decode(data) == value
    assert cbor.decode(cbor.encode(value)) == value


@pytest.mark.parametrize("value,hexed", [
    # RFC 8949 Appendix A examples
    (0, "00"), (23, "17"), (24, "1818"), (100, "1864"), (1000, "1903e8"),
    (1000000, "1a000f4240"), (1000000000000, "1b000000e8d4a51000"),
    (18446744073709551615, "1bffffffffffffffff"), (-18446744073709551616, "3bffffffffffffffff"),
    (-1, "20"), (-10, "29"), (-100, "3863"), (-1000, "3903e7"),
    (False, "f4"), (True, "f5"), (None, "f6"), (b"", "40"), (b"\x01\x02\x03\x04", "4401020304"),
    ("", "60"), ("a", "6161"), ("IETF", "6449455446"), ("\u00fc", "62c3bc"), ("\u6c34", "63e6b0b4"),
    ([], "80"), ([1, 2, 3], "83010203"), ([1, [2, 3], [4, 5]], "8301820203820405"),
    ({}, "a0"), ({1: 2, 3: 4}, "a201020304"), ({"a": 1, "b": [2, 3]}, "a26161016162820203"),
])
def test_rfc8949_examples(value, hexed):
    assert cbor.encode(value).hex() == hexed
    assert cbor.decode(bytes.fromhex(hexed)) == value


@pytest.mark.parametrize("hexed,why", [
    ("1817", "non-shortest 1-byte"), ("190017", "non-shortest 2-byte"), ("1a0000ffff", "non-shortest 4"),
    ("1b00000000ffffffff", "non-shortest 8"), ("5f", "indefinite bytes"), ("9f01ff", "indefinite array"),
    ("1c", "reserved info"), ("c100", "tag"), ("f93c00", "half float"), ("fb3ff0000000000000", "double"),
    ("f7", "undefined"), ("e0", "simple 0"), ("f820", "simple 32"), ("a2616101616101", "duplicate key"),
    ("a2616201616101", "unsorted keys"), ("a1f401", "bool key"), ("a18001", "array key"),
    ("62c328", "bad utf-8"), ("0000", "trailing"), ("", "empty"), ("9a00010000", "huge count"),
    ("5a7fffffff", "huge bytes"), ("1903", "truncated"),
])
def test_rejects(hexed, why):
    with pytest.raises(DecodeError):
        cbor.decode(bytes.fromhex(hexed))


def test_limits():
    deep = b"\x81" * (cbor.MAX_DEPTH + 1) + b"\x00"
    with pytest.raises(DecodeError):
        cbor.decode(deep)
    assert cbor.decode(b"\x81" * cbor.MAX_DEPTH + b"\x00") is not None
    with pytest.raises(DecodeError):
        cbor.decode(cbor.encode(b"x" * 100), max_size=50)
    with pytest.raises(DecodeError):
        cbor.decode(cbor.encode(list(range(20))), max_items=10)
    assert cbor.decode(cbor.encode(list(range(10))), max_items=10) == list(range(10))


@pytest.mark.parametrize("bad", [1.5, 2**64, -(2**64) - 1, {(1, 2): 1}, {True: 1}, object(), set()])
def test_encode_rejects_outside_subset(bad):
    with pytest.raises(LocalProtocolError):
        cbor.encode(bad)


def test_encode_rejects_too_deep():
    value = 0
    for _ in range(cbor.MAX_DEPTH + 2):
        value = [value]
    with pytest.raises(LocalProtocolError):
        cbor.encode(value)


def test_truncation_and_trailing_junk():
    data = cbor.encode({"cmd": "status", "args": [1, b"\x00" * 9, None, True], "n": -2**40})
    for cut in range(len(data)):
        with pytest.raises(DecodeError):
            cbor.decode(data[:cut])
    with pytest.raises(DecodeError):
        cbor.decode(data + b"\x00")


@settings(max_examples=1500, deadline=None)
@given(st.binary(max_size=64))
def test_fuzz_parses_or_remote_error(data):
    try:
        value = cbor.decode(data)
    except RemoteProtocolError:
        return
    assert cbor.encode(value) == data  # canonical: exactly one accepted encoding per value


@settings(max_examples=300, deadline=None)
@given(values, st.binary(min_size=1, max_size=4), st.integers(min_value=0, max_value=200))
def test_fuzz_mutations(value, junk, at):
    data = bytearray(cbor.encode(value))
    at = at % (len(data) + 1)
    data[at:at] = junk
    try:
        cbor.decode(bytes(data))
    except RemoteProtocolError:
        pass
