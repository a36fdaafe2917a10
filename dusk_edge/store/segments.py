"""Segment files and their index sidecars on disk.

All file writes go through one FileIO object, which counts what the store asks the kernel to write
(logical bytes and whole pages touched) and which tests replace to inject ENOSPC. A segment is
created under a temporary name, preallocated, given its header, synced and only then renamed, so a
crash never leaves a half-made segment under a real name.
"""
import errno
import os

import cbor2

from dusk_edge.core import accel
from dusk_edge.core.errors import DecodeError
from dusk_edge.core.storage import log_format as lf
from dusk_edge.store.errors import StoreFormatError, StoreFullError, StoreError

SEGMENT_NAME = "seg-%08d.log"
SIDECAR_NAME = "seg-%08d.idx"


def is_enospc(exc):
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


class FileIO:
    """Thin wrapper over os.* file calls with write accounting."""

    def __init__(self):
        self.bytes_written = 0
        self.page_bytes_written = 0
        self.syncs = 0

    def _count(self, offset, n):
        self.bytes_written += n
        if n:
            first = offset // lf.PAGE
            last = (offset + n - 1) // lf.PAGE
            self.page_bytes_written += (last - first + 1) * lf.PAGE

    def write(self, fd, data, offset):
        view = memoryview(data)
        done = 0
        while done < len(view):
            n = os.pwrite(fd, view[done:], offset + done)
            self._count(offset + done, n)
            done += n

    def read(self, fd, n, offset):
        return os.pread(fd, n, offset)

    def sync(self, fd):
        self.syncs += 1
        os.fdatasync(fd)

    def allocate(self, fd, size):
        try:
            os.posix_fallocate(fd, 0, size)
        except OSError as exc:
            if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL):
                raise
            os.ftruncate(fd, size)

    def sync_dir(self, path):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def write_file(self, path, data):
        """Atomically replace ``path`` with ``data`` (temp file, fsync, rename, dir fsync)."""
        tmp = path + ".tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            self.write(fd, data, 0)
            self.sync(fd)
        except OSError:
            os.close(fd)
            _unlink_quietly(tmp)
            raise
        os.close(fd)
        os.replace(tmp, path)
        self.sync_dir(os.path.dirname(path) or ".")


def _unlink_quietly(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def full_error(what, exc):
    return StoreFullError("disk full while %s (%s); nothing committed is lost, retry when space "
                          "returns" % (what, os.strerror(exc.errno)))


class Segment:
    """One open segment file. ``end``: offset where the next commit goes."""

    __slots__ = ("number", "path", "fd", "uid", "size", "end", "sealed", "header_damaged")

    def __init__(self, number, path, fd, uid, size):
        self.number = number
        self.path = path
        self.fd = fd
        self.uid = uid
        self.size = size
        self.end = lf.PAGE
        self.sealed = False
        self.header_damaged = False

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def list_segment_numbers(path):
    numbers = []
    for name in os.listdir(path):
        if name.startswith("seg-") and name.endswith(".log") and len(name) == 16:
            try:
                numbers.append(int(name[4:12]))
            except ValueError:
                continue
    return sorted(numbers)


def create_segment(io, path, number, size, uid):
    """Make segment ``number`` (preallocated, header written and synced). Raises StoreFullError."""
    final = os.path.join(path, SEGMENT_NAME % number)
    tmp = final + ".tmp"
    fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        io.allocate(fd, size)
        io.write(fd, lf.encode_segment_header(number, uid, size), 0)
        io.sync(fd)
        os.replace(tmp, final)
        io.sync_dir(path)
    except OSError as exc:
        os.close(fd)
        _unlink_quietly(tmp)
        if is_enospc(exc):
            raise full_error("creating segment %d" % number, exc) from None
        raise
    return Segment(number, final, fd, uid, size)


def open_segment(io, path, number):
    """Open an existing segment and check its header. Raises StoreFormatError / StoreError."""
    file_path = os.path.join(path, SEGMENT_NAME % number)
    fd = os.open(file_path, os.O_RDWR)
    try:
        head = io.read(fd, lf.PAGE, 0)
        fmt, num, uid, size = lf.decode_segment_header(head)
    except DecodeError:
        # the records carry their own checksums: scan the file anyway, and say so
        seg = Segment(number, file_path, fd, None, os.fstat(fd).st_size)
        seg.header_damaged = True
        return seg
    if fmt > lf.FORMAT_VERSION:
        os.close(fd)
        raise StoreFormatError("segment %s has on-disk format %d; this dusk-edge reads format %d "
                               "and will not touch it (upgrade dusk-edge)"
                               % (file_path, fmt, lf.FORMAT_VERSION))
    if num != number or os.fstat(fd).st_size < size:
        os.close(fd)
        raise StoreError("segment %s: header says number %d, size %d" % (file_path, num, size))
    return Segment(number, file_path, fd, uid, size)


def read_segment(io, segment):
    return io.read(segment.fd, segment.size, 0)


# --- sidecars ----------------------------------------------------------------------------------
# A sealed segment's sidecar holds its compact replay entries (chain_index.entry_of) as one CBOR
# document behind a crc32c, so reopening reads a few hundred KB per segment instead of the segment.
def encode_sidecar(segment, entries, last_seq, tip):
    body = cbor2.dumps({"seg": segment.number, "uid": segment.uid, "end": segment.end,
                        "seq": last_seq, "tip": tip, "entries": entries})
    return lf.SIDECAR_MAGIC + accel.crc32c(body).to_bytes(4, "little") + body


def write_sidecar(io, path, segment, entries, last_seq, tip):
    io.write_file(os.path.join(path, SIDECAR_NAME % segment.number),
                  encode_sidecar(segment, entries, last_seq, tip))


def read_sidecar(path, segment):
    """(entries, head) from a valid sidecar matching ``segment``, else None (rebuild by scan)."""
    try:
        with open(os.path.join(path, SIDECAR_NAME % segment.number), "rb") as f:
            data = f.read()
    except OSError:
        return None
    magic = len(lf.SIDECAR_MAGIC)
    if not data.startswith(lf.SIDECAR_MAGIC) or len(data) < magic + 4:
        return None
    body = memoryview(data)[magic + 4:]
    if accel.crc32c(body) != int.from_bytes(data[magic:magic + 4], "little"):
        return None
    try:
        head = cbor2.loads(body)
    except (ValueError, cbor2.CBORDecodeError):
        return None
    if (not isinstance(head, dict) or head.get("uid") != segment.uid
            or head.get("seg") != segment.number or not isinstance(head.get("entries"), list)):
        return None
    return head.pop("entries"), head
