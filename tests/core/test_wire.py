# core/wire.py: Buffer pull_/push_ pairs round-trip, read little-endian unless named _be, and
# reject truncation, trailing bytes and out-of-range values with named errors.
import expect
from dusk_edge.core.errors import DecodeError, LocalProtocolError, RemoteProtocolError
from dusk_edge.core.wire import Buffer, pull_fixed, push_fixed

# (pull, push, size in bytes, values at the edges of the range)
INTEGER_FIELDS = (
    ("u8", 1, (0, 1, 0x7F, 0xFF)),
    ("u16", 2, (0, 1, 0x1234, 0xFFFF)),
    ("u32", 4, (0, 1, 0x12345678, 0xFFFFFFFF)),
    ("u64", 8, (0, 1, 0x0123456789ABCDEF, 0xFFFFFFFFFFFFFFFF)),
    ("u16_be", 2, (0, 1, 0x1234, 0xFFFF)),
    ("u32_be", 4, (0, 1, 0x12345678, 0xFFFFFFFF)),
)


def push(buf, kind, value):
    getattr(buf, "push_" + kind)(value)


def pull(buf, kind):
    return getattr(buf, "pull_" + kind)()


def test_integer_round_trips():
    for kind, size, values in INTEGER_FIELDS:
        for value in values:
            out = Buffer()
            push(out, kind, value)
            expect.equal(len(out.data), size, kind + " size")
            back = Buffer(out.data)
            expect.equal(pull(back, kind), value, kind)
            expect.true(back.eof(), kind + " consumed")


def test_byte_order():
    out = Buffer()
    out.push_u32(0x01020304)
    out.push_u32_be(0x01020304)
    out.push_u16(0x0A0B)
    out.push_u16_be(0x0A0B)
    out.push_u64(0x0102030405060708)
    expect.equal(out.data, bytes([4, 3, 2, 1, 1, 2, 3, 4, 0x0B, 0x0A, 0x0A, 0x0B, 8, 7, 6, 5, 4, 3, 2, 1]))


def test_mixed_record_round_trip_and_position():
    out = Buffer()
    out.push_u8(7)
    out.push_bytes(b"abc")
    out.push_u64(2 ** 40 + 5)
    push_fixed(out, b"\x01" * 32, 32)
    out.push_u16_be(513)
    data = out.data
    buf = Buffer(data)
    expect.equal(buf.pull_u8(), 7)
    expect.equal(buf.pull_bytes(3), b"abc")
    expect.equal(buf.position, 4)
    expect.equal(buf.pull_u64(), 2 ** 40 + 5)
    expect.equal(pull_fixed(buf, 32), b"\x01" * 32)
    expect.equal(buf.remaining(), 2)
    expect.equal(buf.pull_u16_be(), 513)
    buf.expect_eof()


def test_every_truncation_raises_decode_error():
    for kind, size, values in INTEGER_FIELDS:
        for length in range(size):
            error = expect.raises(DecodeError, pull, Buffer(bytes(length)), kind)
            expect.true(isinstance(error, RemoteProtocolError), "DecodeError is the peer's fault")
    expect.raises(DecodeError, Buffer(b"ab").pull_bytes, 3)
    expect.raises(DecodeError, Buffer(b"ab").pull_bytes, -1)


def decode_record(data):
    buf = Buffer(data)
    record = (buf.pull_u8(), buf.pull_u32(), buf.pull_bytes(5), buf.pull_u16_be())
    buf.expect_eof()
    return record


def test_record_byte_by_byte_truncation_and_trailing_junk():
    out = Buffer()
    out.push_u8(1)
    out.push_u32(99)
    out.push_bytes(b"hello")
    out.push_u16_be(4)
    data = out.data
    expect.equal(decode_record(data), (1, 99, b"hello", 4))
    for cut in range(len(data)):
        expect.raises(DecodeError, decode_record, data[:cut])
    expect.raises(DecodeError, decode_record, data + b"\x00")


def test_random_bytes_parse_or_raise_decode_error():
    lcg = expect.Lcg(2024)
    for _ in range(200):
        data = lcg.next_bytes(lcg.next_byte() % 16)
        try:
            decode_record(data)
        except RemoteProtocolError:
            pass


def test_pull_rest_and_eof():
    buf = Buffer(b"xyz")
    expect.equal(buf.pull_u8(), ord("x"))
    expect.equal(buf.pull_rest(), b"yz")
    expect.true(buf.eof())
    expect.equal(buf.pull_rest(), b"")
    buf.expect_eof()


def test_push_out_of_range_is_a_local_error():
    for kind, size, values in INTEGER_FIELDS:
        expect.raises(LocalProtocolError, push, Buffer(), kind, 1 << (8 * size))
        expect.raises(LocalProtocolError, push, Buffer(), kind, -1)


def test_push_onto_a_read_buffer_and_wrong_fixed_size_are_local_errors():
    expect.raises(LocalProtocolError, Buffer(b"abc").push_u8, 1)
    expect.raises(LocalProtocolError, push_fixed, Buffer(), b"abc", 4)
