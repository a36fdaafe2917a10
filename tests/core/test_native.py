# core/_native.py (the pure twins of the C speedups) and accel's re-exports of them.
import expect
from dusk_edge.core import _native, accel


def test_crc32c_check_value():
    # The CRC catalogue's check value for CRC-32C (iSCSI, RFC 3720).
    expect.equal(_native.crc32c(b"123456789"), 0xE3069283)
    expect.equal(accel.crc32c(b"123456789"), 0xE3069283)


def test_crc32c_empty_and_continuation():
    expect.equal(_native.crc32c(b""), 0)
    data = b"The quick brown fox jumps over the lazy dog"
    for cut in (0, 1, 10, len(data)):
        expect.equal(_native.crc32c(data[cut:], _native.crc32c(data[:cut])), _native.crc32c(data), "cut %d" % cut)


def test_crc32c_rfc3720_patterns():
    # RFC 3720 B.4: 32 bytes of zeros, of 0xFF, and ascending 0..31.
    expect.equal(_native.crc32c(bytes(32)), 0x8A9136AA)
    expect.equal(_native.crc32c(b"\xff" * 32), 0x62A8AB43)
    expect.equal(_native.crc32c(bytes(range(32))), 0x46DD794E)


def test_xor_bucket():
    zero = bytes(16)
    expect.equal(_native.xor_bucket(zero, zero), -1, "equal ids")
    expect.equal(_native.xor_bucket(b"\x01" + bytes(15), zero), 0, "lowest bit")
    expect.equal(_native.xor_bucket(zero, bytes(15) + b"\x80"), 127, "highest bit")
    expect.equal(_native.xor_bucket(b"\x00\x10", b"\x00\x00"), 12, "bit 4 of byte 1")
    expect.equal(_native.xor_bucket(b"\xff\x01", b"\x00\x00"), 8, "the high byte decides")
    expect.equal(accel.xor_bucket(b"\x00\x10", b"\x00\x00"), 12, "accel agrees")


def test_xor_bucket_rejects_unequal_lengths():
    expect.raises(ValueError, _native.xor_bucket, bytes(16), bytes(15))
    expect.raises(ValueError, accel.xor_bucket, bytes(16), bytes(15))


def test_bitset_indices():
    expect.equal(_native.bitset_indices(0b1011, 4), [0, 1, 3])
    expect.equal(_native.bitset_indices(0b1011, 2), [0, 1], "bits past size ignored")
    expect.equal(_native.bitset_indices(0, 64), [])
    expect.equal(_native.bitset_indices((1 << 64) - 1, 64), list(range(64)))
    expect.equal(_native.bitset_indices(1 << 63, 64), [63])
    expect.equal(accel.bitset_indices(0b1011, 4), [0, 1, 3], "accel agrees")


def test_bitset_indices_limits():
    expect.raises(ValueError, _native.bitset_indices, 1, 65)
    expect.raises(ValueError, _native.bitset_indices, 1, -1)
    expect.raises(ValueError, _native.bitset_indices, 1 << 64, 64)
    expect.raises(ValueError, _native.bitset_indices, -1, 8)
