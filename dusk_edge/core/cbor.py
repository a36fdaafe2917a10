# Theory of operation: a small, strict CBOR (RFC 8949) subset for serial frames, store metadata
# and the remote signer, because MicroPython ships no CBOR codec.
#
# Supported items: unsigned and negative integers in [-2**64, 2**64 - 1], byte strings, UTF-8
# text strings, arrays, maps, true, false and null. Everything else (floats, tags, undefined,
# simple values, indefinite lengths, reserved additional info) is rejected.
#
# The encoder is canonical in the RFC 7049 §3.9 sense, which is what cbor2's canonical=True
# produces: shortest argument encoding and map keys sorted by (length of encoded key, encoded
# bytes). So for the same value our bytes equal cbor2.dumps(value, canonical=True).
#
# The decoder accepts exactly one canonical encoding per value: a non-shortest argument,
# unsorted or duplicate map keys, or trailing bytes raise DecodeError (a RemoteProtocolError).
# It also bounds nesting depth, item counts and total input size, so hostile input costs at most
# O(len(data)) work and memory. Decoded arrays are lists, maps are dicts, byte strings bytes.
# Map keys may be ints, text or bytes (hashable in both CPython and MicroPython).
from dusk_edge.core.errors import DecodeError, LocalProtocolError

MAX_DEPTH = 16
MAX_ITEMS = 4096  # elements of one array or entries of one map
MAX_SIZE = 65536  # total encoded bytes accepted by decode()

_UINT_LIMIT = 1 << 64
_KEY_TYPES = (int, str, bytes)


def _push_head(out, major, arg):
    # Shortest form of the argument: 0..23 inline, then 1, 2, 4 or 8 big-endian bytes.
    base = major << 5
    if arg < 24:
        out.append(base | arg)
        return
    if arg < 0x100:
        out.append(base | 24)
        size = 1
    elif arg < 0x10000:
        out.append(base | 25)
        size = 2
    elif arg < 0x100000000:
        out.append(base | 26)
        size = 4
    else:
        out.append(base | 27)
        size = 8
    shift = (size - 1) * 8
    while shift >= 0:
        out.append((arg >> shift) & 0xFF)
        shift -= 8


def _push_item(out, value, depth):
    if depth > MAX_DEPTH:
        raise LocalProtocolError("cbor: nesting deeper than %d" % MAX_DEPTH)
    if value is None:
        out.append(0xF6)
    elif value is True:
        out.append(0xF5)
    elif value is False:
        out.append(0xF4)
    elif isinstance(value, int):
        if value >= 0:
            if value >= _UINT_LIMIT:
                raise LocalProtocolError("cbor: integer too large for 64 bits")
            _push_head(out, 0, value)
        else:
            if value < -_UINT_LIMIT:
                raise LocalProtocolError("cbor: integer too small for 64 bits")
            _push_head(out, 1, -1 - value)
    elif isinstance(value, (bytes, bytearray, memoryview)):
        _push_head(out, 2, len(value))
        out.extend(value)
    elif isinstance(value, str):
        raw = value.encode("utf-8")
        _push_head(out, 3, len(raw))
        out.extend(raw)
    elif isinstance(value, (list, tuple)):
        _push_head(out, 4, len(value))
        for item in value:
            _push_item(out, item, depth + 1)
    elif isinstance(value, dict):
        _push_map(out, value, depth)
    else:
        raise LocalProtocolError("cbor: cannot encode %s" % type(value).__name__)


def _push_map(out, value, depth):
    entries = []
    for key in value:
        if isinstance(key, bool) or not isinstance(key, _KEY_TYPES):
            raise LocalProtocolError("cbor: map keys must be int, str or bytes")
        encoded = bytearray()
        _push_item(encoded, key, depth + 1)
        entries.append((len(encoded), bytes(encoded), key))
    entries.sort()
    _push_head(out, 5, len(entries))
    for _, encoded, key in entries:
        out.extend(encoded)
        _push_item(out, value[key], depth + 1)


