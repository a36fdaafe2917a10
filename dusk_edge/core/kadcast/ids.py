# Theory of operation: a Kadcast node id is bound to its advertised address (PROTOCOL.md §1.2):
# id = Blake2s256(port_le2 || ip octets)[0:16], so a node cannot pick its place in the id space,
# and a receiver recomputes the id from the UDP source ip and the header's port to reject spoofed
# ids. The 4-byte nonce is a small proof of work over the id: nodes produce 20 bits, receivers
# require 8. difficulty_ok reads the hash from its last byte backwards, as the reference does.
# Ip addresses travel here as packed octets (4 or 16 bytes); the drivers convert text forms.
from dusk_edge.core import accel
from dusk_edge.core.errors import DecodeError, LocalProtocolError
from dusk_edge.core.hashes import blake2s_256

ID_LEN = 16
NONCE_LEN = 4
DIFF_MIN_BIT = 8
DIFF_PRODUCED_BIT = 20
MAX_BUCKET_HEIGHT = ID_LEN * 8


def compute_id(ip_octets, port):
    """Node id of (ip, port); ``ip_octets`` is 4 (IPv4) or 16 (IPv6) packed bytes."""
    if len(ip_octets) not in (4, 16):
        raise DecodeError("ip must be 4 or 16 octets, got %d" % len(ip_octets))
    if not 0 <= port <= 0xFFFF:
        raise DecodeError("port out of range: %r" % (port,))
    return blake2s_256(bytes((port & 0xFF, port >> 8)) + bytes(ip_octets))[:ID_LEN]


def difficulty_ok(digest, difficulty):
    """True when ``digest`` has ``difficulty`` trailing zero bits, counted from its last byte."""
    if difficulty < 0:
        raise LocalProtocolError("negative difficulty")
    if not digest:
        raise DecodeError("empty hash")
    i = len(digest) - 1
    while difficulty > 8:
        if digest[i] != 0:
            return False
        difficulty -= 8
        i -= 1
        if i < 0:
            return False
    byte = digest[i]
    zeros = 8 if byte == 0 else 0
    while zeros < 8 and not (byte >> zeros) & 1:
        zeros += 1
    return zeros >= difficulty


def nonce_hash(node_id, nonce):
    return blake2s_256(bytes(node_id) + nonce_to_bytes(nonce))


def nonce_to_bytes(nonce):
    return bytes((nonce & 0xFF, (nonce >> 8) & 0xFF, (nonce >> 16) & 0xFF, (nonce >> 24) & 0xFF))


def find_nonce(node_id, difficulty=DIFF_PRODUCED_BIT):
    """Smallest u32 nonce whose Blake2s(id || nonce_le4) meets ``difficulty``."""
    if len(node_id) != ID_LEN:
        raise DecodeError("id must be %d bytes" % ID_LEN)
    for nonce in range(1 << 32):
        if difficulty_ok(nonce_hash(node_id, nonce), difficulty):
            return nonce
    raise LocalProtocolError("no nonce meets difficulty %d" % difficulty)


def verify_nonce(node_id, nonce, difficulty=DIFF_MIN_BIT):
    return difficulty_ok(nonce_hash(node_id, nonce), difficulty)


def bucket_index(a, b):
    """Bucket of b as seen from a: highest set bit of a^b read little-endian; -1 when equal."""
    return accel.xor_bucket(a, b)


def id_at_distance(node_id, height):
    """``node_id`` with bit ``height`` flipped: a target inside bucket ``height`` (refresh)."""
    if not 0 <= height < MAX_BUCKET_HEIGHT:
        raise LocalProtocolError("height out of range")
    out = bytearray(node_id)
    out[height // 8] ^= 1 << (height % 8)
    return bytes(out)


def distance(a, b):
    """XOR distance as an integer (little-endian, like the bucket index) for sorting."""
    return int.from_bytes(a, "little") ^ int.from_bytes(b, "little")
