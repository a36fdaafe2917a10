# Theory of operation: votes -> StepVotes -> attestations, and the reverse check (PROTOCOL.md §3.2,
# §3.4, §3.10).
#
# A StepAggregator collects the votes of one (round, iteration, step). A signer is counted once,
# with all its credits in the step committee; the same vote again is a duplicate (ignored), a
# different vote from the same signer is Conflicting and becomes fault evidence (except in
# emergency iterations, where it is only ignored). Once a vote's credits reach its quorum (Valid 43,
# others 33 of 64) the aggregator returns StepVotes: the bitset of the committee members that voted
# it and the sum of their signatures. verify_step_votes / verify_attestation rebuild the committee
# from the provisioners and the seed, intersect the bitset, require the quorum and check the
# aggregate signature against the members' keys. Crypto is the injected `verifier` object:
# verify_multisig(pks, msg, sig) -> bool and aggregate_signatures([sig]) -> sig (the
# dusk_edge.crypto.bls module itself, or dusk_edge.sim.fake_bls.FakeBls).
from dusk_edge.core.consensus.attestation import (
    RESULT_FAIL,
    RESULT_SUCCESS,
    VOTE_NO_QUORUM,
    VOTE_VALID,
    Attestation,
    StepVotes,
)
from dusk_edge.core.consensus.messages import (
    SIGN_SEED_RATIFICATION,
    SIGN_SEED_VALIDATION,
    compute_vote_signable,
)
from dusk_edge.core.consensus.quorum import get_majority, get_supermajority
from dusk_edge.core.consensus.sortition import (
    RATIFICATION_CREDITS,
    STEP_RATIFICATION,
    STEP_VALIDATION,
)
from dusk_edge.core.errors import DuskEdgeError, RemoteProtocolError

FAULT_DOUBLE_CANDIDATE = 0
FAULT_DOUBLE_RATIFICATION_VOTE = 1
FAULT_DOUBLE_VALIDATION_VOTE = 2


class InvalidAttestation(RemoteProtocolError):
    """An attestation or StepVotes lacks its quorum or its aggregate signature does not verify."""


class ConflictingVote(RemoteProtocolError):
    """A signer voted twice differently in one step (the evidence is on .fault)."""

    def __init__(self, message, fault):
        RemoteProtocolError.__init__(self, message)
        self.fault = fault


def get_quorum(vote, committee_credits=RATIFICATION_CREDITS):
    """Credits a vote needs: supermajority for Valid, majority otherwise (43 / 33 of 64)."""
    if vote.kind == VOTE_VALID:
        return get_supermajority(committee_credits)
    return get_majority(committee_credits)


class FaultEvidence:
    """Two conflicting signed messages of one signer in one slot (PROTOCOL.md §3.10)."""

    __slots__ = ("kind", "first", "second")

    def __init__(self, kind, first, second):
        self.kind = kind
        self.first = first
        self.second = second

    @property
    def signer(self):
        return self.first.signer

    def key(self):
        h = self.first.consensus_header()
        return compute_fault_key(self.kind, self.signer, h.round, h.iteration)

    def to_fault(self):
        """The ledger's Fault (dusk_edge.core.ledger.faults) for inclusion in a block."""
        from dusk_edge.core.ledger.faults import Fault, FaultData

        return Fault(self.kind, _fault_data(self.kind, self.first, FaultData),
                     _fault_data(self.kind, self.second, FaultData))

    def __repr__(self):
        h = self.first.consensus_header()
        return "FaultEvidence(kind=%d, round=%d, iteration=%d)" % (self.kind, h.round, h.iteration)


def compute_fault_key(kind, signer, round, iteration):
    """One fault per (kind, signer, round, iteration) is enough evidence."""
    return (kind, bytes(signer), round, iteration)


def get_fault_key(fault):
    """compute_fault_key of a ledger Fault."""
    h = fault.first.header
    return compute_fault_key(fault.kind, fault.first.signer, h.round, h.iteration)


def _fault_data(kind, msg, fault_data_class):
    if kind == FAULT_DOUBLE_CANDIDATE:
        h = msg.block.header
        return fault_data_class(msg.consensus_header(), h.generator_bls_pubkey, h.signature, h.hash)
    return fault_data_class(msg.header, msg.signer, msg.sign_info.signature, msg.vote)


