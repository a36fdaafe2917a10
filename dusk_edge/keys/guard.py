"""Double-sign guard on disk: the file driver around sign_history.SignHistory.

Before a signature leaves the signer its record (round, iteration, step, data hash, signature) is
appended to ``guard.bin`` and fsynced, so after a crash (even `kill -9` between signing and sending)
the signer still refuses a conflicting request. The file is locked with flock() for as long as the
guard is open: a second instance on the same key directory gets DuplicateInstanceError.
On open, a torn last record (power cut mid-append: never released) is truncated; a bad record
anywhere else raises GuardCorruptError and the signer refuses to start. prune_below() rewrites the
file atomically. export/import use the JSON interchange format of docs/guard-format.md.
"""
import fcntl
import json
import os

from dusk_edge.core.errors import DecodeError
from dusk_edge.keys.errors import DuplicateInstanceError, GuardCorruptError, GuardError
from dusk_edge.keys.private_files import fsync_directory, write_private_file
from dusk_edge.keys.sign_history import (FILE_MAGIC, HASH_SIZE, KIND_BLOCKED, KIND_FLOOR,
                                         KIND_SIGNED, MAX_ROUND, NO_HASH, NO_SIGNATURE,
                                         RECORD_SIZE, SIGNATURE_SIZE, STEP_BY_NAME, STEP_NAMES,
                                         SignHistory, decode_record, encode_record)

INTERCHANGE_FORMAT = "dusk-edge-guard-interchange"
INTERCHANGE_VERSION = 1
MAX_ENTRIES = 200000          # hard bound: refuse to sign rather than grow without limit
MAX_INTERCHANGE_BYTES = 64 << 20


class DoubleSignGuard:
    """Persistent guard for one public key. Open with DoubleSignGuard(path, public_key)."""

    def __init__(self, path, public_key, fsync=True):
        self.path = path
        self.public_key = bytes(public_key)
        self.fsync = fsync
        self.history = SignHistory()
        self.truncated_tail = 0
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._fd)
            self._fd = None
            raise DuplicateInstanceError(
                "guard %s is locked by another running signer" % path) from None
        try:
            self._load()
        except BaseException:
            self.close()
            raise

    def close(self):
        if self._fd is not None:
            os.close(self._fd)   # closing releases the flock
            self._fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _load(self):
        data = b""
        chunk = os.read(self._fd, 1 << 20)
        while chunk:
            data += chunk
            chunk = os.read(self._fd, 1 << 20)
        if len(data) < len(FILE_MAGIC) and FILE_MAGIC.startswith(data):
            data = b""   # creation was cut short before anything could be signed
        if not data:
            self._write_all(FILE_MAGIC + encode_record(KIND_FLOOR, 0, 0, 0, NO_HASH, NO_SIGNATURE))
            self._append_pk_binding()
            return
        if data[:len(FILE_MAGIC)] != FILE_MAGIC:
            raise GuardCorruptError("guard %s: not a guard file (bad magic)" % self.path)
        body = data[len(FILE_MAGIC):]
        whole = len(body) // RECORD_SIZE
        records = []
        for i in range(whole):
            raw = body[i * RECORD_SIZE:(i + 1) * RECORD_SIZE]
            try:
                records.append(decode_record(raw))
            except DecodeError:
                if i != whole - 1 or len(body) % RECORD_SIZE:
                    raise GuardCorruptError(
                        "guard %s: record %d is corrupt" % (self.path, i)) from None
                whole -= 1   # torn final record: it was never fsynced, so never released
        good = len(FILE_MAGIC) + whole * RECORD_SIZE
        if good != len(data):
            self.truncated_tail = len(data) - good
            os.ftruncate(self._fd, good)
            os.fsync(self._fd)
        for record in records[:whole]:
            self.history.apply(record)
        self._check_pk_binding()
        os.lseek(self._fd, 0, os.SEEK_END)

    # The guard file belongs to one key: slot (MAX_ROUND, 255, seed) carries the key's hash.
    def _pk_binding(self):
        from dusk_edge.core.hashes import sha256
        return (KIND_SIGNED, MAX_ROUND, 255, 3, sha256(self.public_key), NO_SIGNATURE)

    def _append_pk_binding(self):
        self._append(self._pk_binding())

    def _check_pk_binding(self):
        kind, round_, iteration, step, data_hash, _ = self._pk_binding()
        entry = self.history.entries.get((round_, iteration, step))
        if entry is None:
            self._append_pk_binding()
        elif entry[1] != data_hash:
            raise GuardError("guard %s belongs to another public key" % self.path)

    def _write_all(self, data):
        os.lseek(self._fd, 0, os.SEEK_SET)
        os.ftruncate(self._fd, 0)
        os.write(self._fd, data)
        os.fsync(self._fd)

    def _append(self, record):
        raw = encode_record(*record)
        offset = os.lseek(self._fd, 0, os.SEEK_END)
        try:
            if os.write(self._fd, raw) != len(raw):
                raise OSError(28, "short write")
            if self.fsync:
                os.fdatasync(self._fd)
        except OSError as exc:
            # Disk full or I/O error: the record is not durable, so nothing may be released.
            # Cut the partial record so later appends do not follow garbage.
            try:
                os.ftruncate(self._fd, offset)
            except OSError:
                pass
            raise GuardError("guard %s: write failed (%s); refusing to sign"
                             % (self.path, exc.strerror or exc)) from None
        self.history.apply(record)

    # signing ---------------------------------------------------------------------------------

    def check(self, round_, iteration, step, data_hash):
        """Stored signature for an identical request, None for a fresh slot; DoubleSignError else."""
        if self._fd is None:
            raise GuardError("guard %s is closed" % self.path)
        return self.history.check(round_, iteration, step, data_hash)

    def record(self, round_, iteration, step, data_hash, signature):
        """Append and fsync a released signature. Call after check() returned None, before release."""
        if len(self.history.entries) >= MAX_ENTRIES:
            raise GuardError("guard %s holds %d entries: prune below a finalized round"
                             % (self.path, MAX_ENTRIES))
        if len(data_hash) != HASH_SIZE or len(signature) != SIGNATURE_SIZE:
            raise GuardError("guard record: bad hash or signature size")
        self._append((KIND_SIGNED, round_, iteration, step, bytes(data_hash), bytes(signature)))

    def prune_below(self, finalized_round):
        """Forget slots below ``finalized_round`` and refuse them from now on. Atomic rewrite."""
        if finalized_round <= self.history.floor:
            return 0
        before = len(self.history.entries)
        self.history.apply((KIND_FLOOR, finalized_round, 0, 0, NO_HASH, NO_SIGNATURE))
        self._rewrite()
        return before - len(self.history.entries)

    def _rewrite(self):
        data = FILE_MAGIC + b"".join(encode_record(*r) for r in self.history.records())
        write_private_file(self.path, data)
        # Our descriptor still points at the replaced inode: reopen and keep the lock.
        fd = os.open(self.path, os.O_RDWR)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.close(self._fd)
        self._fd = fd
        os.lseek(self._fd, 0, os.SEEK_END)
        fsync_directory(os.path.dirname(os.path.abspath(self.path)))

    def status(self):
        entries = [s for s in self.history.entries if s[0] != MAX_ROUND]
        return {"entries": len(entries), "floor": self.history.floor,
                "last_round": max([s[0] for s in entries]) if entries else None,
                "truncated_tail_bytes": self.truncated_tail}

    # interchange -----------------------------------------------------------------------------

    def export_interchange(self):
        """The history as a JSON-able dict (docs/guard-format.md)."""
        entries = []
        for kind, round_, iteration, step, data_hash, signature in self.history.records()[1:]:
            if round_ == MAX_ROUND:
                continue
            entry = {"round": round_, "iteration": iteration, "step": STEP_NAMES[step]}
            if kind == KIND_BLOCKED:
                entry["blocked"] = True
            else:
                entry["data_hash"] = data_hash.hex()
                entry["signature"] = signature.hex()
            entries.append(entry)
        return {"format": INTERCHANGE_FORMAT, "version": INTERCHANGE_VERSION,
                "public_key": self.public_key.hex(), "floor": self.history.floor,
                "entries": entries}

    def import_interchange(self, document):
        """Merge an exported history; conflicting slots become blocked. Returns records written."""
        records = parse_interchange(document, self.public_key)
        written = 0
        for record in records:
            merged = self.history.merge_record(record)
            if merged is not None:
                self._append(merged)
                written += 1
        return written


