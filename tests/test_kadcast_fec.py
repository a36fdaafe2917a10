"""FEC for Kadcast broadcasts: the project's Reed-Solomon code (both accel twins), RaptorQ frames,
pull-repair symbols, ray assembly with the ray_id integrity re-check, and chunk-parser fuzzing."""
import os
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dusk_edge.core import _native, accel
from dusk_edge.core.errors import ConfigError, DecodeError, RemoteProtocolError
from dusk_edge.core.kadcast import rs
from dusk_edge.core.kadcast.rays import RayCache
from dusk_edge.crypto.fec import make_fec, raptorq_oti, ray_id_of
from tests.conftest import require_module

pytestmark = pytest.mark.twin


def fec_of(scheme):
    """make_fec(scheme); raptorq has no wheel on some boards (aarch64 under qemu): missing there."""
    if scheme == "raptorq":
        require_module("raptorq")
    return make_fec(scheme)


def gf_mul_slow(a, b):
    # carry-less multiply modulo 0x11d: an independent model of the field
    r = 0
    while b:
        if b & 1:
            r ^= a
        a <<= 1
        if a & 0x100:
            a ^= 0x11D
        b >>= 1
    return r


@settings(max_examples=60, deadline=None)
@given(st.binary(min_size=1, max_size=300), st.integers(0, 255), st.data())
def test_gf256_mul_add_matches_field_model(src, c, data):
    dst = bytearray(data.draw(st.binary(min_size=len(src), max_size=len(src))))
    expect = bytes(d ^ gf_mul_slow(c, s) for d, s in zip(dst, src))
    for backend in filter(None, (accel.SPEEDUPS, _native)):
        out = bytearray(dst)
        backend.gf256_mul_add(out, src, c)
        assert bytes(out) == expect


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 12), st.randoms(use_true_random=False))
def test_gf256_invert_twins_agree(n, rnd):
    matrix = bytes(rnd.randrange(256) for _ in range(n * n))
    results = []
    for backend in filter(None, (accel.SPEEDUPS, _native)):
        try:
            results.append(backend.gf256_invert(matrix, n))
        except ValueError:
            results.append("singular")
    assert len(set(results)) == 1
    if results[0] != "singular":
        inv = results[0]
        for r in range(n):  # A * A^-1 == I
            for c in range(n):
                acc = 0
                for k in range(n):
                    acc ^= gf_mul_slow(matrix[r * n + k], inv[k * n + c])
                assert acc == (1 if r == c else 0)


def test_gf256_errors(twins):
    with pytest.raises(ValueError):
        twins.gf256_mul_add(bytearray(3), b"ab", 1)
    with pytest.raises(ValueError):
        twins.gf256_mul_add(bytearray(2), b"ab", 256)
    with pytest.raises(ValueError):
        twins.gf256_invert(bytes(4), 2)
    with pytest.raises(ValueError):
        twins.gf256_invert(bytes(5), 2)


@pytest.mark.parametrize("size", [1, 1296, 5000, 200_000])
def test_rs_any_k_symbols_decode(twins, size):
    r = random.Random(size)
    data = r.randbytes(size)
    enc = rs.RsEncoder(data)
    for trial in range(3):
        dec = rs.RsDecoder(len(data), rs.SYMBOL_SIZE, enc.num_blocks)
        out = None
        for b, k in enumerate(enc.sizes):
            esis = r.sample(range(256), k)  # any k distinct symbols: MDS
            for esi in esis:
                out = dec.add(b, esi, enc.symbol(b, esi)) or out
        assert out == data


def test_rs_layout_caps():
    assert rs.layout(1)[0] == 1
    assert rs.layout(128 * 1296)[1] == [128]
    assert rs.layout(128 * 1296 + 1)[1] == [65, 64]
    for bad in (0, rs.MAX_TRANSFER_LEN + 1):
        with pytest.raises(DecodeError):
            rs.layout(bad)


