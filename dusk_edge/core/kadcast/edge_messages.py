# Theory of operation: wire format of the dusk-edge "edge" broadcast extension, stripe trees
# (docs/edge-broadcast.md). Only edge nodes send these types, and only to peers whose Version
# carries EDGE_VERSION_FLAG (an as-specified node rejects them as unknown types). Every message
# keeps the Kadcast header (PROTOCOL.md §1.3), so the id-matches-sender rule and the PoW nonce
# apply unchanged:
#   Message  = type:u8 | Header(25) | body
#   ANNOUNCE (20) = content_id[32] | size:u32le | stripes:u8 | role:u8 | count:u8
#                   | {stripe:u8 | height:u8} * count | summary_len:u16le | summary
#   REQUEST  (21) = content_id[32] | size:u32le | want:u32le | ack:u32le | decline:u32le
#                   | count:u8 | {block:u8 | need:u8 | have_bitmap[32]} * count
#   SYMBOL   (22) = an rs chunk frame (docs/rs-chunk.md); its ray id is the content id
#   REFUSE   (23) = content_id[32] | reason:u8
# content_id = Blake2s256(len:u32le || frame), the Kadcast ray id. The decoder proves what one
# datagram can prove (type, header, PoW, lengths, caps, trailing bytes) and raises DecodeError.
from dusk_edge.core.errors import DecodeError, LocalProtocolError
from dusk_edge.core.kadcast import messages as m
from dusk_edge.core.kadcast import rs
from dusk_edge.core.wire import Buffer

ANNOUNCE = 20
REQUEST = 21
SYMBOL = 22
REFUSE = 23
EDGE_TYPES = (ANNOUNCE, REQUEST, SYMBOL, REFUSE)

ROLE_TREE = 0                  # an ordinary tree offer: forward the stripe below ``height``
ROLE_RELAY = 1                 # origin hiding: the receiver starts the stripe trees (all stripes)
ROLE_ROOT = 2                  # the receiver roots one stripe tree (height 128)
ROLE_FORCED = 3                # a tree offer the receiver may not decline (declined 3 times)
REFUSE_NOT_HELD = 0
REFUSE_BUSY = 1                # over the upload budget, the per-peer cap or the request rate
EDGE_VERSION_FLAG = 0x8000     # set in the patch field of the Version an edge node announces
CONTENT_ID_LEN = 32
MAX_STRIPES = 32               # stripe masks are u32
MAX_HEIGHT = 128
MAX_SUMMARY_LEN = 1024
MAX_REQUEST_BLOCKS = 32
BITMAP_LEN = 32
MAX_CONTENT_SIZE = rs.MAX_TRANSFER_LEN
HEADER_END = m.HEADER_LEN     # type + header: the body starts here
CHUNK_LEN = rs.CHUNK_HEADER_LEN + rs.SYMBOL_SIZE  # the rs chunk of a SYMBOL
SYMBOL_DGRAM_LEN = HEADER_END + CHUNK_LEN         # one SYMBOL datagram (1364 bytes)
RELAY_HEIGHT = MAX_HEIGHT      # one above any bucket: the receiver covers buckets 0..127


class EdgeMessage:
    __slots__ = ("kind", "header", "content_id", "size", "stripes", "role", "offers", "summary",
                 "want", "ack", "decline", "repairs", "chunk", "reason")

    def __init__(self, kind, header, content_id=None, size=0, stripes=16, role=ROLE_TREE,
                 offers=(), summary=b"", want=0, ack=0, repairs=(), chunk=None, reason=0,
                 decline=0):
        self.kind = kind
        self.header = header
        self.content_id = content_id
        self.size = size
        self.stripes = stripes
        self.role = role
        self.offers = offers        # [(stripe, height)] of an ANNOUNCE
        self.summary = summary
        self.want = want            # stripe masks of a REQUEST
        self.ack = ack
        self.decline = decline      # acked tree heights the sender will not carry (interior cap)
        self.repairs = repairs      # [(block, need, have_bitmap)] of a REQUEST
        self.chunk = chunk          # the rs chunk frame of a SYMBOL
        self.reason = reason


def _pull_size(buf):
    size = buf.pull_u32()
    if size == 0 or size > MAX_CONTENT_SIZE:
        raise DecodeError("content size %d outside 1..%d" % (size, MAX_CONTENT_SIZE))
    return size


