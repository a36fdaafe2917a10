# Theory of operation: the node's data-exchange messages (PROTOCOL.md §2), carried in the rusk
# envelope next to the consensus topics:
#
#   Inv         = count:u32le (<= 10000) | { type:u8 | param } * count | max_entries:u16le
#                 type 0 MempoolTx(hash32) 1 BlockFromHash(hash32) 2 BlockFromHeight(u64le)
#                      3 CandidateFromHash(hash32) 4 CandidateFromIteration(ConsensusHeader)
#                      5 ValidationResult(ConsensusHeader)
#   GetResource = Inv | requester SocketAddr | ttl_unix_secs:u64le | hops_limit:u16le
#                 SocketAddr = 4 | ip[4] | port:u16le  or  6 | ip[16] | port:u16le
#   GetBlocks   = locator[32] | nonce[8]
#   GetMempool  = nonce[8]
#
# The nonces only defeat Kadcast's ray_id dedup for repeated requests. Every count is capped
# before anything is allocated; decoders raise DecodeError.
from dusk_edge.core.consensus.attestation import pull_consensus_header, push_consensus_header
from dusk_edge.core.errors import DecodeError, LocalProtocolError

INV_MEMPOOL_TX = 0
INV_BLOCK_FROM_HASH = 1
INV_BLOCK_FROM_HEIGHT = 2
INV_CANDIDATE_FROM_HASH = 3
INV_CANDIDATE_FROM_ITERATION = 4
INV_VALIDATION_RESULT = 5
_HASH_ITEMS = (INV_MEMPOOL_TX, INV_BLOCK_FROM_HASH, INV_CANDIDATE_FROM_HASH)
_HEADER_ITEMS = (INV_CANDIDATE_FROM_ITERATION, INV_VALIDATION_RESULT)
MAX_INV_ENTRIES = 10000


class InvItem:
    """One inventory entry; ``param`` is a 32-byte hash, an int height or a ConsensusHeader."""

    __slots__ = ("kind", "param")

    def __init__(self, kind, param):
        if kind in _HASH_ITEMS and not (isinstance(param, bytes) and len(param) == 32):
            raise LocalProtocolError("inventory item %d needs a 32-byte hash" % kind)
        if kind == INV_BLOCK_FROM_HEIGHT and not (isinstance(param, int) and 0 <= param < (1 << 64)):
            raise LocalProtocolError("inventory item 2 needs a u64 height")
        if kind not in _HASH_ITEMS and kind not in _HEADER_ITEMS and kind != INV_BLOCK_FROM_HEIGHT:
            raise LocalProtocolError("unknown inventory item %r" % (kind,))
        self.kind = kind
        self.param = param

    def __eq__(self, other):
        return isinstance(other, InvItem) and self.kind == other.kind and self.param == other.param

    def __hash__(self):
        return hash((self.kind, self.param))

    def __repr__(self):
        return "InvItem(%d, %r)" % (self.kind, self.param)


class Inv:
    __slots__ = ("items", "max_entries")

    def __init__(self, items, max_entries=MAX_INV_ENTRIES):
        if len(items) > MAX_INV_ENTRIES:
            raise LocalProtocolError("at most %d inventory items" % MAX_INV_ENTRIES)
        self.items = list(items)
        self.max_entries = max_entries

    def __eq__(self, other):
        return isinstance(other, Inv) and self.items == other.items and self.max_entries == other.max_entries


def pull_inv(buf):
    count = buf.pull_u32()
    if count > MAX_INV_ENTRIES:
        raise DecodeError("inventory of %d items, at most %d" % (count, MAX_INV_ENTRIES))
    items = []
    for _ in range(count):
        kind = buf.pull_u8()
        if kind in _HASH_ITEMS:
            items.append(InvItem(kind, buf.pull_bytes(32)))
        elif kind == INV_BLOCK_FROM_HEIGHT:
            items.append(InvItem(kind, buf.pull_u64()))
        elif kind in _HEADER_ITEMS:
            items.append(InvItem(kind, pull_consensus_header(buf)))
        else:
            raise DecodeError("unknown inventory item type %d" % kind)
    return Inv(items, buf.pull_u16())


def push_inv(buf, inv):
    buf.push_u32(len(inv.items))
    for item in inv.items:
        buf.push_u8(item.kind)
        if item.kind == INV_BLOCK_FROM_HEIGHT:
            buf.push_u64(item.param)
        elif item.kind in _HEADER_ITEMS:
            push_consensus_header(buf, item.param)
        else:
            buf.push_bytes(item.param)
    buf.push_u16(inv.max_entries)


def pull_socket_addr(buf):
    """(ip_bytes, port): 4 or 16 address bytes."""
    family = buf.pull_u8()
    if family == 4:
        ip = buf.pull_bytes(4)
    elif family == 6:
        ip = buf.pull_bytes(16)
    else:
        raise DecodeError("socket address family %d is neither 4 nor 6" % family)
    return ip, buf.pull_u16()


def push_socket_addr(buf, addr):
    ip, port = addr
    if len(ip) not in (4, 16):
        raise LocalProtocolError("an address is 4 or 16 bytes")
    buf.push_u8(4 if len(ip) == 4 else 6)
    buf.push_bytes(ip)
    buf.push_u16(port)


class GetResource:
    __slots__ = ("inv", "requester", "ttl_unix_secs", "hops_limit")

    def __init__(self, inv, requester, ttl_unix_secs, hops_limit):
        self.inv = inv
        self.requester = requester
        self.ttl_unix_secs = ttl_unix_secs
        self.hops_limit = hops_limit

    def __eq__(self, other):
        return isinstance(other, GetResource) and (self.inv, self.requester, self.ttl_unix_secs, self.hops_limit) == (
            other.inv, other.requester, other.ttl_unix_secs, other.hops_limit)

    def is_expired(self, now_unix_secs):
        return now_unix_secs > self.ttl_unix_secs or self.hops_limit == 0


def pull_get_resource(buf):
    inv = pull_inv(buf)
    requester = pull_socket_addr(buf)
    return GetResource(inv, requester, buf.pull_u64(), buf.pull_u16())


def push_get_resource(buf, msg):
    push_inv(buf, msg.inv)
    push_socket_addr(buf, msg.requester)
    buf.push_u64(msg.ttl_unix_secs)
    buf.push_u16(msg.hops_limit)


def pull_get_blocks(buf):
    """(locator_hash, nonce8)."""
    return buf.pull_bytes(32), buf.pull_bytes(8)


def push_get_blocks(buf, locator, nonce):
    if len(locator) != 32 or len(nonce) != 8:
        raise LocalProtocolError("GetBlocks needs a 32-byte locator and an 8-byte nonce")
    buf.push_bytes(locator)
    buf.push_bytes(nonce)


def pull_get_mempool(buf):
    return buf.pull_bytes(8)


def push_get_mempool(buf, nonce):
    if len(nonce) != 8:
        raise LocalProtocolError("GetMempool needs an 8-byte nonce")
    buf.push_bytes(nonce)
