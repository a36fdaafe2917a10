# Theory of operation: the on-flash chain log, as bytes only (no files, no clock).
#
# A segment is a fixed-size file: one header page, then records back to back:
#
#     len u32 | crc32c u32 | type u8 | payload[len]        crc covers len, type and payload
#
# Records are grouped into commits. A commit starts on a page boundary and ends with a COMMIT
# record (seq, the commit's start offset, the chain tip after it), preceded by a PAD record so
# that the commit also ends on a page boundary: every page is written once, and a reader can find
# commit starts again after damage. The writer fdatasyncs once per commit.
#
# scan_segment() walks a segment image and classifies what it finds:
# - records of complete commits are good;
# - a bad record followed, at some later page boundary, by a complete commit with a higher seq is
#   damage in the middle: that later commit could only be written after the damaged one was
#   durable, so the region is quarantined (reported, never skipped silently);
# - a bad record with no complete commit after it is a torn tail (a write cut short by a crash or
#   a power cut): the commit it belongs to was never acknowledged and is dropped.
# Zero bytes mark the unwritten (preallocated) end of a segment.
#
# Record payloads put the fields an index needs first and the big bytes (header, body) last, so
# the per-segment index files ("sidecars") store the same records with the big bytes cut off.
import struct

from dusk_edge.core import accel
from dusk_edge.core._compat import const
from dusk_edge.core.errors import DecodeError, LocalProtocolError
from dusk_edge.core.wire import Buffer

FORMAT_VERSION = const(1)
PAGE = const(4096)
RECORD_HEADER = const(9)
SEGMENT_MAGIC = b"DUSKSEG\x01"
SIDECAR_MAGIC = b"DUSKIDX\x01"

# record types
T_PAD = const(1)
T_COMMIT = const(2)
T_HEADER = const(3)      # height, flags, hash, tx ids, label, then the header bytes
T_BODY = const(4)        # height, flags, then the body bytes (zlib when FLAG_ZLIB)
T_LABEL = const(5)       # CBOR [height, label]
T_PRUNE = const(6)       # CBOR {"below": h}
T_SNAPSHOT = const(7)    # CBOR {"h", "file", "size", "crc"}
T_SIDECAR_HEAD = const(8)  # first record of a sidecar file
RECORD_TYPES = (T_PAD, T_COMMIT, T_HEADER, T_BODY, T_LABEL, T_PRUNE, T_SNAPSHOT, T_SIDECAR_HEAD)

FLAG_REPLACE = const(1)  # header: replaces a stored height without dropping the heights above
FLAG_ZLIB = const(1)     # body: payload is zlib-compressed

SEGMENT_HEADER = const(30)
COMMIT_PAYLOAD = const(20)
COMMIT_SIZE = const(29)  # RECORD_HEADER + COMMIT_PAYLOAD
MAX_TX_IDS = const(65535)
MAX_HASH = const(64)

_ZERO_HEADER = bytes(RECORD_HEADER)


def record_crc(length, rtype, payload):
    return accel.crc32c(payload, accel.crc32c(struct.pack("<IB", length, rtype)))


def encode_record(rtype, payload):
    """The bytes of one record. Raises LocalProtocolError for an unknown type."""
    if rtype not in RECORD_TYPES:
        raise LocalProtocolError("unknown record type %r" % rtype)
    n = len(payload)
    return struct.pack("<IIB", n, record_crc(n, rtype, payload), rtype) + bytes(payload)


def decode_record(data, pos=0, limit=None):
    """Decode the record at ``data[pos:]``; returns (type, payload, next_pos).

    ``limit`` bounds where the record may end (default len(data)). Raises DecodeError when the
    record is truncated, too long, of an unknown type or fails its checksum."""
    end = len(data) if limit is None else limit
    if pos < 0 or pos + RECORD_HEADER > end:
        raise DecodeError("record header truncated at %d" % pos)
    n, crc, rtype = struct.unpack_from("<IIB", data, pos)
    if rtype not in RECORD_TYPES:
        raise DecodeError("unknown record type %d at %d" % (rtype, pos))
    stop = pos + RECORD_HEADER + n
    if stop > end:
        raise DecodeError("record at %d claims %d bytes, only %d left" % (pos, n, end - pos - 9))
    payload = data[pos + RECORD_HEADER:stop]
    if record_crc(n, rtype, payload) != crc:
        raise DecodeError("record at %d fails its crc32c" % pos)
    return rtype, payload, stop


