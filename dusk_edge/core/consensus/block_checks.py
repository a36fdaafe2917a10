# Theory of operation: the consensus-level checks a block must pass before its state transition
# (PROTOCOL.md §8 "header acceptance", §3.4, §3.10), shared by the node's chain and the simulation's.
# Everything chain-specific comes in through a small `history` object:
#
#   history.get_header(height)            -> Header or None
#   history.committees_for(height, seed)  -> CommitteeCache of round `height` drawn with `seed`
#   history.is_known_fault(fault_id)      -> bool (already included in the last epoch)
#
# Each function raises RemoteProtocolError naming the rule that failed.
#
# For a complete block that arrives outside the engine's own round (sync, the Block topic, fork
# choice): a regular block must come from the sortition generator of its iteration, carry that
# generator's signature over its hash and a Success(Valid(hash)) attestation that verifies against
# the rebuilt committees (§3.4); an emergency block (iteration 255) must be signed by the genesis
# emergency key and be at least MIN_EMERGENCY_BLOCK_TIME after its parent (§3.6); fork choice
# prefers the lower iteration at the same height (§3.8).
from dusk_edge.core.consensus.aggregator import InvalidAttestation, verify_attestation
from dusk_edge.core.consensus.attestation import RESULT_FAIL, VOTE_VALID, ConsensusHeader
from dusk_edge.core.consensus.sortition import MAX_ITERATIONS
from dusk_edge.core.errors import DuskEdgeError, RemoteProtocolError
from dusk_edge.core.ledger.faults import InvalidFault, check_fault

EMERGENCY_BLOCK_ITERATION = 255
MAX_FAILED_ITERATIONS = 8


def check_block_time(header, parent, minimum_block_time, to_ms):
    """timestamp >= parent + minimum block time (emergency blocks have their own rule)."""
    if header.iteration != EMERGENCY_BLOCK_ITERATION and to_ms(header.timestamp) < to_ms(parent.timestamp) + minimum_block_time:
        raise RemoteProtocolError("BlockTimeLess: block time below the minimum after its parent")


def check_seed(header, parent, verifier):
    """seed = the generator's multisig over the parent's seed (§3.7)."""
    if not verifier.verify_multisig([header.generator_bls_pubkey], parent.seed, header.seed):
        raise RemoteProtocolError("bad seed signature")


def check_prev_cert(header, parent, history, verifier):
    """prev_block_cert attests the parent (skipped after genesis and emergency blocks)."""
    if parent.height == 0 or parent.iteration == EMERGENCY_BLOCK_ITERATION:
        return
    cert = header.prev_block_cert
    if cert.result == RESULT_FAIL or cert.vote.kind != VOTE_VALID or cert.vote.block_hash != parent.hash:
        raise RemoteProtocolError("prev_block_cert does not attest the parent")
    grand = history.get_header(parent.height - 1)
    if grand is None:
        raise RemoteProtocolError("prev_block_cert: grandparent unknown")
    consensus_header = ConsensusHeader(parent.prev_block_hash, parent.height, parent.iteration)
    try:
        verify_attestation(cert, consensus_header, history.committees_for(parent.height, grand.seed), verifier)
    except InvalidAttestation as exc:
        raise RemoteProtocolError("prev_block_cert: %s" % exc) from None


def check_failed_iterations(header, parent, history, verifier):
    """Each entry is a Fail attestation of that iteration's generator (§8)."""
    if header.iteration == EMERGENCY_BLOCK_ITERATION:
        return
    if len(header.failed_iterations) > min(header.iteration, MAX_FAILED_ITERATIONS):
        raise RemoteProtocolError("too many failed iterations")
    committees = history.committees_for(header.height, parent.seed)
    for i, entry in enumerate(header.failed_iterations):
        if entry is None:
            continue
        if entry.attestation.result != RESULT_FAIL or entry.generator != committees.generator(i):
            raise RemoteProtocolError("failed iteration %d: not a Fail of its generator" % i)
        try:
            verify_attestation(entry.attestation, ConsensusHeader(parent.hash, header.height, i), committees, verifier)
        except InvalidAttestation as exc:
            raise RemoteProtocolError("failed iteration %d: %s" % (i, exc)) from None


