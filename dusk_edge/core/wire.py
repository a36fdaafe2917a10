# Theory of operation: every wire format is a pair pull_x(buf) / push_x(buf, v) over one Buffer.
# A Buffer either reads fixed bytes (Buffer(data)) or grows a bytearray (Buffer()). Reading past
# the end raises DecodeError (a RemoteProtocolError): a short datagram is the peer's fault.
# Integers are little-endian unless a pull/push name says _be.
import struct

from dusk_edge.core.errors import DecodeError, LocalProtocolError


class Buffer:
    __slots__ = ("_data", "_pos")

    def __init__(self, data=None):
        self._data = bytearray() if data is None else data
        self._pos = 0

    # reading ---------------------------------------------------------------------------
    @property
    def position(self):
        return self._pos

    def remaining(self):
        return len(self._data) - self._pos

    def eof(self):
        return self._pos >= len(self._data)

    def pull_bytes(self, n):
        if n < 0 or self._pos + n > len(self._data):
            raise DecodeError("truncated: need %d bytes, have %d" % (n, self.remaining()))
        start = self._pos
        self._pos += n
        return bytes(self._data[start:self._pos])

    def pull_rest(self):
        return self.pull_bytes(self.remaining())

    def _pull(self, fmt, n):
        return struct.unpack(fmt, self.pull_bytes(n))[0]

    def pull_u8(self):
        return self._pull("<B", 1)

    def pull_u16(self):
        return self._pull("<H", 2)

    def pull_u32(self):
        return self._pull("<I", 4)

    def pull_u64(self):
        return self._pull("<Q", 8)

    def pull_u16_be(self):
        return self._pull(">H", 2)

    def pull_u32_be(self):
        return self._pull(">I", 4)

    def expect_eof(self):
        if not self.eof():
            raise DecodeError("trailing bytes: %d" % self.remaining())

    # writing ---------------------------------------------------------------------------
    @property
    def data(self):
        return bytes(self._data)

    def push_bytes(self, b):
        if not isinstance(self._data, bytearray):
            raise LocalProtocolError("push on a read-only Buffer")
        self._data.extend(b)

    def _push(self, fmt, v, bits):
        if not 0 <= v < (1 << bits):
            raise LocalProtocolError("value %r does not fit %d bits" % (v, bits))
        self.push_bytes(struct.pack(fmt, v))

    def push_u8(self, v):
        self._push("<B", v, 8)

    def push_u16(self, v):
        self._push("<H", v, 16)

    def push_u32(self, v):
        self._push("<I", v, 32)

    def push_u64(self, v):
        self._push("<Q", v, 64)

    def push_u16_be(self, v):
        self._push(">H", v, 16)

    def push_u32_be(self, v):
        self._push(">I", v, 32)


def pull_fixed(buf, n):
    """Pull exactly ``n`` bytes (alias kept for readability in message decoders)."""
    return buf.pull_bytes(n)


def push_fixed(buf, value, n):
    """Push ``value``, which must be exactly ``n`` bytes long."""
    if len(value) != n:
        raise LocalProtocolError("expected %d bytes, got %d" % (n, len(value)))
    buf.push_bytes(value)