def _interchange_error(what):
    return GuardError("guard interchange: %s" % what)


def _int_field(entry, name, limit):
    value = entry.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= limit:
        raise _interchange_error("field %s must be an integer in 0..%d" % (name, limit))
    return value


def _hex(entry, name, size):
    try:
        raw = bytes.fromhex(entry.get(name, ""))
    except (TypeError, ValueError):
        raise _interchange_error("field %s is not hex" % name) from None
    if len(raw) != size:
        raise _interchange_error("field %s must be %d bytes" % (name, size))
    return raw


def parse_interchange(document, public_key):
    """Records of a guard interchange document for ``public_key``; GuardError if invalid."""
    if not isinstance(document, dict) or document.get("format") != INTERCHANGE_FORMAT:
        raise _interchange_error("not a guard interchange document")
    if document.get("version") != INTERCHANGE_VERSION:
        raise _interchange_error("unsupported version %r" % (document.get("version"),))
    if _hex(document, "public_key", 96) != bytes(public_key):
        raise _interchange_error("history belongs to another public key")
    floor = _int_field(document, "floor", MAX_ROUND - 1)
    entries = document.get("entries")
    if not isinstance(entries, list) or len(entries) > MAX_ENTRIES:
        raise _interchange_error("entries must be a list of at most %d items" % MAX_ENTRIES)
    records = [(KIND_FLOOR, floor, 0, 0, NO_HASH, NO_SIGNATURE)]
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("step") not in STEP_BY_NAME:
            raise _interchange_error("entry without a known step")
        slot = (_int_field(entry, "round", MAX_ROUND - 1), _int_field(entry, "iteration", 255),
                STEP_BY_NAME[entry["step"]])
        if entry.get("blocked") is True:
            records.append((KIND_BLOCKED,) + slot + (NO_HASH, NO_SIGNATURE))
        else:
            records.append((KIND_SIGNED,) + slot + (_hex(entry, "data_hash", HASH_SIZE),
                                                    _hex(entry, "signature", SIGNATURE_SIZE)))
    return records


def load_interchange_file(path):
    with open(path, "rb") as f:
        raw = f.read(MAX_INTERCHANGE_BYTES + 1)
    if len(raw) > MAX_INTERCHANGE_BYTES:
        raise _interchange_error("file larger than %d bytes" % MAX_INTERCHANGE_BYTES)
    try:
        return json.loads(raw)
    except ValueError:
        raise _interchange_error("file is not JSON") from None
