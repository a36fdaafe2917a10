# Theory of operation: the one frame format of every serial line in dusk-edge (console machine
# mode, remote signer, companion firmware). Layout and rationale: docs/frames.md.
#
#   sync 0xD5 0x4E | version u8 | kind u8 | seq u16 | len u16 | hcheck u8 | payload[len] | crc u32
#
# Integers are little-endian. hcheck is the low byte of CRC32C over version..len, so a corrupt
# length is caught at once instead of making the decoder wait for up to len bytes; crc is CRC32C
# over everything after the sync bytes. The payload is one CBOR item (core/cbor.py).
#
# FrameDecoder is a streaming parser for a noisy line: feed() takes any bytes and returns the
# frames they complete; garbage, bad headers and bad CRCs are counted and skipped by resyncing
# on the next sync pattern. It never raises on input, never blocks, and never buffers more than
# one maximal frame plus one feed chunk. A half-sent frame followed by silence is dropped by
# expire(now), so it cannot swallow the next frame.
#
# FrameLink adds reliability on top: DATA frames are acknowledged (ACK carries the same seq),
# resent after rto_ms and given up after max_retries (stop-and-wait: one frame in flight, which
# suits 9600-baud lines). A resent DATA frame whose ACK was lost is acknowledged again but not
# delivered twice. NOTE frames (heartbeats) are fire-and-forget. Time is `now` in integer ms.
from dusk_edge.core import accel
from dusk_edge.core.errors import DecodeError, LocalProtocolError

SYNC = b"\xd5\x4e"
VERSION = 1
KIND_DATA = 0  # reliable: the receiver answers with an ACK of the same seq
KIND_ACK = 1
KIND_NOTE = 2  # unreliable, never acknowledged
_KINDS = (KIND_DATA, KIND_ACK, KIND_NOTE)
HEADER_SIZE = 9
OVERHEAD = HEADER_SIZE + 4
MAX_PAYLOAD = 1024  # default limit; the field allows 65535, we never need it
HARD_MAX_PAYLOAD = 4096


class Frame:
    __slots__ = ("kind", "seq", "payload")

    def __init__(self, kind, seq, payload):
        self.kind = kind
        self.seq = seq
        self.payload = payload

    def __eq__(self, other):
        return (isinstance(other, Frame) and self.kind == other.kind and self.seq == other.seq
                and self.payload == other.payload)

    def __repr__(self):
        return "Frame(kind=%d, seq=%d, payload=%r)" % (self.kind, self.seq, self.payload)


def _header_check(header):
    return accel.crc32c(header) & 0xFF


def encode_frame(kind, seq, payload, max_payload=HARD_MAX_PAYLOAD):
    """Bytes of one frame. Raises LocalProtocolError for a bad kind, seq or an oversized payload."""
    if kind not in _KINDS:
        raise LocalProtocolError("frame: unknown kind %r" % (kind,))
    if not 0 <= seq <= 0xFFFF:
        raise LocalProtocolError("frame: seq out of range")
    if len(payload) > max_payload:
        raise LocalProtocolError("frame: payload of %d bytes over %d" % (len(payload), max_payload))
    n = len(payload)
    header = bytes((VERSION, kind, seq & 0xFF, seq >> 8, n & 0xFF, n >> 8))
    body = header + bytes((_header_check(header),)) + bytes(payload)
    crc = accel.crc32c(body)
    return SYNC + body + bytes((crc & 0xFF, (crc >> 8) & 0xFF, (crc >> 16) & 0xFF, crc >> 24))


def _check_header(data, max_payload):
    # data starts at the sync bytes and holds >= HEADER_SIZE bytes; returns the payload length.
    if data[2] != VERSION:
        raise DecodeError("frame: unsupported version %d" % data[2])
    if data[3] not in _KINDS:
        raise DecodeError("frame: unknown kind %d" % data[3])
    if _header_check(bytes(data[2:8])) != data[8]:
        raise DecodeError("frame: header check mismatch")
    n = data[6] | (data[7] << 8)
    if n > max_payload:
        raise DecodeError("frame: payload of %d bytes over %d" % (n, max_payload))
    return n


def _check_crc(data, n):
    end = HEADER_SIZE + n
    crc = data[end] | (data[end + 1] << 8) | (data[end + 2] << 16) | (data[end + 3] << 24)
    if accel.crc32c(bytes(data[2:end])) != crc:
        raise DecodeError("frame: CRC mismatch")


