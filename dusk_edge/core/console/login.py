# Theory of operation: the console line may be the only way into a box in the field, so a wrong
# passphrase must never lock the operator out for good. LoginGate counts failures; after
# `max_failures` in a row it refuses every attempt for `lockout_ms`, doubling with each lock-out
# up to `max_lockout_ms`; a success resets everything. While locked, attempts are not even
# checked (no oracle, no CPU burnt). One gate is shared by all sessions of a console process, so
# reconnecting the cable does not reset the count.
#
# Stored hashes: "sha256i$<iterations>$<salt hex>$<hash hex>" is an iterated salted SHA-256 that
# MicroPython can compute too; CPython also accepts scrypt records (dusk_edge.console_api). The
# verifier is injected, so the core never needs hashlib.
from dusk_edge.core import hashes
from dusk_edge.core.errors import ConfigError

SCHEME = "sha256i"
MIN_ITERATIONS = 1000


def hash_passphrase_sha256i(passphrase, salt, iterations=20000):
    """The sha256i record for ``passphrase`` (str) with ``salt`` (bytes, >= 8)."""
    if len(salt) < 8 or iterations < MIN_ITERATIONS:
        raise ConfigError("passphrase hash: salt must be >= 8 bytes and iterations >= %d" % MIN_ITERATIONS)
    secret = passphrase.encode("utf-8")
    digest = hashes.sha256(salt + secret)
    for _ in range(iterations - 1):
        digest = hashes.sha256(digest + salt + secret)
    return "%s$%d$%s$%s" % (SCHEME, iterations, salt.hex(), digest.hex())


def equal_constant_time(a, b):
    """Compare two byte strings without an early exit."""
    if len(a) != len(b):
        return False
    diff = 0
    for x, y in zip(a, b):
        diff |= x ^ y
    return diff == 0


def verify_sha256i(record, passphrase):
    """True when ``passphrase`` matches the sha256i ``record``. Raises ConfigError for a bad record."""
    parts = record.strip().split("$")
    if len(parts) != 4 or parts[0] != SCHEME:
        raise ConfigError("passphrase hash: expected sha256i$<iterations>$<salt>$<hash>")
    try:
        iterations = int(parts[1])
        salt = bytes.fromhex(parts[2])
        expected = bytes.fromhex(parts[3])
    except ValueError:
        raise ConfigError("passphrase hash: malformed sha256i record")
    fresh = hash_passphrase_sha256i(passphrase, salt, iterations).split("$")[3]
    return equal_constant_time(bytes.fromhex(fresh), expected)


class LoginGate:
    __slots__ = ("verify", "max_failures", "lockout_ms", "max_lockout_ms", "failures",
                 "lockouts", "locked_until", "total_failures")

    def __init__(self, verify, max_failures=5, lockout_ms=60000, max_lockout_ms=900000):
        self.verify = verify  # callable(passphrase str) -> bool
        self.max_failures = max_failures
        self.lockout_ms = lockout_ms
        self.max_lockout_ms = max_lockout_ms
        self.failures = 0
        self.lockouts = 0
        self.locked_until = None
        self.total_failures = 0

    def locked_for(self, now):
        """Milliseconds of lock-out left (0 when attempts are allowed)."""
        if self.locked_until is None or now >= self.locked_until:
            return 0
        return self.locked_until - now

    def attempt(self, passphrase, now):
        """Returns (ok, message). A locked gate rejects without checking the passphrase."""
        left = self.locked_for(now)
        if left:
            return False, "locked: try again in %d s" % ((left + 999) // 1000)
        if self.verify(passphrase):
            self.failures = 0
            self.lockouts = 0
            self.locked_until = None
            return True, "welcome"
        self.failures += 1
        self.total_failures += 1
        if self.failures < self.max_failures:
            return False, "wrong passphrase (%d of %d)" % (self.failures, self.max_failures)
        period = min(self.lockout_ms << min(self.lockouts, 16), self.max_lockout_ms)
        self.lockouts += 1
        self.failures = 0
        self.locked_until = now + period
        return False, "wrong passphrase, locked for %d s" % ((period + 999) // 1000)
