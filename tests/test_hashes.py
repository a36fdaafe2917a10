"""The pure-Python hash fallbacks (core/_purehash.py) against CPython's hashlib, and the choice
core/hashes.py makes when hashlib lacks an algorithm (the MicroPython case)."""
import hashlib
import importlib.util
import sys
import types
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dusk_edge.core import _purehash, hashes

pytestmark = pytest.mark.twin

# Lengths around every block boundary that matters: SHA3-256 rate 136, BLAKE2s block 64,
# BLAKE2b block 128, plus multi-block and large inputs.
BOUNDARIES = sorted({0, 1, 2, 7, 8, 9, 31, 32, 33}
                    | {k * b + d for b in (64, 128, 136) for k in (1, 2, 3) for d in (-1, 0, 1)}
                    | {1000, 4096, 65537})

ALGORITHMS = [
    ("sha3_256", _purehash.sha3_256, lambda d: hashlib.sha3_256(d).digest()),
    ("blake2s_256", _purehash.blake2s_256, lambda d: hashlib.blake2s(d).digest()),
    ("blake2b_512", _purehash.blake2b_512, lambda d: hashlib.blake2b(d).digest()),
]
IDS = [name for name, _, _ in ALGORITHMS]


def pattern(n):
    # Deterministic non-periodic bytes so a lane/word ordering bug cannot cancel out.
    return bytes((i * 131 + (i >> 8) * 17 + 7) & 0xFF for i in range(n))


@pytest.mark.parametrize("name,pure,reference", ALGORITHMS, ids=IDS)
@pytest.mark.parametrize("length", BOUNDARIES)
def test_pure_matches_hashlib_at_boundaries(name, pure, reference, length):
    data = pattern(length)
    assert pure(data) == reference(data), (name, length)


@pytest.mark.parametrize("name,pure,reference", ALGORITHMS, ids=IDS)
@settings(max_examples=60, deadline=None)
@given(data=st.binary(min_size=0, max_size=700))
def test_pure_matches_hashlib_on_random_input(name, pure, reference, data):
    assert pure(data) == reference(data)


@pytest.mark.parametrize("name,pure,reference", ALGORITHMS, ids=IDS)
@settings(max_examples=40, deadline=None)
@given(data=st.sampled_from([n for n in BOUNDARIES if n <= 1000]).flatmap(
    lambda n: st.binary(min_size=n, max_size=n)))
def test_pure_matches_hashlib_on_random_content_at_boundaries(name, pure, reference, data):
    assert pure(data) == reference(data)


@pytest.mark.parametrize("name,pure,reference", ALGORITHMS, ids=IDS)
@settings(max_examples=25, deadline=None)
@given(block=st.sampled_from([64, 128, 136]), blocks=st.integers(1, 4), delta=st.integers(-1, 1),
       fill=st.integers(0, 255))
def test_pure_matches_hashlib_near_block_multiples(name, pure, reference, block, blocks, delta, fill):
    data = bytes([fill]) * (block * blocks + delta)
    assert pure(data) == reference(data)


@pytest.mark.parametrize("name,pure,reference", ALGORITHMS, ids=IDS)
def test_pure_accepts_bytearray_and_memoryview(name, pure, reference):
    data = pattern(300)
    expected = reference(data)
    assert pure(bytearray(data)) == expected
    assert pure(memoryview(data)) == expected


def test_known_answers_from_the_standards():
    # FIPS 202 examples and RFC 7693 Appendix A/B ("abc").
    assert _purehash.sha3_256(b"").hex() == (
        "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a")
    assert _purehash.sha3_256(b"abc").hex() == (
        "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532")
    assert _purehash.blake2s_256(b"abc").hex() == (
        "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982")
    assert _purehash.blake2b_512(b"abc").hex() == (
        "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
        "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923")


def test_hashes_module_uses_hashlib_on_cpython():
    assert hashes.SOURCES == {"sha256": "hashlib", "sha3_256": "hashlib",
                              "blake2s_256": "hashlib", "blake2b_512": "hashlib"}
    data = pattern(200)
    assert hashes.sha256(data) == hashlib.sha256(data).digest()
    assert hashes.sha3_256(data) == hashlib.sha3_256(data).digest()
    assert hashes.blake2s_256(data) == hashlib.blake2s(data).digest()
    assert hashes.blake2b_512(data) == hashlib.blake2b(data).digest()


def load_hashes_with(fake_hashlib, monkeypatch):
    """A fresh copy of core/hashes.py imported while ``hashlib`` is ``fake_hashlib``."""
    monkeypatch.setitem(sys.modules, "hashlib", fake_hashlib)
    path = Path(hashes.__file__)
    spec = importlib.util.spec_from_file_location("dusk_edge_core_hashes_probe", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_micropython_like_hashlib_falls_back_to_pure(monkeypatch):
    # MicroPython's hashlib: sha256 only.
    fake = types.ModuleType("hashlib")
    fake.sha256 = hashlib.sha256
    probe = load_hashes_with(fake, monkeypatch)
    assert probe.SOURCES == {"sha256": "hashlib", "sha3_256": "pure",
                             "blake2s_256": "pure", "blake2b_512": "pure"}
    data = pattern(150)
    assert probe.sha3_256(data) == hashlib.sha3_256(data).digest()
    assert probe.blake2s_256(data) == hashlib.blake2s(data).digest()
    assert probe.blake2b_512(data) == hashlib.blake2b(data).digest()
    assert probe.sha256(data) == hashlib.sha256(data).digest()


def test_constructor_that_fails_when_called_counts_as_missing(monkeypatch):
    def refuses(*args):
        raise ValueError("disabled for FIPS")

    fake = types.ModuleType("hashlib")
    fake.sha256 = hashlib.sha256
    fake.sha3_256 = refuses
    fake.blake2s = hashlib.blake2s
    fake.blake2b = refuses
    probe = load_hashes_with(fake, monkeypatch)
    assert probe.SOURCES["sha3_256"] == "pure"
    assert probe.SOURCES["blake2s_256"] == "hashlib"
    assert probe.SOURCES["blake2b_512"] == "pure"
    assert probe.sha3_256(b"abc") == hashlib.sha3_256(b"abc").digest()


def test_without_sha256_the_call_raises_a_named_error(monkeypatch):
    from dusk_edge.core.errors import LocalProtocolError

    probe = load_hashes_with(types.ModuleType("hashlib"), monkeypatch)
    assert probe.SOURCES["sha256"] == "missing"
    with pytest.raises(LocalProtocolError):
        probe.sha256(b"abc")
    assert probe.sha3_256(b"") == hashlib.sha3_256(b"").digest()


def test_pure_rejects_text():
    for pure in (_purehash.sha3_256, _purehash.blake2s_256, _purehash.blake2b_512):
        with pytest.raises(TypeError):
            pure("abc")