def _pull_announce(buf, header, cid, size):
    stripes = buf.pull_u8()
    if not 0 < stripes <= MAX_STRIPES:
        raise DecodeError("%d stripes, 1..%d allowed" % (stripes, MAX_STRIPES))
    role = buf.pull_u8()
    if role > ROLE_FORCED:
        raise DecodeError("unknown announce role %d" % role)
    count = buf.pull_u8()
    if not 0 < count <= stripes:
        raise DecodeError("announce offers %d stripes of %d" % (count, stripes))
    offers = []
    seen = 0
    for _ in range(count):
        stripe = buf.pull_u8()
        height = buf.pull_u8()
        if stripe >= stripes or seen >> stripe & 1:
            raise DecodeError("announce stripe %d repeated or >= %d" % (stripe, stripes))
        if height > MAX_HEIGHT:
            raise DecodeError("announce height %d above %d" % (height, MAX_HEIGHT))
        seen |= 1 << stripe
        offers.append((stripe, height))
    summary_len = buf.pull_u16()
    if summary_len > MAX_SUMMARY_LEN or summary_len > size:
        raise DecodeError("summary of %d bytes (cap %d, size %d)"
                          % (summary_len, MAX_SUMMARY_LEN, size))
    summary = buf.pull_bytes(summary_len)
    return EdgeMessage(ANNOUNCE, header, cid, size, stripes, role, offers, summary)


def _pull_request(buf, header, cid, size):
    want = buf.pull_u32()
    ack = buf.pull_u32()
    decline = buf.pull_u32()
    if decline & ~ack:
        raise DecodeError("request declines stripes it does not acknowledge")
    count = buf.pull_u8()
    if count > MAX_REQUEST_BLOCKS:
        raise DecodeError("request names %d blocks, at most %d" % (count, MAX_REQUEST_BLOCKS))
    if count == 0 and want == 0 and ack == 0:
        raise DecodeError("empty request")
    num_blocks, _ = rs.layout(size)
    repairs = []
    for _ in range(count):
        block = buf.pull_u8()
        need = buf.pull_u8()
        if block >= num_blocks or need == 0:
            raise DecodeError("repair of block %d (of %d) needing %d" % (block, num_blocks, need))
        repairs.append((block, need, buf.pull_bytes(BITMAP_LEN)))
    return EdgeMessage(REQUEST, header, cid, size, want=want, ack=ack, repairs=repairs,
                       decline=decline)


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
        rs.pull_chunk(chunk)  # validates the rs header against its caps and the symbol length
        return EdgeMessage(kind, header, chunk[:CONTENT_ID_LEN], chunk=chunk)
    cid = buf.pull_bytes(CONTENT_ID_LEN)
    if kind == REFUSE:
        reason = buf.pull_u8()
        if reason > REFUSE_BUSY:
            raise DecodeError("unknown refuse reason %d" % reason)
        msg = EdgeMessage(kind, header, cid, reason=reason)
    else:
        size = _pull_size(buf)
        if kind == ANNOUNCE:
            msg = _pull_announce(buf, header, cid, size)
        else:
            msg = _pull_request(buf, header, cid, size)
    buf.expect_eof()
    return msg


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
    buf.push_bytes(msg.content_id)
    if msg.kind == REFUSE:
        buf.push_u8(msg.reason)
        return bytes(buf.data)
    buf.push_u32(msg.size)
    if msg.kind == ANNOUNCE:
        if (not 0 < len(msg.offers) <= msg.stripes <= MAX_STRIPES
                or len(msg.summary) > MAX_SUMMARY_LEN):
            raise LocalProtocolError("announce: 1..stripes offers, stripes <= 32, short summary")
        buf.push_u8(msg.stripes)
        buf.push_u8(msg.role)
        buf.push_u8(len(msg.offers))
        for stripe, height in msg.offers:
            buf.push_u8(stripe)
            buf.push_u8(height)
        buf.push_u16(len(msg.summary))
        buf.push_bytes(msg.summary)
    else:
        if len(msg.repairs) > MAX_REQUEST_BLOCKS or msg.decline & ~msg.ack:
            raise LocalProtocolError("a request names at most %d blocks and declines only acked "
                                     "stripes" % MAX_REQUEST_BLOCKS)
        buf.push_u32(msg.want)
        buf.push_u32(msg.ack)
        buf.push_u32(msg.decline)
        buf.push_u8(len(msg.repairs))
        for block, need, bitmap in msg.repairs:
            buf.push_u8(block)
            buf.push_u8(need)
            buf.push_bytes(bitmap)
    return bytes(buf.data)


def bitmap_of(esis):
    bits = bytearray(BITMAP_LEN)
    for esi in esis:
        bits[esi >> 3] |= 1 << (esi & 7)
    return bytes(bits)


def esis_of(bitmap):
    return [i for i in range(BITMAP_LEN * 8) if bitmap[i >> 3] >> (i & 7) & 1]


def stripes_of(mask):
    return [s for s in range(MAX_STRIPES) if mask >> s & 1]