def decode_frame(data, max_payload=MAX_PAYLOAD):
    """The Frame that fills all of ``data`` exactly. Raises DecodeError otherwise."""
    if len(data) < OVERHEAD:
        raise DecodeError("frame: truncated (%d bytes)" % len(data))
    if bytes(data[:2]) != SYNC:
        raise DecodeError("frame: bad sync bytes")
    n = _check_header(data, max_payload)
    if len(data) != OVERHEAD + n:
        raise DecodeError("frame: length says %d bytes, got %d" % (OVERHEAD + n, len(data)))
    _check_crc(data, n)
    return Frame(data[3], data[4] | (data[5] << 8), bytes(data[HEADER_SIZE:HEADER_SIZE + n]))


class FrameDecoder:
    # Counters (for status and tests): garbage_bytes skipped outside frames, bad_frames dropped
    # for a bad header or CRC, expired partial frames, frames delivered.
    __slots__ = ("max_payload", "idle_ms", "max_age_ms", "_buf", "_last_rx", "_started",
                 "_head_moved", "garbage_bytes", "bad_frames", "expired", "frames")

    def __init__(self, max_payload=MAX_PAYLOAD, idle_ms=1000, max_age_ms=6000):
        if not 0 <= max_payload <= HARD_MAX_PAYLOAD:
            raise LocalProtocolError("frame: max_payload must be 0..%d" % HARD_MAX_PAYLOAD)
        self.max_payload = max_payload
        self.idle_ms = idle_ms
        self._buf = bytearray()
        self.max_age_ms = max_age_ms  # a trickle of bytes must not keep a stale frame alive
        self._last_rx = None
        self._started = None
        self._head_moved = False
        self.garbage_bytes = 0
        self.bad_frames = 0
        self.expired = 0
        self.frames = 0

    @property
    def pending(self):
        """True while the buffer holds the start of a frame that is not complete yet."""
        return len(self._buf) > 0

    def feed(self, data, now=None):
        """Frames completed by ``data`` (any bytes). Never raises on content."""
        if now is not None and len(data):
            self._last_rx = now
        self._head_moved = not self._buf
        frames = []
        chunk = OVERHEAD + self.max_payload
        for start in range(0, len(data), chunk):
            self._buf.extend(data[start:start + chunk])
            self._scan(frames)
        if self._head_moved and now is not None:
            self._started = now
        return frames

    def get_timer(self):
        """When a partial frame goes stale (ms), or None."""
        if not self._buf or self._last_rx is None:
            return None
        return min(self._last_rx + self.idle_ms, self._started + self.max_age_ms)

    def expire(self, now):
        """Drop a partial frame after idle_ms of silence (or max_age_ms in all) and rescan what
        followed its sync."""
        deadline = self.get_timer()
        if deadline is None or now < deadline:
            return []
        self.expired += 1
        self._drop(1)
        frames = []
        self._scan(frames)
        if self._buf:  # whatever is left starts another partial frame; give it a fresh period
            self._last_rx = now
            self._started = now
        return frames

    def _drop(self, n):
        # Slicing, not `del buf[:n]`: MicroPython's bytearray does not support item deletion.
        self._buf = self._buf[n:]
        self._head_moved = True

    def _skip_to_sync(self):
        buf = self._buf
        at = bytes(buf).find(SYNC)
        if at < 0:
            # Keep a trailing first sync byte: its partner may come with the next feed.
            keep = 1 if buf and buf[-1] == SYNC[0] else 0
            self.garbage_bytes += len(buf) - keep
            if len(buf) - keep:
                self._drop(len(buf) - keep)
            return False
        if at:
            self.garbage_bytes += at
            self._drop(at)
        return True

    def _scan(self, frames):
        while self._skip_to_sync() and len(self._buf) >= HEADER_SIZE:
            buf = self._buf
            try:
                n = _check_header(buf, self.max_payload)
                if len(buf) < OVERHEAD + n:
                    return
                _check_crc(buf, n)
            except DecodeError:
                self.bad_frames += 1
                self._drop(1)  # resync: a real frame may start inside this one
                continue
            frames.append(Frame(buf[3], buf[4] | (buf[5] << 8), bytes(buf[HEADER_SIZE:HEADER_SIZE + n])))
            self.frames += 1
            self._drop(OVERHEAD + n)


