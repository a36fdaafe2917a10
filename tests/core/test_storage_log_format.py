# core/storage/log_format.py on both interpreters: records round-trip, every truncation and a bit
# flip are DecodeErrors, commits end on page boundaries, and a segment scan tells a torn tail from
# damage in the middle.
import expect
from dusk_edge.core.errors import DecodeError
from dusk_edge.core.storage import log_format as lf

# crc32c("123456789") = 0xE3069283 (RFC 3720 check value); our record crc covers len|type|payload
CHECK_VALUE = 0xE3069283


def test_crc_check_value():
    from dusk_edge.core import accel

    expect.equal(accel.crc32c(b"123456789"), CHECK_VALUE, "crc32c check value")


def test_record_round_trip_and_truncation():
    rec = lf.encode_record(lf.T_LABEL, b"final")
    expect.equal(lf.decode_record(rec), (lf.T_LABEL, b"final", len(rec)), "round trip")
    for n in range(len(rec)):
        expect.raises(DecodeError, lf.decode_record, rec[:n])


def test_bit_flip_is_caught():
    rec = bytearray(lf.encode_record(lf.T_BODY, b"\x00" * 20))
    rec[12] ^= 4
    expect.raises(DecodeError, lf.decode_record, bytes(rec))


def test_header_record_round_trip():
    payload = lf.encode_header_record(7, 0, b"h" * 32, [b"a" * 32, b"b" * 32], b"accepted", b"HDR")
    got = lf.decode_header_record(payload)
    expect.equal(got[:6], (7, 0, b"h" * 32, [b"a" * 32, b"b" * 32], b"accepted", b"HDR"), "header")


def make_segment(bodies, size):
    image = bytearray(size)
    pos = lf.PAGE
    starts = []
    for seq in range(1, len(bodies) + 1):
        data = lf.encode_record(lf.T_BODY, lf.encode_body_record(seq, 0, bodies[seq - 1]))
        blob = data + lf.pad_record_for(len(data)) + lf.encode_record(
            lf.T_COMMIT, lf.encode_commit(seq, pos, seq))
        expect.equal(len(blob) % lf.PAGE, 0, "commit ends on a page")
        image[pos:pos + len(blob)] = blob
        starts.append(pos)
        pos += len(blob)
    return image, starts


def test_scan_torn_tail_and_middle_damage():
    image, starts = make_segment([b"x" * 100, b"y" * 5000, b"z" * 10], 8 * lf.PAGE)
    clean = lf.scan_segment(image)
    expect.equal(len(clean.commits), 3, "three commits")
    expect.equal(clean.torn, None, "no torn tail")
    torn = bytearray(image)
    torn[starts[2] + 30] ^= 1
    result = lf.scan_segment(torn)
    expect.equal(len(result.commits), 2, "last commit dropped")
    expect.equal(result.end, starts[2], "truncated at the torn commit")
    middle = bytearray(image)
    middle[starts[1] + 30] ^= 1
    result = lf.scan_segment(middle)
    expect.equal([c[0] for c in result.commits], [1, 3], "damaged commit skipped, reported")
    expect.equal(result.damaged, [(starts[1], starts[2])], "damaged region")
