# Theory of operation: wire format of the dusk-edge "edge" broadcast extension (docs/edge-broadcast.md).
# Only edge-mode nodes send these types; an as-specified node rejects them as unknown types, so an
# edge node sends them only to peers whose Version carries EDGE_VERSION_FLAG. Every message keeps the
# Kadcast header (PROTOCOL.md §1.3) so the id-matches-sender rule and the PoW nonce apply unchanged:
#   Message  = type:u8 | Header(25) | body
#   ANNOUNCE (20) body = height:u8 | flags:u8 | content_id[32] | size:u32le | summary_len:u16le | summary
#                  flags bit 0 HAVE: the sender holds the whole body and serves it
#   REQUEST  (21) body = content_id[32] | size:u32le | count:u8 | {block:u8 | want_bitmap[32]} * count
#   SYMBOL   (22) body = an rs chunk frame (docs/rs-chunk.md): content_id is its ray id
#   REFUSE   (23) body = content_id[32] | reason:u8 (0 not held, 1 over budget or rate) | count:u8 |
#                  PeerInfo * count (<= 4 hints: peers this node served, who should hold it soon)
# content_id = Blake2s256(len:u32le || frame), the same as a Kadcast ray id. The decoder proves what
# one datagram can prove (type, header, PoW, lengths, caps) and raises DecodeError otherwise.
from dusk_edge.core.errors import DecodeError, LocalProtocolError
from dusk_edge.core.kadcast import messages as m
from dusk_edge.core.kadcast import rs
from dusk_edge.core.wire import Buffer

ANNOUNCE = 20
REQUEST = 21
SYMBOL = 22
REFUSE = 23
EDGE_TYPES = (ANNOUNCE, REQUEST, SYMBOL, REFUSE)

FLAG_HAVE = 1
REFUSE_NOT_HELD = 0
REFUSE_BUSY = 1
EDGE_VERSION_FLAG = 0x8000     # set in the patch field of the Version an edge node announces
CONTENT_ID_LEN = 32
MAX_SUMMARY_LEN = 1024
MAX_REQUEST_BLOCKS = 32
BITMAP_LEN = 32
MAX_CONTENT_SIZE = rs.MAX_TRANSFER_LEN
MAX_HINTS = 4


class EdgeMessage:
    __slots__ = ("kind", "header", "height", "flags", "content_id", "size", "summary", "wants",
                 "chunk", "reason", "hints")

    def __init__(self, kind, header, content_id=None, height=0, flags=0, size=0, summary=b"",
                 wants=None, chunk=None, reason=0, hints=()):
        self.kind = kind
        self.header = header
        self.content_id = content_id
        self.height = height
        self.flags = flags
        self.size = size
        self.summary = summary
        self.wants = wants          # [(block, bitmap)] of a REQUEST
        self.chunk = chunk          # the rs chunk frame of a SYMBOL
        self.reason = reason
        self.hints = hints          # [PeerInfo] of a REFUSE


def _pull_size(buf):
    size = buf.pull_u32()
    if size == 0 or size > MAX_CONTENT_SIZE:
        raise DecodeError("content size %d outside 1..%d" % (size, MAX_CONTENT_SIZE))
    return size


def _pull_wants(buf, size):
    count = buf.pull_u8()
    if count == 0 or count > MAX_REQUEST_BLOCKS:
        raise DecodeError("request names %d blocks, 1..%d allowed" % (count, MAX_REQUEST_BLOCKS))
    num_blocks, _ = rs.layout(size)
    wants = []
    for _ in range(count):
        block = buf.pull_u8()
        if block >= num_blocks:
            raise DecodeError("request block %d of %d" % (block, num_blocks))
        wants.append((block, buf.pull_bytes(BITMAP_LEN)))
    return wants