class FrameLink:
    # Stop-and-wait ARQ over FrameDecoder. Outgoing DATA payloads wait in a bounded queue; the
    # head is in flight until its ACK arrives or it is given up. Sans-I/O: the driver moves
    # data_to_send() to the line and calls handle_timer(now) at get_timer().
    __slots__ = ("decoder", "rto_ms", "max_retries", "max_queue", "_next_seq", "_queue",
                 "_inflight_at", "_retries", "_out", "_last_delivered", "resent", "given_up")

    def __init__(self, initial_seq=0, rto_ms=500, max_retries=8, max_queue=32,
                 max_payload=MAX_PAYLOAD, idle_ms=1000):
        self.decoder = FrameDecoder(max_payload, idle_ms)
        self.rto_ms = rto_ms
        self.max_retries = max_retries
        self.max_queue = max_queue
        self._next_seq = initial_seq & 0xFFFF
        self._queue = []  # [seq, payload]; the head is in flight
        self._inflight_at = None
        self._retries = 0
        self._out = bytearray()
        self._last_delivered = None
        self.resent = 0
        self.given_up = 0

    def _take_seq(self):
        seq = self._next_seq
        self._next_seq = (seq + 1) & 0xFFFF
        return seq

    def send(self, payload, now):
        """Queue ``payload`` for reliable delivery. Raises LocalProtocolError when the queue is full."""
        if len(payload) > self.decoder.max_payload:
            raise LocalProtocolError("frame: payload of %d bytes over %d" % (len(payload), self.decoder.max_payload))
        if len(self._queue) >= self.max_queue:
            raise LocalProtocolError("frame link: send queue full")
        self._queue.append((self._take_seq(), bytes(payload)))
        if len(self._queue) == 1:
            self._transmit_head(now)

    def send_note(self, payload):
        """Send ``payload`` once, unacknowledged (heartbeats, status pushes)."""
        self._out.extend(encode_frame(KIND_NOTE, self._take_seq(), payload, self.decoder.max_payload))

    def _transmit_head(self, now):
        seq, payload = self._queue[0]
        self._out.extend(encode_frame(KIND_DATA, seq, payload))
        self._inflight_at = now

    def receive_data(self, data, now):
        """Payloads delivered by ``data``: a list of Frame (kind DATA or NOTE), in order."""
        delivered = []
        for frame in self.decoder.feed(data, now):
            self._on_frame(frame, now, delivered)
        return delivered

    def _on_frame(self, frame, now, delivered):
        if frame.kind == KIND_ACK:
            if self._queue and self._queue[0][0] == frame.seq:
                self._queue.pop(0)
                self._retries = 0
                self._inflight_at = None
                if self._queue:
                    self._transmit_head(now)
            return
        if frame.kind == KIND_DATA:
            self._out.extend(encode_frame(KIND_ACK, frame.seq, b""))
            if frame.seq == self._last_delivered:
                return  # our ACK was lost and the peer resent: acknowledge, do not redeliver
            self._last_delivered = frame.seq
        delivered.append(frame)

    def data_to_send(self):
        """Bytes for the line; clears the outgoing buffer."""
        out = bytes(self._out)
        self._out = bytearray()
        return out

    def get_timer(self):
        """The next deadline (ms) at which handle_timer must run, or None."""
        deadlines = [d for d in (self.decoder.get_timer(),
                                 None if self._inflight_at is None else self._inflight_at + self.rto_ms)
                     if d is not None]
        return min(deadlines) if deadlines else None

    def handle_timer(self, now):
        """Resend or give up the frame in flight; expire a stale partial frame.

        Returns (delivered, lost): frames completed by the expiry and payloads given up."""
        delivered = []
        for frame in self.decoder.expire(now):
            self._on_frame(frame, now, delivered)
        lost = []
        if self._inflight_at is not None and now >= self._inflight_at + self.rto_ms:
            if self._retries >= self.max_retries:
                lost.append(self._queue.pop(0)[1])
                self.given_up += 1
                self._retries = 0
                self._inflight_at = None
                if self._queue:
                    self._transmit_head(now)
            else:
                self._retries += 1
                self.resent += 1
                self._transmit_head(now)
        return delivered, lost

    @property
    def idle(self):
        """True when nothing waits for an acknowledgement."""
        return not self._queue
