"""The Signer interface the consensus and the node call, and its local implementation.

    public_key() -> 96-byte BLS public key
    sign_vote(round, iteration, step, message) -> 48-byte multisig signature
        step is STEP_VALIDATION (1) or STEP_RATIFICATION (2); message is the exact signed bytes
        ConsensusHeader(41) || step byte || Vote (PROTOCOL.md §3.3); the signer checks that the
        header's round and iteration and the step byte match the arguments, so a mislabeled request
        cannot slip past the guard.
    sign_candidate(round, iteration, block_hash) -> signature over block_hash[32]
    sign_seed(round, prev_seed) -> the new 48-byte seed, a signature over prev_seed[48]
    prune_below(finalized_round) -> number of guard entries dropped
    observe_vote(public_key, round, iteration, step, message) -> True when the vote (already
        verified by the node) is ours but was not signed here: a duplicate instance exists

Every signature goes through the double-sign guard first (SHA3-256 of the signed bytes is the data
hash): a conflicting request raises DoubleSignError, an identical one returns the stored signature.
LocalSigner holds the key in RAM; remote_client.RemoteSigner implements the same interface.
"""
import time

from dusk_edge.core.hashes import sha3_256
from dusk_edge.crypto import bls
from dusk_edge.keys.errors import BadSignRequestError, GuardError
from dusk_edge.keys.sign_history import (STEP_NAMES, STEP_PROPOSAL, STEP_RATIFICATION, STEP_SEED,
                                         STEP_VALIDATION)

CONSENSUS_HEADER_SIZE = 41
MAX_VOTE_MESSAGE = 256
MAX_ROUND = (1 << 64) - 2
MAX_ITERATION = 255


def _check_slot(round_, iteration):
    for name, value, limit in (("round", round_, MAX_ROUND), ("iteration", iteration, MAX_ITERATION)):
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= limit:
            raise BadSignRequestError("%s must be an integer in 0..%d" % (name, limit))


def check_vote_request(round_, iteration, step, message):
    """Raise BadSignRequestError unless ``message`` is a vote of exactly this slot."""
    _check_slot(round_, iteration)
    if step not in (STEP_VALIDATION, STEP_RATIFICATION):
        raise BadSignRequestError("vote step must be 1 (validation) or 2 (ratification)")
    if not isinstance(message, (bytes, bytearray)) or not (
            CONSENSUS_HEADER_SIZE + 2 <= len(message) <= MAX_VOTE_MESSAGE):
        raise BadSignRequestError("vote message must be %d..%d bytes"
                                  % (CONSENSUS_HEADER_SIZE + 2, MAX_VOTE_MESSAGE))
    if int.from_bytes(message[32:40], "little") != round_ or message[40] != iteration:
        raise BadSignRequestError("vote message header does not match round/iteration")
    if message[41] != step:
        raise BadSignRequestError("vote message step byte does not match step")


def _check_size(name, value, size):
    if not isinstance(value, (bytes, bytearray)) or len(value) != size:
        raise BadSignRequestError("%s must be %d bytes" % (name, size))


class Signer:
    """Interface; see the module docstring."""

    def public_key(self):
        raise NotImplementedError

    def sign_vote(self, round_, iteration, step, message):
        raise NotImplementedError

    def sign_candidate(self, round_, iteration, block_hash):
        raise NotImplementedError

    def sign_seed(self, round_, prev_seed):
        raise NotImplementedError

    def prune_below(self, finalized_round):
        raise NotImplementedError

    def observe_vote(self, public_key, round_, iteration, step, message):
        raise NotImplementedError