def decode_edge_message(data):
    """EdgeMessage of one datagram; raises DecodeError (a RemoteProtocolError)."""
    if len(data) > m.MAX_DATAGRAM_SIZE:
        raise DecodeError("datagram of %d bytes exceeds %d" % (len(data), m.MAX_DATAGRAM_SIZE))
    buf = Buffer(data)
    kind = buf.pull_u8()
    if kind not in EDGE_TYPES:
        raise DecodeError("not an edge message type: %d" % kind)
    header = m.pull_header(buf)
    if kind == SYMBOL:
        chunk = buf.pull_rest()
        rs.pull_chunk(chunk)  # validates the rs header against its caps
        return EdgeMessage(kind, header, content_id=chunk[:CONTENT_ID_LEN], chunk=chunk)
    if kind == ANNOUNCE:
        height = buf.pull_u8()
        flags = buf.pull_u8()
        content_id = buf.pull_bytes(CONTENT_ID_LEN)
        size = _pull_size(buf)
        summary_len = buf.pull_u16()
        if summary_len > MAX_SUMMARY_LEN or summary_len > size:
            raise DecodeError("summary of %d bytes (cap %d, size %d)" % (summary_len, MAX_SUMMARY_LEN, size))
        return EdgeMessage(kind, header, content_id, height=height, flags=flags, size=size,
                           summary=buf.pull_bytes(summary_len))
    content_id = buf.pull_bytes(CONTENT_ID_LEN)
    if kind == REQUEST:
        size = _pull_size(buf)
        return EdgeMessage(kind, header, content_id, size=size, wants=_pull_wants(buf, size))
    reason = buf.pull_u8()
    if reason not in (REFUSE_NOT_HELD, REFUSE_BUSY):
        raise DecodeError("unknown refuse reason %d" % reason)
    count = buf.pull_u8()
    if count > MAX_HINTS:
        raise DecodeError("refuse lists %d hints, at most %d" % (count, MAX_HINTS))
    hints = [m.pull_peer_info(buf) for _ in range(count)]
    return EdgeMessage(kind, header, content_id, reason=reason, hints=hints)


def encode_edge_message(msg):
    """Bytes of ``msg``; raises LocalProtocolError for values outside the format."""
    buf = Buffer()
    buf.push_u8(msg.kind)
    m.push_header(buf, msg.header)
    if msg.kind == SYMBOL:
        buf.push_bytes(msg.chunk)
        return bytes(buf.data)
    if msg.kind not in EDGE_TYPES:
        raise LocalProtocolError("not an edge message type: %r" % (msg.kind,))
    if len(msg.content_id) != CONTENT_ID_LEN:
        raise LocalProtocolError("content id must be %d bytes" % CONTENT_ID_LEN)
    if msg.kind == ANNOUNCE:
        if len(msg.summary) > MAX_SUMMARY_LEN:
            raise LocalProtocolError("summary too long")
        buf.push_u8(msg.height)
        buf.push_u8(msg.flags)
        buf.push_bytes(msg.content_id)
        buf.push_u32(msg.size)
        buf.push_u16(len(msg.summary))
        buf.push_bytes(msg.summary)
    elif msg.kind == REQUEST:
        if not 0 < len(msg.wants) <= MAX_REQUEST_BLOCKS:
            raise LocalProtocolError("a request names 1..%d blocks" % MAX_REQUEST_BLOCKS)
        buf.push_bytes(msg.content_id)
        buf.push_u32(msg.size)
        buf.push_u8(len(msg.wants))
        for block, bitmap in msg.wants:
            buf.push_u8(block)
            buf.push_bytes(bitmap)
    else:
        if len(msg.hints) > MAX_HINTS:
            raise LocalProtocolError("at most %d hints" % MAX_HINTS)
        buf.push_bytes(msg.content_id)
        buf.push_u8(msg.reason)
        buf.push_u8(len(msg.hints))
        for info in msg.hints:
            buf.push_bytes(m.peer_info_bytes(info))
    return bytes(buf.data)


def bitmap_of(esis):
    bits = bytearray(BITMAP_LEN)
    for esi in esis:
        bits[esi >> 3] |= 1 << (esi & 7)
    return bytes(bits)


def esis_of(bitmap):
    return [i for i in range(BITMAP_LEN * 8) if bitmap[i >> 3] >> (i & 7) & 1]
