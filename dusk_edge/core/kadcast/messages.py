# Theory of operation: one UDP datagram carries one Kadcast message (PROTOCOL.md §1.3):
#   Message = type:u8 | Header(25) | body;  Header = id[16] | nonce[4] | port:u16le | net:u8 | 0[2]
# PING/PONG/FIND_NODES/NODES carry a Version (maj:u8 | min:u16le | patch:u16le); BROADCAST carries
# height:u8 | len:u32le | frame. decode_message checks everything a datagram alone can prove
# (known type, PoW nonce >= 8 bits, counts and lengths within caps and within the bytes present) and
# raises DecodeError otherwise; bytes after a complete message are ignored like the reference does.
# Policy checks that need our own state (network id, version, id-matches-sender) live in peer.py.
# REPAIR (type 11) is a dusk-edge extension for pull repair (docs/kadcast.md); reference nodes
# reject it as an unknown type, which is harmless.
import struct

from dusk_edge.core.errors import DecodeError, LocalProtocolError
from dusk_edge.core.kadcast.ids import ID_LEN, NONCE_LEN, verify_nonce
from dusk_edge.core.wire import Buffer

PING = 0
PONG = 1
FIND_NODES = 2
NODES = 3
BROADCAST = 10
REPAIR = 11
TYPE_NAMES = {PING: "ping", PONG: "pong", FIND_NODES: "find_nodes", NODES: "nodes",
              BROADCAST: "broadcast", REPAIR: "repair"}

HEADER_LEN = 1 + ID_LEN + NONCE_LEN + 2 + 1 + 2
MAX_DATAGRAM_SIZE = 65507
MAX_NODES_PEERS = 20          # K_K: a NODES reply never lists more
MAX_REPAIR_BLOCKS = 255
MAX_REPAIR_NEED = 4096
REPAIR_BITMAP_LEN = 32        # ESIs 0..255 of one rs block (ignored by raptorq)
RAY_ID_LEN = 32
# offset of the gossip frame inside a BROADCAST datagram (type | header | height | len)
BROADCAST_FRAME_OFFSET = HEADER_LEN + 1 + 4


class Header:
    __slots__ = ("id", "nonce", "port", "network_id")

    def __init__(self, node_id, nonce, port, network_id):
        self.id = node_id
        self.nonce = nonce
        self.port = port
        self.network_id = network_id


class PeerInfo:
    """A node as NODES lists it; ``ip`` is packed octets (4 or 16 bytes)."""
    __slots__ = ("ip", "port", "id")

    def __init__(self, ip, port, node_id):
        self.ip = ip
        self.port = port
        self.id = node_id

    def __eq__(self, other):
        return (self.ip, self.port, self.id) == (other.ip, other.port, other.id)

    def __repr__(self):
        return "PeerInfo(%s, %d, %s)" % (bytes(self.ip).hex(), self.port, bytes(self.id).hex())


class RepairBlock:
    """One block of a pull-repair request: the receiver needs ``need`` more symbols."""
    __slots__ = ("block", "need", "bitmap")

    def __init__(self, block, need, bitmap):
        self.block = block
        self.need = need
        self.bitmap = bitmap


class Message:
    # ``peers`` holds PeerInfo objects, or their encoded bytes (peer_info_bytes) when sending
    __slots__ = ("kind", "header", "version", "target", "peers", "height", "payload",
                 "ray_id", "blocks")

    def __init__(self, kind, header, version=None, target=None, peers=None, height=0,
                 payload=b"", ray_id=None, blocks=None):
        self.kind = kind
        self.header = header
        self.version = version
        self.target = target
        self.peers = peers
        self.height = height
        self.payload = payload
        self.ray_id = ray_id
        self.blocks = blocks


def pull_header(buf):
    # one unpack for the fixed 25 bytes: this runs for every datagram
    node_id, nonce, port, network_id, _reserved = struct.unpack("<16sIHBH", buf.pull_bytes(25))
    if not verify_nonce(node_id, nonce):
        raise DecodeError("nonce fails the proof of work")
    return Header(node_id, nonce, port, network_id)


def push_header(buf, header):
    if len(header.id) != ID_LEN:
        raise LocalProtocolError("id must be %d bytes" % ID_LEN)
    buf.push_bytes(header.id)
    buf.push_u32(header.nonce)
    buf.push_u16(header.port)
    buf.push_u8(header.network_id)
    buf.push_bytes(b"\x00\x00")


def pull_version(buf):
    return (buf.pull_u8(), buf.pull_u16(), buf.pull_u16())


def push_version(buf, version):
    buf.push_u8(version[0])
    buf.push_u16(version[1])
    buf.push_u16(version[2])


def pull_peer_info(buf):
    first = buf.pull_u8()
    if first == 0:
        ip = buf.pull_bytes(16)
    else:
        ip = bytes((first,)) + buf.pull_bytes(3)
    port = buf.pull_u16()
    return PeerInfo(ip, port, buf.pull_bytes(ID_LEN))


