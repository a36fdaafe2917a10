"""Key-bearing files: written atomically with mode 0600, refused when group/other can read them.

Atomic write = write a temp file in the same directory (O_EXCL, 0600), fsync it, rename over the
target, fsync the directory; a power cut leaves either the old or the new file, never a torn one.
"""
import os
import stat

from dusk_edge.keys.errors import KeystoreError, KeystorePermissionError

MAX_KEY_FILE_SIZE = 1 << 20


def write_private_file(path, data):
    """Atomically replace ``path`` with ``data`` (bytes), mode 0600."""
    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, ".%s.%d.tmp" % (os.path.basename(path), os.getpid()))
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        os.unlink(tmp)
        raise
    os.close(fd)
    os.replace(tmp, path)
    fsync_directory(directory)


def fsync_directory(directory):
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def check_private_mode(path):
    """Raise KeystorePermissionError when group or others may read/write ``path``."""
    mode = os.stat(path).st_mode
    if stat.S_IMODE(mode) & 0o077:
        raise KeystorePermissionError(
            "%s has mode %o; key files must be 0600 (chmod 600 %s)" % (path, stat.S_IMODE(mode), path))


def read_private_file(path, limit=MAX_KEY_FILE_SIZE):
    """Read a key-bearing file after checking its mode; bounded size."""
    try:
        check_private_mode(path)
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    except FileNotFoundError:
        raise KeystoreError("key file %s does not exist" % path) from None
    except IsADirectoryError:
        raise KeystoreError("key file %s is a directory" % path) from None
    if len(data) > limit:
        raise KeystoreError("key file %s is larger than %d bytes" % (path, limit))
    return data