def encode(value):
    """Canonical CBOR bytes of ``value``.

    Raises LocalProtocolError for a type outside the subset, an integer outside 64 bits, a
    non-int/str/bytes map key or nesting deeper than MAX_DEPTH (all are the caller's bug)."""
    out = bytearray()
    _push_item(out, value, 0)
    return bytes(out)


class _Reader:
    __slots__ = ("data", "pos", "max_items")

    def __init__(self, data, max_items):
        self.data = data
        self.pos = 0
        self.max_items = max_items

    def take(self, n):
        end = self.pos + n
        if end > len(self.data):
            raise DecodeError("cbor: truncated (need %d more bytes)" % (end - len(self.data)))
        chunk = bytes(self.data[self.pos:end])
        self.pos = end
        return chunk

    def head(self):
        initial = self.take(1)[0]
        major = initial >> 5
        info = initial & 0x1F
        if info < 24:
            return major, info, info
        if info > 27:
            raise DecodeError("cbor: indefinite length or reserved info %d" % info)
        size = 1 << (info - 24)
        arg = 0
        for b in self.take(size):
            arg = (arg << 8) | b
        # Canonical: the argument must not fit a shorter form.
        if arg < (24 if size == 1 else 1 << (size * 4)):
            raise DecodeError("cbor: non-shortest argument encoding")
        return major, info, arg


def _pull_item(reader, depth):
    if depth > MAX_DEPTH:
        raise DecodeError("cbor: nesting deeper than %d" % MAX_DEPTH)
    start = reader.pos
    major, info, arg = reader.head()
    if major == 0:
        return arg
    if major == 1:
        return -1 - arg
    if major == 2:
        return reader.take(arg)
    if major == 3:
        raw = reader.take(arg)
        try:
            return raw.decode("utf-8")
        except UnicodeError:
            pass
        raise DecodeError("cbor: text is not valid UTF-8")
    if major == 4:
        _check_count(reader, arg)
        return [_pull_item(reader, depth + 1) for _ in range(arg)]
    if major == 5:
        _check_count(reader, arg)
        return _pull_map(reader, arg, depth)
    if major == 7:
        if info == 20:
            return False
        if info == 21:
            return True
        if info == 22:
            return None
        raise DecodeError("cbor: unsupported simple value or float (info %d)" % info)
    raise DecodeError("cbor: tags are not supported (at offset %d)" % start)


def _check_count(reader, count):
    # Every element takes at least one byte, so a count beyond the remaining input is a lie.
    if count > reader.max_items or count > len(reader.data) - reader.pos:
        raise DecodeError("cbor: container of %d items exceeds limits" % count)


def _pull_map(reader, count, depth):
    result = {}
    previous = None
    for _ in range(count):
        key_start = reader.pos
        key = _pull_item(reader, depth + 1)
        if isinstance(key, bool) or not isinstance(key, _KEY_TYPES):
            raise DecodeError("cbor: map key must be int, text or bytes")
        encoded = bytes(reader.data[key_start:reader.pos])
        order = (len(encoded), encoded)
        if previous is not None and order <= previous:
            raise DecodeError("cbor: map keys unsorted or duplicated")
        previous = order
        result[key] = _pull_item(reader, depth + 1)
    return result


def decode(data, max_size=MAX_SIZE, max_items=MAX_ITEMS):
    """The value of one canonical CBOR item filling all of ``data``.

    Raises DecodeError for input over ``max_size`` bytes, truncation, trailing bytes, anything
    outside the subset, non-canonical forms, containers over ``max_items`` or nesting deeper than
    MAX_DEPTH."""
    if len(data) > max_size:
        raise DecodeError("cbor: %d bytes exceed the limit of %d" % (len(data), max_size))
    reader = _Reader(data, max_items)
    value = _pull_item(reader, 0)
    if reader.pos != len(data):
        raise DecodeError("cbor: %d trailing bytes" % (len(data) - reader.pos))
    return value
