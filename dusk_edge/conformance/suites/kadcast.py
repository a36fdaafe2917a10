"""Suites kadcast_id, kadcast_pow, kadcast_nonce, kadcast_decode (CONFORMANCE.md, PROTOCOL.md §1)."""
import ipaddress

from dusk_edge.conformance import hexbytes
from dusk_edge.core.errors import DecodeError
from dusk_edge.core.kadcast import ids
from dusk_edge.core.kadcast import messages as m

MAX_DIFFICULTY = 24  # a nonce search above this is not a conformance case but a DoS


def _int(inp, key, low, high):
    value = inp.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise DecodeError("%s must be an integer in %d..%d" % (key, low, high))
    return value


def kadcast_id(inp):
    try:
        ip = ipaddress.ip_address(inp["ip"])
    except (ValueError, TypeError, KeyError):
        raise DecodeError("ip: not an IPv4 or IPv6 address") from None
    port = _int(inp, "port", 0, 0xFFFF)
    return {"id": ids.compute_id(ip.packed, port).hex()}


def kadcast_pow(inp):
    digest = hexbytes(inp["hash"], None, "hash")
    if not digest:
        raise DecodeError("hash must be at least one byte")
    return {"ok": ids.difficulty_ok(digest, _int(inp, "difficulty", 0, 8 * len(digest) + 8))}


def kadcast_nonce(inp):
    node_id = hexbytes(inp["id"], ids.ID_LEN, "id")
    return {"nonce": ids.find_nonce(node_id, _int(inp, "difficulty", 0, MAX_DIFFICULTY))}


def _ip_text(octets):
    return str(ipaddress.ip_address(bytes(octets)))


def kadcast_decode(inp):
    msg = m.decode_message(hexbytes(inp["bytes"], None, "bytes"))
    h = msg.header
    out = {"type": m.TYPE_NAMES[msg.kind], "id": h.id.hex(), "nonce": h.nonce,
           "sender_port": h.port, "network_id": h.network_id}
    if msg.kind == m.REPAIR:
        raise DecodeError("REPAIR is a dusk-edge extension, not a Kadcast v0.8.0 message")
    if msg.kind == m.BROADCAST:
        out["height"] = msg.height
        out["payload"] = msg.payload.hex()
        return out
    out["version"] = "%d.%d.%d" % msg.version
    if msg.kind == m.FIND_NODES:
        out["target"] = msg.target.hex()
    elif msg.kind == m.NODES:
        out["peers"] = [{"ip": _ip_text(p.ip), "port": p.port, "id": p.id.hex()} for p in msg.peers]
    return out


SUITES = {"kadcast_id": kadcast_id, "kadcast_pow": kadcast_pow, "kadcast_nonce": kadcast_nonce,
          "kadcast_decode": kadcast_decode}