def iter_records(data, pos=0):
    """Every record of a buffer holding whole records only; raises DecodeError on any bad one."""
    out = []
    while pos < len(data):
        rtype, payload, pos = decode_record(data, pos)
        out.append((rtype, payload))
    return out


# --- payloads --------------------------------------------------------------------------------
def encode_commit(seq, start, tip):
    """COMMIT payload: seq u64, start u32 (offset of the commit in its segment), tip+1 u64."""
    buf = Buffer()
    buf.push_u64(seq)
    buf.push_u32(start)
    buf.push_u64(tip + 1 if tip is not None else 0)
    return buf.data


def decode_commit(payload):
    buf = Buffer(payload)
    seq, start, tip = buf.pull_u64(), buf.pull_u32(), buf.pull_u64()
    buf.expect_eof()
    return seq, start, (tip - 1 if tip else None)


def _short(value, what):
    if len(value) > 255:
        raise LocalProtocolError("%s longer than 255 bytes" % what)
    return bytes((len(value),)) + bytes(value)


def encode_header_record(height, flags, block_hash, tx_ids, label, header_bytes):
    """T_HEADER payload. The index part (everything but header_bytes) comes first."""
    if not 0 < len(block_hash) <= MAX_HASH or len(tx_ids) > MAX_TX_IDS:
        raise LocalProtocolError("block hash must be 1..64 bytes, at most 65535 tx ids")
    if not 0 <= height < 1 << 64 or not 0 <= flags < 256:
        raise LocalProtocolError("height or flags out of range")
    parts = [struct.pack("<QB", height, flags), _short(block_hash, "block hash"),
             _short(label or b"", "label"), struct.pack("<H", len(tx_ids))]
    for tx_id in tx_ids:
        parts.append(_short(tx_id, "tx id"))
    parts.append(header_bytes)
    return b"".join(parts)


def _pull_short(payload, pos, n):
    if pos >= n:
        raise DecodeError("header record truncated at %d" % pos)
    end = pos + 1 + payload[pos]
    if end > n:
        raise DecodeError("header record truncated at %d" % pos)
    return bytes(payload[pos + 1:end]), end


def decode_header_record(payload):
    """Returns (height, flags, block_hash, tx_ids, label, header_bytes, index_part_length)."""
    n = len(payload)
    if n < 9:
        raise DecodeError("header record truncated")
    height, flags = struct.unpack_from("<QB", payload, 0)
    block_hash, pos = _pull_short(payload, 9, n)
    if not block_hash:
        raise DecodeError("empty block hash")
    label, pos = _pull_short(payload, pos, n)
    if pos + 2 > n:
        raise DecodeError("header record truncated at %d" % pos)
    count = payload[pos] | (payload[pos + 1] << 8)
    pos += 2
    tx_ids = []
    for _ in range(count):
        tx_id, pos = _pull_short(payload, pos, n)
        tx_ids.append(tx_id)
    return height, flags, block_hash, tx_ids, label, bytes(payload[pos:]), pos


def encode_body_record(height, flags, body_bytes):
    if not 0 <= height < 1 << 64 or not 0 <= flags < 256:
        raise LocalProtocolError("height or flags out of range")
    return struct.pack("<QB", height, flags) + bytes(body_bytes)


def decode_body_record(payload):
    """Returns (height, flags, body_bytes)."""
    if len(payload) < 9:
        raise DecodeError("body record truncated")
    height, flags = struct.unpack_from("<QB", payload, 0)
    return height, flags, bytes(payload[9:])


def index_part_length(rtype, payload):
    """How much of a payload a sidecar keeps: all but the header/body bytes."""
    if rtype == T_HEADER:
        return decode_header_record(payload)[6]
    if rtype == T_BODY:
        return 9
    return len(payload)


def pad_record_for(used):
    """The PAD record that makes ``used`` bytes plus a COMMIT record end on a page boundary."""
    gap = (-(used + COMMIT_SIZE)) % PAGE
    if gap == 0:
        return b""
    if gap < RECORD_HEADER:
        gap += PAGE
    return encode_record(T_PAD, bytes(gap - RECORD_HEADER))


# --- segment header --------------------------------------------------------------------------
def encode_segment_header(number, uid, segment_size):
    """First page of a segment: magic, format, number, uid (8 bytes), size, crc; zero padded."""
    buf = Buffer()
    buf.push_bytes(SEGMENT_MAGIC)
    buf.push_u16(FORMAT_VERSION)
    buf.push_u32(number)
    buf.push_bytes(uid)
    buf.push_u32(segment_size)
    buf.push_u32(accel.crc32c(buf.data))
    return buf.data + bytes(PAGE - SEGMENT_HEADER)


