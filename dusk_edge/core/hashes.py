# Theory of operation: the one place the core gets its hashes from. CPython uses hashlib; where
# hashlib lacks an algorithm (MicroPython has only sha256) a pure-Python fallback is used.
# The core never imports hashlib directly, so the same modules run on both interpreters.
import hashlib

from dusk_edge.core import accel


def sha256(data):
    return hashlib.sha256(data).digest()


def sha3_256(data):
    return hashlib.sha3_256(data).digest()


def blake2s_256(data):
    return hashlib.blake2s(data).digest()


def blake2b_512(data):
    return hashlib.blake2b(data).digest()


def crc32c(data, crc=0):
    """CRC-32C (Castagnoli) of ``data``, continuing from ``crc``."""
    return accel.crc32c(data, crc)