def peer_info_bytes(info):
    ip = info.ip
    if len(ip) == 4 and ip[0] != 0:
        head = bytes(ip)
    elif len(ip) == 16:
        head = b"\x00" + bytes(ip)
    else:
        raise LocalProtocolError("ip must be 4 octets (first != 0) or 16 octets")
    if len(info.id) != ID_LEN or not 0 <= info.port <= 0xFFFF:
        raise LocalProtocolError("bad PeerInfo id or port")
    return head + bytes((info.port & 0xFF, info.port >> 8)) + bytes(info.id)


def push_peer_info(buf, info):
    if len(info.ip) == 4:
        if info.ip[0] == 0:
            raise LocalProtocolError("IPv4 first octet 0 cannot be encoded")
        buf.push_bytes(info.ip)
    elif len(info.ip) == 16:
        buf.push_u8(0)
        buf.push_bytes(info.ip)
    else:
        raise LocalProtocolError("ip must be 4 or 16 octets")
    buf.push_u16(info.port)
    buf.push_bytes(info.id)


def _pull_nodes(buf):
    # The reference encoder omits the count for an empty list.
    if buf.eof():
        return []
    count = buf.pull_u16()
    if count > MAX_NODES_PEERS:
        raise DecodeError("NODES lists %d peers, at most %d" % (count, MAX_NODES_PEERS))
    # hot on bootstrap: parse the entries by index instead of one Buffer call per field
    raw = buf.pull_bytes(min(buf.remaining(), count * 35))
    peers = []
    pos = 0
    for _ in range(count):
        if pos >= len(raw):
            raise DecodeError("NODES count %d exceeds the entries present" % count)
        if raw[pos] == 0:
            ip = raw[pos + 1:pos + 17]
            pos += 17
        else:
            ip = raw[pos:pos + 4]
            pos += 4
        end = pos + 2 + ID_LEN
        if end > len(raw):
            raise DecodeError("truncated NODES entry")
        peers.append(PeerInfo(ip, raw[pos] | raw[pos + 1] << 8, raw[pos + 2:end]))
        pos = end
    return peers


def _pull_repair(buf):
    ray_id = buf.pull_bytes(RAY_ID_LEN)
    count = buf.pull_u8()
    blocks = []
    for _ in range(count):
        block = buf.pull_u8()
        need = buf.pull_u16()
        if need == 0 or need > MAX_REPAIR_NEED:
            raise DecodeError("repair need %d outside 1..%d" % (need, MAX_REPAIR_NEED))
        blocks.append(RepairBlock(block, need, buf.pull_bytes(REPAIR_BITMAP_LEN)))
    return ray_id, blocks


def decode_message(data):
    """Decode one datagram into a Message; raises DecodeError (a RemoteProtocolError)."""
    if len(data) > MAX_DATAGRAM_SIZE:
        raise DecodeError("datagram of %d bytes exceeds %d" % (len(data), MAX_DATAGRAM_SIZE))
    buf = Buffer(data)
    kind = buf.pull_u8()
    if kind not in TYPE_NAMES:
        raise DecodeError("unknown message type %d" % kind)
    header = pull_header(buf)
    if kind == BROADCAST:
        height = buf.pull_u8()
        length = buf.pull_u32()
        if length > buf.remaining():
            raise DecodeError("broadcast length %d exceeds the %d bytes present"
                              % (length, buf.remaining()))
        return Message(kind, header, height=height, payload=buf.pull_bytes(length))
    version = pull_version(buf)
    msg = Message(kind, header, version=version)
    if kind == FIND_NODES:
        msg.target = buf.pull_bytes(ID_LEN)
    elif kind == NODES:
        msg.peers = _pull_nodes(buf)
    elif kind == REPAIR:
        msg.ray_id, msg.blocks = _pull_repair(buf)
    return msg


def encode_message(msg):
    """Bytes of ``msg``; raises LocalProtocolError for values that do not fit the format."""
    buf = Buffer()
    buf.push_u8(msg.kind)
    push_header(buf, msg.header)
    if msg.kind == BROADCAST:
        buf.push_u8(msg.height)
        buf.push_u32(len(msg.payload))
        buf.push_bytes(msg.payload)
        return buf.data
    push_version(buf, msg.version)
    if msg.kind == FIND_NODES:
        buf.push_bytes(msg.target)
    elif msg.kind == NODES:
        if len(msg.peers) > MAX_NODES_PEERS:
            raise LocalProtocolError("too many peers for NODES")
        buf.push_u16(len(msg.peers))
        buf.push_bytes(b"".join([info if isinstance(info, bytes) else peer_info_bytes(info)
                                 for info in msg.peers]))
    elif msg.kind == REPAIR:
        if len(msg.blocks) > MAX_REPAIR_BLOCKS:
            raise LocalProtocolError("too many repair blocks")
        buf.push_bytes(msg.ray_id)
        buf.push_u8(len(msg.blocks))
        for rb in msg.blocks:
            buf.push_u8(rb.block)
            buf.push_u16(rb.need)
            buf.push_bytes(rb.bitmap)
    elif msg.kind not in (PING, PONG):
        raise LocalProtocolError("unknown message type %r" % (msg.kind,))
    return buf.data
