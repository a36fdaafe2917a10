# Theory of operation: the consensus-side checks of a complete block that arrives outside the
# engine's own round (sync, the Block topic, fork choice). A regular block must come from the
# sortition generator of its iteration, carry that generator's signature over its hash and a
# Success(Valid(hash)) attestation that verifies against the rebuilt committees (§3.4). An emergency
# block (iteration 255) must be signed by the genesis emergency key and be at least
# MIN_EMERGENCY_BLOCK_TIME after its parent (§3.6). Fork choice prefers the lower iteration at the
# same height (§3.8). The ledger checks everything else (roots, state transition, faults).
from dusk_edge.core.consensus.aggregator import verify_attestation
from dusk_edge.core.consensus.attestation import ConsensusHeader
from dusk_edge.core.consensus.sortition import MAX_ITERATIONS
from dusk_edge.core.errors import DuskEdgeError, RemoteProtocolError

EMERGENCY_BLOCK_ITERATION = 255


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