class StepAggregator:
    """Votes of one step. ``add`` returns StepVotes when this vote just reached its quorum."""

    __slots__ = ("committee", "step_index", "emergency", "by_signer", "signatures", "credits",
                 "reached")

    def __init__(self, committee, step_index, emergency=False):
        self.committee = committee
        self.step_index = step_index
        self.emergency = emergency
        self.by_signer = {}      # signer -> message
        self.signatures = {}     # vote -> {signer: signature}
        self.credits = {}        # vote -> credits
        self.reached = {}        # vote -> StepVotes once quorum is reached

    def add(self, msg):
        """Count a verified vote message. Raises ConflictingVote on a second different vote."""
        signer = msg.signer
        previous = self.by_signer.get(signer)
        if previous is not None:
            if previous.vote == msg.vote:
                return None
            if self.emergency:
                return None
            kind = FAULT_DOUBLE_VALIDATION_VOTE if self.step_index == STEP_VALIDATION \
                else FAULT_DOUBLE_RATIFICATION_VOTE
            raise ConflictingVote("conflicting votes", FaultEvidence(kind, previous, msg))
        self.by_signer[signer] = msg
        vote = msg.vote
        self.signatures.setdefault(vote, {})[signer] = msg.sign_info.signature
        self.credits[vote] = self.credits.get(vote, 0) + self.committee.get_credits(signer)
        if vote in self.reached or self.credits[vote] < get_quorum(vote):
            return None
        return vote

    def build_step_votes(self, vote, verifier):
        """StepVotes of everyone who voted ``vote`` so far."""
        sigs = self.signatures.get(vote, {})
        signers = sorted(sigs)
        if not signers:
            return StepVotes()
        aggregate = verifier.aggregate_signatures([sigs[s] for s in signers])
        sv = StepVotes(self.committee.get_bitset(signers), aggregate)
        self.reached[vote] = sv
        return sv

    def get_credits(self, vote):
        return self.credits.get(vote, 0)


def verify_step_votes(step_votes, committee, signable, vote, verifier):
    """Check quorum and aggregate signature of one step; raises InvalidAttestation."""
    bitset = committee.intersect(step_votes.bitset)  # bits past the committee are ignored, as the reference
    credits = committee.get_credits_of(bitset)
    if credits < get_quorum(vote):
        raise InvalidAttestation("%d credits, quorum is %d" % (credits, get_quorum(vote)))
    pks = committee.get_members_of(bitset)
    try:
        ok = verifier.verify_multisig(pks, signable, step_votes.aggregate_signature)
    except DuskEdgeError as exc:
        raise InvalidAttestation("malformed aggregate: %s" % exc) from None
    if not ok:
        raise InvalidAttestation("aggregate signature does not verify")


def verify_attestation(att, header, committees, verifier):
    """Verify ``att`` for ``header`` (a ConsensusHeader) with a CommitteeCache of its round.
    The validation step is skipped when the vote is NoQuorum. Raises InvalidAttestation."""
    if att.vote.kind == VOTE_NO_QUORUM and att.result == RESULT_SUCCESS:
        raise InvalidAttestation("Success cannot carry NoQuorum")
    if (att.result == RESULT_SUCCESS) != (att.vote.kind == VOTE_VALID):
        raise InvalidAttestation("only a Valid vote is a Success")
    if att.vote.kind != VOTE_NO_QUORUM:
        verify_step_votes(att.validation, committees.committee(header.iteration, STEP_VALIDATION),
                          compute_vote_signable(header, SIGN_SEED_VALIDATION, att.vote), att.vote, verifier)
    verify_step_votes(att.ratification, committees.committee(header.iteration, STEP_RATIFICATION),
                      compute_vote_signable(header, SIGN_SEED_RATIFICATION, att.vote), att.vote, verifier)


def build_attestation(vote, validation, ratification):
    result = RESULT_SUCCESS if vote.kind == VOTE_VALID else RESULT_FAIL
    return Attestation(result, vote, validation, ratification)


def get_voters(att, header, committees):
    """(pk, credits) of both steps merged, credits summed per key (reward accounting)."""
    out = {}
    steps = [(att.ratification, STEP_RATIFICATION)]
    if att.vote.kind != VOTE_NO_QUORUM:
        steps.append((att.validation, STEP_VALIDATION))
    for sv, step in steps:
        committee = committees.committee(header.iteration, step)
        for pk in committee.get_members_of(sv.bitset):
            out[pk] = out.get(pk, 0) + committee.get_credits(pk)
    return sorted(out.items())
