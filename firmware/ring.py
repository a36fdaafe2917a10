# Theory of operation: recent events survive a power cut in a fixed-size ring file on the board's
# flash. The file is a header (magic, next slot, total count) plus `slots` records of
# `slot_size` bytes: seq u32 | at u32 (ms, truncated) | len u8 | UTF-8 text. Appending rewrites one
# slot and the header, so the file never grows and wear spreads over the slots. A missing or
# foreign file is recreated empty; a torn slot (bad length) is skipped when read.
import struct

_MAGIC = b"DER1"
_HEADER = "<4sHI"  # magic, next slot, total appended
_HEADER_SIZE = 10
_RECORD = "<IIB"
_RECORD_SIZE = 9


class EventRing:
    def __init__(self, path, slots=64, slot_size=48):
        self.path = path
        self.slots = slots
        self.slot_size = slot_size
        self.next_slot = 0
        self.total = 0
        if not self._load():
            self._create()

    def _load(self):
        try:
            with open(self.path, "rb") as f:
                head = f.read(_HEADER_SIZE)
        except OSError:
            return False
        if len(head) != _HEADER_SIZE:
            return False
        magic, next_slot, total = struct.unpack(_HEADER, head)
        if magic != _MAGIC or next_slot >= self.slots:
            return False
        self.next_slot = next_slot
        self.total = total
        return True

    def _create(self):
        with open(self.path, "wb") as f:
            f.write(struct.pack(_HEADER, _MAGIC, 0, 0))
            f.write(bytes(self.slots * self.slot_size))
        self.next_slot = 0
        self.total = 0

    def append(self, at, text):
        raw = text.encode()[:self.slot_size - _RECORD_SIZE]
        self.total += 1
        record = struct.pack(_RECORD, self.total & 0xFFFFFFFF, at & 0xFFFFFFFF, len(raw)) + raw
        with open(self.path, "r+b") as f:
            f.seek(_HEADER_SIZE + self.next_slot * self.slot_size)
            f.write(record + bytes(self.slot_size - len(record)))
            self.next_slot = (self.next_slot + 1) % self.slots
            f.seek(0)
            f.write(struct.pack(_HEADER, _MAGIC, self.next_slot, self.total & 0xFFFFFFFF))

    def events(self):
        """[(seq, at, text)] oldest first."""
        out = []
        with open(self.path, "rb") as f:
            f.seek(_HEADER_SIZE)
            body = f.read(self.slots * self.slot_size)
        for i in range(self.slots):
            slot = (self.next_slot + i) % self.slots
            chunk = body[slot * self.slot_size:(slot + 1) * self.slot_size]
            if len(chunk) < _RECORD_SIZE:
                continue
            seq, at, n = struct.unpack(_RECORD, chunk[:_RECORD_SIZE])
            if seq == 0 or n > self.slot_size - _RECORD_SIZE:
                continue
            try:
                out.append((seq, at, chunk[_RECORD_SIZE:_RECORD_SIZE + n].decode()))
            except UnicodeError:
                continue
        out.sort()
        return out