@pytest.mark.parametrize("scheme", ["raptorq", "rs"])
def test_initial_chunk_counts(scheme):
    fec = fec_of(scheme)
    small = fec.new_encoder(b"x" * 224, ray_id_of(b"x" * 224)).initial_chunks()
    assert len(small) == 6  # 1 source + 5 repair: PROTOCOL.md §1.7
    assert all(len(c) + 31 == 1375 for c in small) or scheme == "rs"
    big = bytes(1 << 20)
    chunks = fec.new_encoder(big, ray_id_of(big)).initial_chunks()
    if scheme == "raptorq":
        assert len(chunks) == 810 + 120  # 930 datagrams per recipient for 1 MiB
    else:
        assert 810 + 115 <= len(chunks) <= 810 + 130


def test_raptorq_oti_layout():
    assert raptorq_oti(1000).hex() == "00000003e8" + "00" + "0510" + "01" + "0001" + "08"


@pytest.mark.parametrize("scheme", ["raptorq", "rs"])
def test_pull_repair_symbols_complete_a_stalled_ray(scheme):
    fec = fec_of(scheme)
    data = random.Random(1).randbytes(300_000)
    ray_id = ray_id_of(data)
    enc = fec.new_encoder(data, ray_id)
    chunks = enc.initial_chunks()
    cache = RayCache(fec, 60000, 8, 1 << 26, 8)
    kept = chunks[: len(chunks) * 3 // 4]  # a quarter lost: the initial repair cannot cover it
    assert all(cache.add_chunk(c, 2, ("a", 1), 0) is None for c in kept)
    ray = cache.receiving[ray_id]
    done = None
    for _ in range(3):
        for dec in list(ray.decoders.values()):
            for block, need, bitmap in dec.missing():
                for c in enc.fresh_chunks(block, need, bitmap):
                    done = cache.add_chunk(c, 0, ("b", 2), 1) or done
        if done:
            break
    assert done == (ray_id, data, 2)  # max height kept
    assert cache.is_processed(ray_id) and ray_id not in cache.receiving


@pytest.mark.parametrize("scheme", ["raptorq", "rs"])
def test_ray_id_is_rechecked_after_decode(scheme):
    fec = fec_of(scheme)
    data = b"honest frame" * 50
    liar = bytes(32)  # claims a ray id that is not the hash of the frame
    cache = RayCache(fec, 60000, 8, 1 << 26, 8)
    for c in fec.new_encoder(data, liar).initial_chunks():
        assert cache.add_chunk(c, 1, ("x", 1), 0) is None
    assert cache.integrity_failures >= 1 and not cache.is_processed(liar)
    assert liar in cache.receiving  # still listening for honest chunks of that id


def test_ray_cache_caps_and_expiry():
    fec = make_fec("rs")
    cache = RayCache(fec, 1000, 2, 1 << 26, 8)
    frames = [bytes([i]) * 5000 for i in range(3)]
    for f in frames:
        cache.add_chunk(fec.new_encoder(f, ray_id_of(f)).initial_chunks()[0], 0, ("x", 1), 0)
    assert len(cache.receiving) == 2  # the third ray was refused
    small = RayCache(fec, 1000, 8, 6000, 8)
    for f in frames:
        small.add_chunk(fec.new_encoder(f, ray_id_of(f)).initial_chunks()[0], 0, ("x", 1), 0)
    assert small.receiving_bytes <= 6000
    cache.expire(1000)
    assert not cache.receiving and cache.receiving_bytes == 0


@pytest.mark.parametrize("scheme", ["raptorq", "rs"])
def test_fuzz_chunk_parsers(scheme):
    fec = fec_of(scheme)
    data = b"payload" * 300
    chunk = fec.new_encoder(data, ray_id_of(data)).initial_chunks()[0]
    r = random.Random(7)
    candidates = [chunk[:i] for i in range(len(chunk))] + [chunk + b"junk", b""]
    for _ in range(300):
        x = bytearray(chunk)
        for _ in range(r.randrange(1, 4)):
            x[r.randrange(len(x))] = r.randrange(256)
        candidates.append(bytes(x))
    candidates += [os.urandom(r.randrange(0, 1500)) for _ in range(100)]
    for cand in candidates:
        cache = RayCache(fec, 1000, 4, 1 << 24, 4)
        try:
            cache.add_chunk(cand, 0, ("x", 1), 0)
        except RemoteProtocolError:
            pass


def test_unknown_scheme_is_a_config_error():
    with pytest.raises(ConfigError):
        make_fec("ldpc")
