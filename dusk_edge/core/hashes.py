# Theory of operation: the one place the core gets its hashes from. CPython uses hashlib; where
# hashlib lacks an algorithm (MicroPython has only sha256) the pure-Python fallback in
# core/_purehash.py is used. The choice is made once, at import, by probing hashlib for each
# constructor; SOURCES records it ("hashlib" or "pure") for the self-check. The core never
# imports hashlib directly, so the same modules run on both interpreters. This module is the
# one exception to the core's no-hashlib rule (tests/test_core_subset.py).
from dusk_edge.core import _purehash, accel
from dusk_edge.core.errors import LocalProtocolError

try:
    import hashlib
except ImportError:  # a MicroPython build without hashlib
    hashlib = None


def _hashlib_has(name):
    # Probe by hashing: some builds expose a constructor that fails when called (FIPS modes).
    constructor = getattr(hashlib, name, None) if hashlib is not None else None
    if constructor is None:
        return False
    try:
        constructor(b"").digest()
    except (ValueError, OSError, AttributeError):
        return False
    return True


SOURCES = {}

if _hashlib_has("sha256"):
    SOURCES["sha256"] = "hashlib"

    def sha256(data):
        """SHA-256 digest (32 bytes) of ``data``."""
        return hashlib.sha256(data).digest()

else:
    SOURCES["sha256"] = "missing"

    def sha256(data):
        """SHA-256 is the one hash every supported interpreter provides; without it, fail loudly."""
        raise LocalProtocolError("this interpreter's hashlib has no sha256")


if _hashlib_has("sha3_256"):
    SOURCES["sha3_256"] = "hashlib"

    def sha3_256(data):
        """SHA3-256 digest (32 bytes) of ``data``."""
        return hashlib.sha3_256(data).digest()

else:
    SOURCES["sha3_256"] = "pure"
    sha3_256 = _purehash.sha3_256


if _hashlib_has("blake2s"):
    SOURCES["blake2s_256"] = "hashlib"

    def blake2s_256(data):
        """Unkeyed BLAKE2s-256 digest (32 bytes) of ``data``."""
        return hashlib.blake2s(data).digest()

else:
    SOURCES["blake2s_256"] = "pure"
    blake2s_256 = _purehash.blake2s_256


if _hashlib_has("blake2b"):
    SOURCES["blake2b_512"] = "hashlib"

    def blake2b_512(data):
        """Unkeyed BLAKE2b-512 digest (64 bytes) of ``data``."""
        return hashlib.blake2b(data).digest()

else:
    SOURCES["blake2b_512"] = "pure"
    blake2b_512 = _purehash.blake2b_512


def crc32c(data, crc=0):
    """CRC-32C (Castagnoli) of ``data``, continuing from ``crc``."""
    return accel.crc32c(data, crc)
