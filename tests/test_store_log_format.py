"""The sans-I/O chain log format: round trips, fuzzing (parse or DecodeError, never anything else)
and segment scanning (torn tails vs damage in the middle)."""
import random

import crc32c as crc32c_ref
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dusk_edge.core.errors import DecodeError, LocalProtocolError, RemoteProtocolError
from dusk_edge.core.storage import log_format as lf

pytestmark = pytest.mark.twin

RECORD_TYPES = st.sampled_from([lf.T_HEADER, lf.T_BODY, lf.T_LABEL, lf.T_PRUNE, lf.T_SNAPSHOT])


def test_record_layout_matches_an_independent_crc32c(twins):
    payload = b"hello flash"
    rec = lf.encode_record(lf.T_LABEL, payload)
    assert rec[:4] == len(payload).to_bytes(4, "little")
    assert rec[8] == lf.T_LABEL and rec[9:] == payload
    expected = crc32c_ref.crc32c(rec[:4] + rec[8:9] + payload)  # the crc32c package, not ours
    assert rec[4:8] == expected.to_bytes(4, "little")


@given(RECORD_TYPES, st.binary(max_size=300))
@settings(max_examples=150, deadline=None)
def test_record_round_trip(rtype, payload):
    rec = lf.encode_record(rtype, payload)
    assert lf.decode_record(rec) == (rtype, payload, len(rec))


def test_record_byte_by_byte_truncation_and_trailing_junk():
    rec = lf.encode_record(lf.T_BODY, bytes(range(200)))
    for n in range(len(rec)):
        with pytest.raises(DecodeError):
            lf.decode_record(rec[:n])
    rtype, payload, nxt = lf.decode_record(rec + b"junk")
    assert (rtype, payload, nxt) == (lf.T_BODY, bytes(range(200)), len(rec))
    with pytest.raises(DecodeError):
        lf.iter_records(rec + b"junk")


