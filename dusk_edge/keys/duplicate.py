# Theory of operation: duplicate-instance detection, sans-I/O.
# A second copy of a provisioner (a restored backup, a failover that did not fence the primary)
# signs with the same key; each copy's own guard cannot see the other's signatures. So at start-up
# the node listens for `window_ms` before it signs. Every vote it observes on the network (already
# signature-checked by the node) is passed to observe_vote(); a vote by our own public key that our
# guard did not record means someone else holds the key: signing stays disabled for good
# (DuplicateInstanceError) until an operator intervenes. Observation continues after the window,
# so a copy started later is caught too. Time is `now` in integer milliseconds.
from dusk_edge.keys.errors import DuplicateInstanceError, SigningNotReadyError

DEFAULT_WINDOW_MS = 2 * 60 * 1000


class DuplicateInstanceGuard:
    __slots__ = ("public_key", "ready_at", "signed_by_us", "duplicate_seen")

    def __init__(self, public_key, now, window_ms=DEFAULT_WINDOW_MS, signed_by_us=None):
        """``signed_by_us(round, iteration, step, data_hash) -> bool`` consults our own guard."""
        self.public_key = bytes(public_key)
        self.ready_at = now + window_ms
        self.signed_by_us = signed_by_us
        self.duplicate_seen = None

    def get_timer(self):
        """When the listening window ends (ms), or None once it has."""
        return self.ready_at

    def observe_vote(self, now, public_key, round_, iteration, step, data_hash):
        """Feed one verified vote from the network. Returns True when it exposes a duplicate."""
        if bytes(public_key) != self.public_key:
            return False
        if self.signed_by_us is not None and self.signed_by_us(round_, iteration, step, data_hash):
            return False
        if self.duplicate_seen is None:
            self.duplicate_seen = (now, round_, iteration, step)
        return True

    def check_signing_allowed(self, now):
        """Raise DuplicateInstanceError or SigningNotReadyError unless signing may proceed."""
        if self.duplicate_seen is not None:
            seen_at, round_, iteration, step = self.duplicate_seen
            raise DuplicateInstanceError(
                "another instance signed with our key (round %d iteration %d step %d, seen at %d ms):"
                " signing disabled" % (round_, iteration, step, seen_at))
        if now < self.ready_at:
            raise SigningNotReadyError("listening for duplicate instances until %d ms (now %d)"
                                       % (self.ready_at, now))

    def status(self, now):
        if self.duplicate_seen is not None:
            return "duplicate-detected"
        return "listening" if now < self.ready_at else "ready"
