# Theory of operation: the double-sign guard's memory, without I/O.
# A slot is (round, iteration, step). Once a signature for a slot has been released, only the same
# signed-data hash may be signed again in that slot (the stored signature is returned); a different
# hash is a double sign and raises DoubleSignError. History below a finalized round is pruned to
# bound growth; the pruned "floor" is kept so a request below it is refused (we no longer know what
# we signed there). An imported history that disagrees with ours poisons the slot (BLOCKED): no
# signature for it ever again. Records have a fixed binary layout with a CRC so the file driver
# (guard.py) can detect a torn tail and corruption. MicroPython-compatible on purpose.
from dusk_edge.core.hashes import crc32c
from dusk_edge.core.wire import Buffer
from dusk_edge.core.errors import DecodeError
from dusk_edge.keys.errors import DoubleSignError

STEP_PROPOSAL = 0        # candidate block signature
STEP_VALIDATION = 1
STEP_RATIFICATION = 2
STEP_SEED = 3            # seed of the round (iteration is always 0)
STEP_NAMES = {STEP_PROPOSAL: "proposal", STEP_VALIDATION: "validation",
              STEP_RATIFICATION: "ratification", STEP_SEED: "seed"}
STEP_BY_NAME = {"proposal": 0, "validation": 1, "ratification": 2, "seed": 3}

KIND_SIGNED = 1
KIND_BLOCKED = 2
KIND_FLOOR = 3

HASH_SIZE = 32
SIGNATURE_SIZE = 48
RECORD_SIZE = 1 + 8 + 1 + 1 + HASH_SIZE + SIGNATURE_SIZE + 4   # 96
FILE_MAGIC = b"DEGUARD\x01"
MAX_ROUND = (1 << 64) - 1
NO_HASH = b"\x00" * HASH_SIZE
NO_SIGNATURE = b"\x00" * SIGNATURE_SIZE


def encode_record(kind, round_, iteration, step, data_hash, signature):
    buf = Buffer()
    buf.push_u8(kind)
    buf.push_u64(round_)
    buf.push_u8(iteration)
    buf.push_u8(step)
    buf.push_bytes(data_hash)
    buf.push_bytes(signature)
    body = bytes(buf.data)
    return body + crc32c(body).to_bytes(4, "little")


def decode_record(raw):
    """(kind, round, iteration, step, data_hash, signature) of a 96-byte record; DecodeError if bad."""
    if len(raw) != RECORD_SIZE:
        raise DecodeError("guard record must be %d bytes" % RECORD_SIZE)
    if crc32c(raw[:-4]) != int.from_bytes(raw[-4:], "little"):
        raise DecodeError("guard record checksum mismatch")
    buf = Buffer(raw[:-4])
    kind = buf.pull_u8()
    round_ = buf.pull_u64()
    iteration = buf.pull_u8()
    step = buf.pull_u8()
    data_hash = buf.pull_bytes(HASH_SIZE)
    signature = buf.pull_bytes(SIGNATURE_SIZE)
    if kind not in (KIND_SIGNED, KIND_BLOCKED, KIND_FLOOR) or step not in STEP_NAMES:
        raise DecodeError("guard record has an unknown kind or step")
    return (kind, round_, iteration, step, bytes(data_hash), bytes(signature))


class SignHistory:
    """What has been signed, slot by slot, above ``floor``."""

    __slots__ = ("entries", "floor")

    def __init__(self):
        self.entries = {}     # (round, iteration, step) -> (kind, data_hash, signature)
        self.floor = 0        # rounds < floor are pruned: refuse them

    def check(self, round_, iteration, step, data_hash):
        """The stored signature for an identical request, None for a fresh slot.

        Raises DoubleSignError for a conflicting hash, a blocked slot, or a round below the floor.
        """
        if round_ < self.floor:
            raise DoubleSignError("round %d is below the pruned floor %d" % (round_, self.floor))
        entry = self.entries.get((round_, iteration, step))
        if entry is None:
            return None
        kind, stored_hash, signature = entry
        if kind == KIND_BLOCKED:
            raise DoubleSignError("slot round=%d iteration=%d step=%s is blocked by an imported "
                                  "conflicting history" % (round_, iteration, STEP_NAMES[step]))
        if stored_hash != data_hash:
            raise DoubleSignError("already signed different data at round=%d iteration=%d step=%s"
                                  % (round_, iteration, STEP_NAMES[step]))
        return signature

    def apply(self, record):
        """Apply one decoded record (replaying the file, or after appending it)."""
        kind, round_, iteration, step, data_hash, signature = record
        if kind == KIND_FLOOR:
            self._raise_floor(round_)
        elif round_ >= self.floor:
            self.entries[(round_, iteration, step)] = (kind, data_hash, signature)

    def _raise_floor(self, floor):
        if floor > self.floor:
            self.floor = floor
            for slot in [s for s in self.entries if s[0] < floor]:
                del self.entries[slot]

    def merge_record(self, record):
        """The record to store when importing ``record`` from another history, or None if nothing
        changes: a fresh slot is copied, an agreeing one kept, a disagreeing one BLOCKED."""
        kind, round_, iteration, step, data_hash, signature = record
        if kind == KIND_FLOOR:
            return record if round_ > self.floor else None
        if round_ < self.floor:
            return None
        entry = self.entries.get((round_, iteration, step))
        if entry is None:
            return record
        if entry[0] == KIND_BLOCKED:
            return None
        if kind == KIND_SIGNED and entry[1] == data_hash:
            return None
        return (KIND_BLOCKED, round_, iteration, step, NO_HASH, NO_SIGNATURE)

    def records(self):
        """Records that rebuild this history: the floor first, then slots in order."""
        out = [(KIND_FLOOR, self.floor, 0, 0, NO_HASH, NO_SIGNATURE)]
        for slot in sorted(self.entries):
            kind, data_hash, signature = self.entries[slot]
            out.append((kind, slot[0], slot[1], slot[2], data_hash, signature))
        return out

    def last_round(self):
        return max([s[0] for s in self.entries]) if self.entries else None