class LocalSigner(Signer):
    """Signs with a ConsensusKey in RAM, through a DoubleSignGuard, an optional AuditLog and an
    optional DuplicateInstanceGuard (``clock_ms`` gives its `now`)."""

    def __init__(self, key, guard, audit=None, duplicate=None, clock_ms=None):
        if guard.public_key != key.public_key:
            raise BadSignRequestError("guard belongs to another public key")
        self._key = key
        self.guard = guard
        self.audit = audit
        self.duplicate = duplicate
        self.clock_ms = clock_ms or (lambda: int(time.monotonic() * 1000))
        self.client = "local"

    def public_key(self):
        return self._key.public_key

    def sign_vote(self, round_, iteration, step, message):
        check_vote_request(round_, iteration, step, message)
        return self._sign_slot("vote", round_, iteration, step, bytes(message))

    def sign_candidate(self, round_, iteration, block_hash):
        _check_slot(round_, iteration)
        _check_size("block_hash", block_hash, 32)
        return self._sign_slot("candidate", round_, iteration, STEP_PROPOSAL, bytes(block_hash))

    def sign_seed(self, round_, prev_seed):
        _check_slot(round_, 0)
        _check_size("prev_seed", prev_seed, 48)
        return self._sign_slot("seed", round_, 0, STEP_SEED, bytes(prev_seed))

    def prune_below(self, finalized_round):
        _check_slot(finalized_round, 0)
        return self.guard.prune_below(finalized_round)

    def observe_vote(self, public_key, round_, iteration, step, message):
        check_vote_request(round_, iteration, step, message)
        _check_size("public_key", public_key, bls.PUBLIC_KEY_SIZE)
        if self.duplicate is None:
            return False
        return self.duplicate.observe_vote(self.clock_ms(), public_key, round_, iteration, step,
                                           sha3_256(bytes(message)))

    def signed_by_us(self, round_, iteration, step, data_hash):
        """For DuplicateInstanceGuard: did our guard record exactly this signature?"""
        entry = self.guard.history.entries.get((round_, iteration, step))
        return entry is not None and entry[1] == data_hash

    def _sign_slot(self, kind, round_, iteration, step, data, client=None):
        if self.duplicate is not None:
            self.duplicate.check_signing_allowed(self.clock_ms())
        data_hash = sha3_256(data)
        signature = self.guard.check(round_, iteration, step, data_hash)
        repeat = signature is not None
        if not repeat:
            signature = bls.sign_multisig(self._key.secret_key, data, self._key.public_key)
            self.guard.record(round_, iteration, step, data_hash, signature)
        if self.audit is not None:
            try:
                self.audit.append(kind, round_, iteration, STEP_NAMES[step], data_hash, signature,
                                  client or self.client, repeat)
            except OSError as exc:
                # Every released signature must be audited; the guard keeps the slot, so a retry
                # once the disk recovers returns the same signature.
                raise GuardError("audit log write failed (%s); signature withheld"
                                 % (exc.strerror or exc)) from None
        return signature

    def close(self):
        self.guard.close()
        if self.audit is not None:
            self.audit.close()


def open_local_signer(key, guard_dir, listen_ms=0, clock_ms=None):
    """The node's usual LocalSigner: ``guard_dir``/guard.bin (locked, fsynced), audit.log, and a
    DuplicateInstanceGuard listening ``listen_ms`` from now. ``key`` is a keystore.ConsensusKey
    (from keystore.open_keystore or cli_keys.unlock_keystore)."""
    import os

    from dusk_edge.keys.audit import AuditLog
    from dusk_edge.keys.duplicate import DuplicateInstanceGuard
    from dusk_edge.keys.guard import DoubleSignGuard
    os.makedirs(guard_dir, mode=0o700, exist_ok=True)
    guard = DoubleSignGuard(os.path.join(guard_dir, "guard.bin"), key.public_key)
    signer = LocalSigner(key, guard, AuditLog(os.path.join(guard_dir, "audit.log")), clock_ms=clock_ms)
    signer.duplicate = DuplicateInstanceGuard(key.public_key, signer.clock_ms(), listen_ms,
                                              signed_by_us=signer.signed_by_us)
    return signer