def decode_segment_header(data):
    """Returns (format, number, uid, segment_size). Raises DecodeError when it is not one."""
    if len(data) < SEGMENT_HEADER or bytes(data[:8]) != SEGMENT_MAGIC:
        raise DecodeError("not a dusk-edge segment (bad magic)")
    buf = Buffer(bytes(data[8:SEGMENT_HEADER]))
    fmt, number, uid, size, crc = (buf.pull_u16(), buf.pull_u32(), buf.pull_bytes(8),
                                   buf.pull_u32(), buf.pull_u32())
    if accel.crc32c(bytes(data[:SEGMENT_HEADER - 4])) != crc:
        raise DecodeError("segment header fails its crc32c")
    return fmt, number, uid, size


# --- scanning --------------------------------------------------------------------------------
class ScanResult:
    """What scan_segment found. ``records``: (offset, type, payload) of good records in log
    order (PAD left out, each commit closed by its COMMIT record); ``commits``: (seq, start, tip) of complete commits;
    ``damaged``: (start, end) regions quarantined; ``end``: where the next commit goes;
    ``torn``: (start, end) of a dropped torn tail or None; ``last_seq``: highest commit seq."""

    __slots__ = ("records", "commits", "damaged", "end", "torn", "last_seq")

    def __init__(self, start, last_seq):
        self.records = []
        self.commits = []
        self.damaged = []
        self.end = start
        self.torn = None
        self.last_seq = last_seq


def _read_commit(data, start, end, last_seq):
    """Parse one whole commit at ``start``; returns (records, commit, next) or None."""
    pos = start
    records = []
    while True:
        if bytes(data[pos:pos + RECORD_HEADER]) == _ZERO_HEADER:
            return None
        try:
            rtype, payload, nxt = decode_record(data, pos, end)
        except DecodeError:
            return None
        if rtype == T_COMMIT:
            try:
                commit = decode_commit(payload)
            except DecodeError:
                return None
            if commit[1] != start or commit[0] <= last_seq:
                return None
            records.append((pos, rtype, payload))
            return records, commit, nxt
        if rtype != T_PAD:
            records.append((pos, rtype, payload))
        pos = nxt


def _good_prefix(data, start, end):
    """Good records at the start of a damaged commit (kept: the commit was acknowledged)."""
    pos = start
    records = []
    while True:
        try:
            rtype, payload, nxt = decode_record(data, pos, end)
        except DecodeError:
            return records, pos
        if rtype == T_COMMIT:
            return records, pos
        if rtype != T_PAD:
            records.append((pos, rtype, payload))
        pos = nxt


def _next_commit_start(data, pos, end, last_seq):
    q = pos + (-pos) % PAGE
    if q == pos:
        q += PAGE
    while q + COMMIT_SIZE <= end:
        if bytes(data[q:q + RECORD_HEADER]) != _ZERO_HEADER and _read_commit(data, q, end, last_seq):
            return q
        q += PAGE
    return None


def _last_nonzero(data, start, end):
    """Offset just past the last non-zero page at or after ``start`` (or ``start``)."""
    zero_page = bytes(PAGE)
    q = end - (end - start) % PAGE if (end - start) % PAGE else end
    if q < end and bytes(data[q:end]) != bytes(end - q):
        return end
    while q > start:
        page_start = max(start, q - PAGE)
        chunk = bytes(data[page_start:q])
        if chunk != zero_page[:len(chunk)]:
            return q
        q = page_start
    return start


def scan_segment(data, start=PAGE, last_seq=0):
    """Classify the records of one segment image (see the theory of operation).

    ``data``: the whole segment (bytes or memoryview); ``start``: where records begin;
    ``last_seq``: the highest commit seq of the segments before. Never raises on bad bytes."""
    end = len(data)
    result = ScanResult(start, last_seq)
    pos = start
    while pos + COMMIT_SIZE <= end:
        found = _read_commit(data, pos, end, result.last_seq)
        if found is not None:
            records, commit, pos = found
            result.records.extend(records)
            result.commits.append(commit)
            result.last_seq = commit[0]
            result.end = pos
            continue
        resume = _next_commit_start(data, pos, end, result.last_seq)
        if resume is None:
            break
        kept, bad_from = _good_prefix(data, pos, resume)
        result.records.extend(kept)
        result.damaged.append((bad_from, resume))
        pos = resume
    garbage_end = _last_nonzero(data, result.end, end)
    if garbage_end > result.end:
        result.torn = (result.end, garbage_end)
    return result
