# Theory of operation: the narrow interface between the round engine and the chain (the ledger in
# the node, an in-memory chain in simulations). The engine never touches storage or the VM; it asks
# the chain for the tip and the provisioners, hands it candidates to validate and attested blocks to
# accept. A ChainView implements:
#
#   tip_header()                      -> Header of the tip (height, hash, seed, iteration, ...)
#   tip_time_ms()                     -> the tip's timestamp in ms (profile units converted)
#   time_ms(header)                   -> a header's timestamp in ms
#   get_header(height)                -> Header at ``height`` or None (fork choice needs the parent)
#   is_final(height)                  -> bool; Final blocks are never reverted (§3.8)
#   get_provisioners(round)           -> [(pk96, stake, eligible_since)] for committees of ``round``
#   committees_for(round, seed)       -> the CommitteeCache of ``round`` drawn with ``seed`` (kept by
#                                        the chain, so the engine and block checks share it)
#   build_candidate(round, iteration, seed, generator_pk, failed_iterations, faults, now)
#                                     -> a Block whose header.hash is set and signature is empty
#   validate_candidate(block, now)    -> None, or raises CandidateRejected(must_vote=...)
#   accept_block(block, now)          -> accepts an attested block as the new tip (raises
#                                        RemoteProtocolError when it does not apply)
#   revert_tip()                      -> drops the non-final tip (fork choice)
#
# The engine's signer has sign_vote / sign_candidate / sign_seed / public_key (dusk_edge.keys.signer),
# its verifier verify_multisig / aggregate_signatures (dusk_edge.crypto.bls or a counting fake).
from dusk_edge.core.errors import RemoteProtocolError


class CandidateRejected(RemoteProtocolError):
    """A candidate failed validation. ``must_vote`` False means: cast no vote (MismatchHeight,
    BlockTimeHigher, PrevBlockHash, BlockExists, InvalidBlockSignature, Storage, Generic,
    TipChanged); True means vote Invalid (PROTOCOL.md §3.2)."""

    def __init__(self, message, must_vote=True):
        RemoteProtocolError.__init__(self, message)
        self.must_vote = must_vote