def test_every_single_bit_flip_is_caught():
    rec = lf.encode_record(lf.T_HEADER, b"\x01" * 40)
    for i in range(len(rec) * 8):
        bad = bytearray(rec)
        bad[i // 8] ^= 1 << (i % 8)
        with pytest.raises(DecodeError):
            lf.decode_record(bytes(bad))


@given(st.binary(max_size=64))
@settings(max_examples=300, deadline=None)
def test_random_bytes_decode_or_raise_remote_protocol_error(data):
    for decoder in (lf.decode_record, lf.iter_records, lf.decode_commit, lf.decode_header_record,
                    lf.decode_body_record, lf.decode_segment_header):
        try:
            decoder(data)
        except RemoteProtocolError:
            pass


def test_unknown_type_is_refused_both_ways():
    with pytest.raises(LocalProtocolError):
        lf.encode_record(99, b"")
    rec = bytearray(lf.encode_record(lf.T_PAD, b""))
    rec[8] = 99
    with pytest.raises(DecodeError):
        lf.decode_record(bytes(rec))


@given(st.integers(0, 2**63), st.binary(min_size=1, max_size=64),
       st.lists(st.binary(max_size=64), max_size=20), st.binary(max_size=20), st.binary(max_size=500))
@settings(max_examples=100, deadline=None)
def test_header_record_round_trip(height, block_hash, tx_ids, label, header):
    payload = lf.encode_header_record(height, lf.FLAG_REPLACE, block_hash, tx_ids, label, header)
    got = lf.decode_header_record(payload)
    assert got[:6] == (height, lf.FLAG_REPLACE, block_hash, tx_ids, label, header)
    assert got[6] == len(payload) - len(header)
    for n in range(got[6]):  # the index part, cut anywhere, is a DecodeError
        with pytest.raises(DecodeError):
            lf.decode_header_record(payload[:n])


def test_body_commit_and_segment_header_round_trip():
    assert lf.decode_body_record(lf.encode_body_record(7, lf.FLAG_ZLIB, b"xyz")) == (7, 1, b"xyz")
    assert lf.decode_commit(lf.encode_commit(5, 8192, None)) == (5, 8192, None)
    assert lf.decode_commit(lf.encode_commit(5, 8192, 0)) == (5, 8192, 0)
    head = lf.encode_segment_header(3, b"12345678", 65536)
    assert len(head) == lf.PAGE
    assert lf.decode_segment_header(head) == (lf.FORMAT_VERSION, 3, b"12345678", 65536)
    for n in range(lf.SEGMENT_HEADER):
        with pytest.raises(DecodeError):
            lf.decode_segment_header(head[:n])


@pytest.mark.parametrize("used", [0, 1, 100, 4000, 4058, 4059, 4060, 4066, 4067, 4096, 9000])
def test_pad_makes_each_commit_end_on_a_page(used):
    total = used + len(lf.pad_record_for(used)) + lf.COMMIT_SIZE
    assert total % lf.PAGE == 0 and total > used


# --- scanning ----------------------------------------------------------------------------------
def build_segment(commits, size=16 * lf.PAGE):
    """A segment image holding ``commits`` (lists of (type, payload)); returns (image, starts)."""
    image = bytearray(size)
    image[:lf.PAGE] = lf.encode_segment_header(0, bytes(8), size)
    pos, starts = lf.PAGE, []
    for seq, records in enumerate(commits, 1):
        data = b"".join(lf.encode_record(t, p) for t, p in records)
        blob = data + lf.pad_record_for(len(data)) + lf.encode_record(
            lf.T_COMMIT, lf.encode_commit(seq, pos, seq))
        image[pos:pos + len(blob)] = blob
        starts.append(pos)
        pos += len(blob)
    return image, starts


COMMITS = [[(lf.T_LABEL, b"a%d" % i), (lf.T_BODY, bytes(300 * i))] for i in range(1, 6)]


def test_scan_clean_segment():
    image, starts = build_segment(COMMITS)
    result = lf.scan_segment(image)
    assert [c[0] for c in result.commits] == [1, 2, 3, 4, 5]
    assert result.damaged == [] and result.torn is None
    assert [p for _, t, p in result.records if t == lf.T_LABEL] == [b"a%d" % i for i in range(1, 6)]
    assert result.end == starts[-1] + lf.PAGE


def test_scan_truncates_a_torn_last_commit():
    image, starts = build_segment(COMMITS)
    image[starts[-1] + 20:starts[-1] + lf.PAGE] = bytes(lf.PAGE - 20)  # commit 5 half written
    result = lf.scan_segment(image)
    assert [c[0] for c in result.commits] == [1, 2, 3, 4]
    assert result.end == starts[-1] and result.damaged == []
    assert result.torn == (starts[-1], starts[-1] + lf.PAGE)  # reported page by page


def test_scan_quarantines_damage_in_the_middle():
    image, starts = build_segment(COMMITS)
    image[starts[2] + 40] ^= 0x10  # inside commit 3's body record
    result = lf.scan_segment(image)
    assert [c[0] for c in result.commits] == [1, 2, 4, 5]
    assert len(result.damaged) == 1
    start, end = result.damaged[0]
    assert start <= starts[2] + 40 < end == starts[3]
    # commit 3's first record is intact and kept
    assert b"a3" in [p for _, t, p in result.records if t == lf.T_LABEL]
    assert result.torn is None


def test_scan_never_resyncs_on_an_older_commit():
    image, starts = build_segment(COMMITS)
    result = lf.scan_segment(image, last_seq=5)  # these seqs are not newer than the log's
    assert result.commits == [] and result.end == lf.PAGE and result.damaged == []
    result = lf.scan_segment(image, last_seq=3)
    assert [c[0] for c in result.commits] == [4, 5] and result.damaged[0][1] == starts[3]


def test_scan_random_garbage_never_raises():
    rng = random.Random(7)
    for _ in range(30):
        image, _ = build_segment(COMMITS)
        for _ in range(rng.randrange(1, 5)):
            at = rng.randrange(lf.PAGE, len(image))
            image[at:at + 16] = rng.randbytes(16)
        result = lf.scan_segment(bytes(image))
        assert result.end % lf.PAGE == 0