def check_faults(block, history, verifier, epoch_blocks):
    """Every included fault is valid and new (§3.10)."""

    def verify(pk, msg, sig):
        return verifier.verify_multisig([pk], msg, sig)

    def parent_hash_at(height):
        h = history.get_header(height)
        return h.hash if h is not None else None

    for fault in block.faults:
        try:
            check_fault(fault, block.header.height, epoch_blocks, verify, parent_hash_at, history.is_known_fault)
        except InvalidFault as exc:
            raise RemoteProtocolError(str(exc)) from None


def check_consensus_rules(block, parent, history, verifier, minimum_block_time, epoch_blocks, to_ms):
    """All of the above, in the order of the reference's header validation."""
    header = block.header
    if not header.check_hash():
        raise RemoteProtocolError("hash does not match the header")
    block.check_roots()
    check_block_time(header, parent, minimum_block_time, to_ms)
    check_seed(header, parent, verifier)
    check_prev_cert(header, parent, history, verifier)
    check_failed_iterations(header, parent, history, verifier)
    check_faults(block, history, verifier, epoch_blocks)


def verify_single_signature(verifier, pk, message, signature):
    """A one-key multisig check; raises RemoteProtocolError when malformed or wrong."""
    try:
        ok = verifier.verify_multisig([pk], message, signature)
    except DuskEdgeError as exc:
        raise RemoteProtocolError("malformed signature: %s" % exc) from None
    if not ok:
        raise RemoteProtocolError("bad signature")


def verify_attested_block(block, committees, verifier):
    """Generator, signature and Success attestation of a regular block."""
    h = block.header
    if h.iteration >= MAX_ITERATIONS or h.generator_bls_pubkey != committees.generator(h.iteration):
        raise RemoteProtocolError("block from a non-generator")
    verify_single_signature(verifier, h.generator_bls_pubkey, h.hash, h.signature)
    att = h.att
    if not att.is_success() or att.vote.block_hash != h.hash:
        raise RemoteProtocolError("block attestation is not Success for its hash")
    verify_attestation(att, ConsensusHeader(h.prev_block_hash, h.height, h.iteration), committees, verifier)


def verify_emergency_block(block, block_time, parent_time, emergency_key, timing, verifier):
    """Emergency key, its signature, and the minimum distance in time from the parent."""
    h = block.header
    if emergency_key is None or h.generator_bls_pubkey != emergency_key:
        raise RemoteProtocolError("emergency block not signed by the emergency key")
    verify_single_signature(verifier, h.generator_bls_pubkey, h.hash, h.signature)
    if block_time < parent_time + timing.emergency_block_time:
        raise RemoteProtocolError("emergency block too early")


def is_preferred_fork(header, tip):
    """§3.8: a different block at the tip's height with a lower iteration wins."""
    return header.height == tip.height and header.hash != tip.hash and header.iteration < tip.iteration


def check_candidate_extends_tip(header, tip, header_time_ms, now, timestamp_margin):
    """The no-vote rejections of §3.2 (MismatchHeight, PrevBlockHash, BlockTimeHigher)."""
    from dusk_edge.core.consensus.chain_view import CandidateRejected

    if header.height != tip.height + 1:
        raise CandidateRejected("MismatchHeight", must_vote=False)
    if header.prev_block_hash != tip.hash:
        raise CandidateRejected("PrevBlockHash", must_vote=False)
    if header_time_ms > now + timestamp_margin:
        raise CandidateRejected("BlockTimeHigher", must_vote=False)


class CommitteeWindow:
    """Committees per (round, seed), rebuilt on demand and bounded (a chain checks recent rounds)."""

    __slots__ = ("limit", "_caches")

    def __init__(self, limit=64):
        self.limit = limit
        self._caches = {}

    def get(self, height, seed, provisioners_of):
        from dusk_edge.core.consensus.sortition import CommitteeCache

        key = (height, bytes(seed))
        cache = self._caches.get(key)
        if cache is None:
            if len(self._caches) > self.limit:
                self._caches.clear()
            cache = CommitteeCache(provisioners_of(height), seed, height)
            self._caches[key] = cache
        return cache

    def clear(self):
        self._caches.clear()

    def __len__(self):
        return len(self._caches)
