# Theory of operation: the sans-I/O Succinct Attestation round engine (PROTOCOL.md §3.2-§3.8).
#
# Round R builds the block at height R on tip R-1. Each iteration runs three steps in order,
# driven by the table STEP_TRANSITIONS: PROPOSAL (the generator publishes a candidate; everyone else
# waits for it) -> VALIDATION (committee members vote Valid/Invalid/NoCandidate; 43/33 credits make
# a ValidationResult) -> RATIFICATION (members re-vote that result; 43/33 credits make an
# Attestation). A Success attestation plus its candidate is a block: it is accepted and the next
# round starts. A Fail attestation (or a ratification timeout) moves to the next iteration; Fail
# attestations are remembered and the next candidate carries them as failed_iterations. Votes of
# earlier iterations of the round keep being aggregated, so a late quorum still counts.
# From iteration 16 (emergency) NoCandidate votes are disabled and only Valid results are voted;
# after the last iteration's ratification timeout the round stays open ("open consensus") until a
# block is accepted; a node holding the genesis emergency key may then publish an emergency block.
# All time comes in as `now` (ms); outputs are messages to broadcast (take_outgoing), events
# (take_events) and one timer deadline (get_timer).
from dusk_edge.core.consensus.aggregator import (
    FAULT_DOUBLE_CANDIDATE,
    ConflictingVote,
    FaultEvidence,
    StepAggregator,
    build_attestation,
    verify_attestation,
    verify_step_votes,
)
from dusk_edge.core.consensus.attestation import (
    VOTE_NO_CANDIDATE,
    VOTE_NO_QUORUM,
    VOTE_INVALID,
    VOTE_VALID,
    ConsensusHeader,
    FailedIteration,
    StepVotes,
    Vote,
)
from dusk_edge.core.consensus.block_checks import EMERGENCY_BLOCK_ITERATION, verify_single_signature
from dusk_edge.core.consensus.chain_view import CandidateRejected
from dusk_edge.core.consensus.engine_blocks import (
    EMERGENCY_MODE_ITERATION_THRESHOLD,
    MAX_ROUND_DISTANCE,
    BlockAcceptance,
    is_emergency,
)
from dusk_edge.core.consensus.messages import (
    QUORUM_NO_QUORUM,
    SIGN_SEED_RATIFICATION,
    SIGN_SEED_VALIDATION,
    TOPIC_CANDIDATE,
    TOPIC_QUORUM,
    TOPIC_RATIFICATION,
    TOPIC_VALIDATION,
    TOPIC_VALIDATION_QUORUM,
    Candidate,
    Quorum,
    Ratification,
    SignInfo,
    Validation,
    ValidationQuorum,
    ValidationResult,
    compute_vote_signable,
    get_quorum_type,
)
from dusk_edge.core.consensus.sortition import (
    MAX_ITERATIONS,
    STEP_PROPOSAL,
    STEP_RATIFICATION,
    STEP_VALIDATION,
)
from dusk_edge.core.consensus.timeouts import DUSK_TIMING, StepTimeouts
from dusk_edge.core.errors import DuskEdgeError, RemoteProtocolError

MAX_FAILED_ITERATIONS = 8
MAX_FUTURE_MESSAGES = 4096
MAX_PENDING_FAULTS = 100

NEXT_ITERATION = 3
# (step, event) -> next step; the irregular parts (open consensus, round end) live in the handlers.
STEP_TRANSITIONS = {
    (STEP_PROPOSAL, "candidate"): STEP_VALIDATION,
    (STEP_PROPOSAL, "timeout"): STEP_VALIDATION,
    (STEP_VALIDATION, "quorum"): STEP_RATIFICATION,
    (STEP_VALIDATION, "timeout"): STEP_RATIFICATION,
    (STEP_RATIFICATION, "quorum"): NEXT_ITERATION,
    (STEP_RATIFICATION, "timeout"): NEXT_ITERATION,
}


def compute_failed_iterations(failed, iteration):
    """failed_iterations of a candidate at ``iteration``: entries for 0..min(iteration, 8)-1."""
    count = iteration if iteration < MAX_FAILED_ITERATIONS else MAX_FAILED_ITERATIONS
    return [failed.get(i) for i in range(count)]


class ConsensusEngine(BlockAcceptance):
    """One provisioner's consensus. See the module comment for the flow."""

    def __init__(self, chain, signer, verifier, timing=DUSK_TIMING, emergency_key=None,
                 emergency_signer=None):
        self.chain = chain
        self.signer = signer
        self.verifier = verifier
        self.timing = timing
        self.me = bytes(signer.public_key()) if signer is not None else None
        self.emergency_key = emergency_key
        self.emergency_signer = emergency_signer
        self.timeouts = StepTimeouts(timing)
        self.outbox = []
        self.events = []
        self.future = []
        self.pending_faults = {}
        self.rejected = {}
        self.round = None
        self.deadline = None
        self.emergency_due = None
        self.open_consensus = False

    # public driver API ------------------------------------------------------------------------

    def on_start(self, now):
        self.start_round(now)

    def get_timer(self):
        """The earliest deadline (ms) at which on_timer must be called, or None."""
        if self.emergency_due is None:
            return self.deadline
        if self.deadline is None or self.emergency_due < self.deadline:
            return self.emergency_due
        return self.deadline

    def take_outgoing(self):
        out, self.outbox = self.outbox, []
        return out

    def take_events(self):
        out, self.events = self.events, []
        return out

    def on_timer(self, now):
        if self.emergency_due is not None and now >= self.emergency_due:
            self.emergency_due = None
            self.produce_emergency_block(now)
            return
        if self.deadline is None or now < self.deadline:
            return
        self.deadline = None
        if self.timer_kind == "produce":
            self.produce_candidate(now)
        else:
            self.on_step_event("timeout", now)

    def on_message(self, msg, now):
        """Handle a decoded consensus message. Peer faults are counted in .rejected, never raised."""
        try:
            self.process_message(msg, now)
        except RemoteProtocolError as exc:
            name = type(exc).__name__
            self.rejected[name] = self.rejected.get(name, 0) + 1

    def on_block(self, block, now):
        """A complete attested block from sync or the Block topic (next height, or a fork)."""
        try:
            self.process_block(block, now)
        except RemoteProtocolError as exc:
            name = type(exc).__name__
            self.rejected[name] = self.rejected.get(name, 0) + 1

    def get_candidate(self, iteration):
        """The candidate of ``iteration`` of the current round, if received (served on request)."""
        return self.candidates.get(iteration)

    def get_validation_result(self, iteration):
        """Our ValidationResult of ``iteration`` of the current round, or None (§3.6 serving)."""
        return self.local_result.get(iteration)

    # round and iteration ----------------------------------------------------------------------

    def start_round(self, now):
        self.tip = self.chain.tip_header()
        self.tip_time = self.chain.tip_time_ms()
        self.round = self.tip.height + 1
        # the chain's cache: the same committees verify this round's block and, one block later,
        # its prev_block_cert (drawn once, not twice)
        self.committees = self.chain.committees_for(self.round, self.tip.seed)
        self.candidates = {}
        self.aggregators = {}
        self.validation_results = {}   # iteration -> {vote: ValidationResult}
        self.local_result = {}         # iteration -> first ValidationResult reached
        self.attestations = {}
        self.failed = {}
        self.seen = set()
        self.open_consensus = False
        self.emergency_due = None
        self.timeouts.on_round_start()
        self.events.append(("round", self.round, now))
        self.start_iteration(0, now)
        self.replay_future(now)

    def start_iteration(self, iteration, now):
        self.iteration = iteration
        self.step = STEP_PROPOSAL
        self.step_started = now
        if is_emergency(iteration) and iteration == EMERGENCY_MODE_ITERATION_THRESHOLD:
            self.events.append(("emergency", self.round, now))
        generator = self.committees.generator(iteration)
        wait = self.tip_time + self.timing.minimum_block_time - now
        if wait < 0:
            wait = 0
        self.step_started = now + wait  # the adaptive proposal timeout measures after the block-time wait
        if generator == self.me and self.signer is not None:
            self.set_timer(now + wait, "produce")
        else:
            self.set_timer(now + self.timeouts.get(STEP_PROPOSAL) + wait, "step")
        if iteration in self.candidates:
            self.on_step_event("candidate", now)
        self.arm_emergency_block(now)

    def set_timer(self, deadline, kind):
        self.deadline = deadline
        self.timer_kind = kind

    def on_step_event(self, event, now):
        """Apply STEP_TRANSITIONS to the current step."""
        nxt = STEP_TRANSITIONS.get((self.step, event))
        if nxt is None or self.open_consensus:
            return
        elapsed = now - self.step_started if now > self.step_started else 0
        if event == "timeout":
            self.timeouts.on_step_timeout(self.step)
            if is_emergency(self.iteration) and self.step == STEP_PROPOSAL:  # §3.6: ask peers for it
                self.events.append(("need_candidate", self.round, self.iteration, None))
        else:
            self.timeouts.on_step_success(self.step, elapsed)
        if nxt == STEP_VALIDATION:
            self.enter_validation(now)
        elif nxt == STEP_RATIFICATION:
            self.enter_ratification(now)
        elif self.iteration + 1 < MAX_ITERATIONS:
            self.start_iteration(self.iteration + 1, now)
        else:
            self.open_consensus = True
            self.deadline = None
            self.events.append(("open_consensus", self.round, now))
            self.arm_emergency_block(now)

    def consensus_header(self, iteration):
        return ConsensusHeader(self.tip.hash, self.round, iteration)

    # proposal ---------------------------------------------------------------------------------

    def produce_candidate(self, now):
        i = self.iteration
        block = self.build_signed_block(self.signer, i, now)
        if block is None:  # reported as an event; wait out the proposal step like everyone else
            self.set_timer(now + self.timeouts.get(STEP_PROPOSAL), "step")
            return
        msg = Candidate(block)
        self.outbox.append(msg)
        self.events.append(("candidate", self.round, i, now))
        self.step_started = now
        self.process_candidate(msg, now)
        if self.step == STEP_PROPOSAL:  # our own candidate did not validate; do not stall
            self.on_step_event("candidate", now)

    def build_signed_block(self, signer, iteration, now):
        """Seed, candidate and signature; None (with an event) when signing or building fails."""
        emergency = iteration == EMERGENCY_BLOCK_ITERATION
        seed = self.sign(signer, "sign_seed", self.round, self.tip.seed)
        if seed is None:
            return None
        failed = [] if emergency else compute_failed_iterations(self.failed, iteration)
        faults = [] if emergency else [f.to_fault() for f in self.pending_faults.values()][:MAX_PENDING_FAULTS]
        try:
            block = self.chain.build_candidate(self.round, iteration, seed, bytes(signer.public_key()), failed,
                                               faults, now)
        except DuskEdgeError as exc:
            self.events.append(("build_failed", self.round, iteration, str(exc)))
            return None
        signature = self.sign(signer, "sign_candidate", self.round, iteration, block.header.hash)
        if signature is None:
            return None
        block.header.signature = signature
        return block

    def sign(self, signer, method, *args):
        """A signature, or None when the signer refuses or is unreachable (reported, not raised:
        a signer error is never a peer's fault)."""
        try:
            return getattr(signer, method)(*args)
        except DuskEdgeError as exc:
            self.events.append(("sign_failed", method, self.round, "%s: %s" % (type(exc).__name__, exc)))
            return None

    def process_candidate(self, msg, now):
        h = msg.block.header
        i = h.iteration
        if i >= MAX_ITERATIONS:
            raise RemoteProtocolError("candidate iteration out of range")
        if h.prev_block_hash != self.tip.hash:
            raise RemoteProtocolError("candidate on another parent")
        if h.generator_bls_pubkey != self.committees.generator(i):
            raise RemoteProtocolError("candidate from a non-generator")
        known = self.candidates.get(i)
        if known is not None and known.header.hash == h.hash:
            return
        # a relayer could alter unsigned parts: drop such a copy rather than vote on it (§3.2)
        if not h.check_hash():
            raise RemoteProtocolError("candidate hash does not match its header")
        msg.block.check_roots()
        self.verify_signature(h.generator_bls_pubkey, h.hash, h.signature)
        if known is not None:
            self.record_fault(FaultEvidence(FAULT_DOUBLE_CANDIDATE, Candidate(known), msg))
            return
        self.candidates[i] = msg.block
        att = self.attestations.get(i)
        if att is not None and att.is_success() and att.vote.block_hash == h.hash:
            self.accept(msg.block, att, now)
            return
        if i == self.iteration and self.step == STEP_PROPOSAL:
            self.on_step_event("candidate", now)
        elif i < self.iteration or (i == self.iteration and self.step != STEP_PROPOSAL):
            self.cast_validation_vote(i, now)   # a late candidate still gets our vote

    # validation -------------------------------------------------------------------------------

    def enter_validation(self, now):
        self.step = STEP_VALIDATION
        self.step_started = now
        self.set_timer(now + self.timeouts.get(STEP_VALIDATION), "step")
        self.cast_validation_vote(self.iteration, now)
        if self.iteration in self.local_result:
            self.on_step_event("quorum", now)

    def compute_validation_vote(self, iteration, now):
        """Our vote on the candidate of ``iteration``, or None (no vote)."""
        block = self.candidates.get(iteration)
        if block is None:
            return None if is_emergency(iteration) else Vote(VOTE_NO_CANDIDATE)
        try:
            self.chain.validate_candidate(block, now)
        except CandidateRejected as exc:
            if not exc.must_vote or is_emergency(iteration):
                return None
            return Vote(VOTE_INVALID, block.header.hash)
        return Vote(VOTE_VALID, block.header.hash)

    def cast_validation_vote(self, iteration, now):
        key = ("voted", STEP_VALIDATION, iteration)
        if self.signer is None or key in self.seen:
            return
        if self.me not in self.committees.committee(iteration, STEP_VALIDATION):
            return
        vote = self.compute_validation_vote(iteration, now)
        if vote is None:
            return
        header = self.consensus_header(iteration)
        signable = compute_vote_signable(header, SIGN_SEED_VALIDATION, vote)
        self.seen.add(key)  # also after a refusal: never ask the guard twice for one slot
        sig = self.sign(self.signer, "sign_vote", self.round, iteration, STEP_VALIDATION, signable)
        if sig is None:
            return
        msg = Validation(header, vote, SignInfo(self.me, sig))
        self.outbox.append(msg)
        self.process_validation(msg, now)

    def process_validation(self, msg, now):
        i = msg.header.iteration
        if msg.vote.kind == VOTE_NO_QUORUM:
            raise RemoteProtocolError("NoQuorum is not a validation vote")
        if is_emergency(i) and msg.vote.kind != VOTE_VALID:
            return
        agg = self.get_aggregator(i, STEP_VALIDATION)
        if self.is_duplicate(msg, agg):
            return
        self.verify_signature(msg.signer, msg.signable(), msg.sign_info.signature)
        reached = self.add_vote(agg, msg)
        if reached is not None:
            sv = agg.build_step_votes(reached, self.verifier)
            self.on_validation_result(i, ValidationResult(sv, reached, get_quorum_type(reached)), now)

    def on_validation_result(self, iteration, result, now):
        by_vote = self.validation_results.setdefault(iteration, {})
        if result.vote in by_vote:
            return
        by_vote[result.vote] = result
        if iteration not in self.local_result:
            self.local_result[iteration] = result
            if is_emergency(iteration):
                self.outbox.append(ValidationQuorum(self.consensus_header(iteration), result))
        if iteration == self.iteration and self.step == STEP_VALIDATION:
            self.on_step_event("quorum", now)
        elif iteration < self.iteration or self.step == STEP_RATIFICATION:
            self.cast_ratification_vote(iteration, now)

    def process_validation_quorum(self, msg, now):
        i = msg.header.iteration
        result = msg.result
        if result.vote.kind == VOTE_NO_QUORUM or result.vote in self.validation_results.get(i, {}):
            return
        verify_step_votes(result.step_votes, self.committees.committee(i, STEP_VALIDATION),
                          compute_vote_signable(msg.header, SIGN_SEED_VALIDATION, result.vote),
                          result.vote, self.verifier)
        self.on_validation_result(i, result, now)

    # ratification -----------------------------------------------------------------------------

    def enter_ratification(self, now):
        self.step = STEP_RATIFICATION
        self.step_started = now
        self.set_timer(now + self.timeouts.get(STEP_RATIFICATION), "step")
        self.cast_ratification_vote(self.iteration, now)

    def cast_ratification_vote(self, iteration, now):
        key = ("voted", STEP_RATIFICATION, iteration)
        if self.signer is None or key in self.seen:
            return
        if self.me not in self.committees.committee(iteration, STEP_RATIFICATION):
            return
        result = self.local_result.get(iteration)
        if result is None:
            if iteration < self.iteration or is_emergency(iteration):
                return  # a late result only; a timed-out step already voted NoQuorum
            result = ValidationResult(StepVotes(), Vote(VOTE_NO_QUORUM), QUORUM_NO_QUORUM)
        if is_emergency(iteration) and result.vote.kind != VOTE_VALID:
            return
        header = self.consensus_header(iteration)
        signable = compute_vote_signable(header, SIGN_SEED_RATIFICATION, result.vote)
        self.seen.add(key)
        sig = self.sign(self.signer, "sign_vote", self.round, iteration, STEP_RATIFICATION, signable)
        if sig is None:
            return
        # the reference stamps Unix seconds; `now` is the driver's epoch milliseconds
        msg = Ratification(header, result.vote, now // 1000, result, SignInfo(self.me, sig))
        self.outbox.append(msg)
        self.process_ratification(msg, now)

    def process_ratification(self, msg, now):
        i = msg.header.iteration
        attached = msg.validation_result
        if msg.vote != attached.vote:
            raise RemoteProtocolError("ratification vote differs from its validation result")
        if msg.vote.kind == VOTE_NO_QUORUM and not attached.step_votes.is_empty():
            raise RemoteProtocolError("NoQuorum must carry empty step votes")
        if is_emergency(i) and msg.vote.kind != VOTE_VALID:
            return
        agg = self.get_aggregator(i, STEP_RATIFICATION)
        if self.is_duplicate(msg, agg):
            return
        self.verify_signature(msg.signer, msg.signable(), msg.sign_info.signature)
        if msg.vote.kind != VOTE_NO_QUORUM and msg.vote not in self.validation_results.get(i, {}):
            local = self.local_result.get(i)
            if local is not None and not is_emergency(i):
                return  # a quorum different from ours is discarded
            verify_step_votes(attached.step_votes, self.committees.committee(i, STEP_VALIDATION),
                              compute_vote_signable(msg.header, SIGN_SEED_VALIDATION, msg.vote),
                              msg.vote, self.verifier)
            self.on_validation_result(i, attached, now)
        reached = self.add_vote(agg, msg)
        if reached is not None:
            rat = agg.build_step_votes(reached, self.verifier)
            val = StepVotes()
            if reached.kind != VOTE_NO_QUORUM:
                val = self.validation_results[i][reached].step_votes
            self.on_attestation(i, build_attestation(reached, val, rat), now, True)

    # attestations, blocks, fork choice ---------------------------------------------------------

    def on_attestation(self, iteration, att, now, broadcast):
        if iteration in self.attestations:
            return
        if self.open_consensus and not att.is_success():
            return
        self.attestations[iteration] = att
        if broadcast:
            self.outbox.append(Quorum(self.consensus_header(iteration), att))
        self.events.append(("attestation", self.round, iteration, att))
        if att.is_success():
            if iteration == self.iteration and self.step == STEP_RATIFICATION:
                self.timeouts.on_step_success(STEP_RATIFICATION, now - self.step_started)
            block = self.candidates.get(iteration)
            if block is not None and block.header.hash == att.vote.block_hash:
                self.accept(block, att, now)
            else:
                self.events.append(("need_candidate", self.round, iteration, att.vote.block_hash))
            return
        self.failed[iteration] = FailedIteration(att, self.committees.generator(iteration))
        if iteration != self.iteration or self.open_consensus:
            return
        if self.step == STEP_RATIFICATION:
            self.on_step_event("quorum", now)
        elif iteration + 1 < MAX_ITERATIONS:  # a received Quorum ends the current iteration too
            self.start_iteration(iteration + 1, now)

    def process_quorum(self, msg, now):
        i = msg.header.iteration
        if i in self.attestations or (self.open_consensus and not msg.attestation.is_success()):
            return
        verify_attestation(msg.attestation, msg.header, self.committees, self.verifier)
        self.on_attestation(i, msg.attestation, now, False)

    # message plumbing -------------------------------------------------------------------------

    def process_message(self, msg, now):
        if msg.topic == TOPIC_CANDIDATE:
            h = msg.block.header
            header = ConsensusHeader(h.prev_block_hash, h.height, h.iteration)
        else:
            header = msg.header
        if self.route_by_round(msg, header, now):
            return
        if header.iteration >= MAX_ITERATIONS or header.prev_block_hash != self.tip.hash:
            raise RemoteProtocolError("message for another iteration range or parent")
        handler = {TOPIC_CANDIDATE: self.process_candidate, TOPIC_VALIDATION: self.process_validation,
                   TOPIC_RATIFICATION: self.process_ratification, TOPIC_QUORUM: self.process_quorum,
                   TOPIC_VALIDATION_QUORUM: self.process_validation_quorum}[msg.topic]
        handler(msg, now)

    def route_by_round(self, msg, header, now):
        """True when the message is not for the current round (buffered, used or dropped)."""
        if header.round == self.round:
            return False
        if header.round > self.round:
            self.events.append(("sync", self.round, header.round))
            if header.round > self.tip.height + MAX_ROUND_DISTANCE:
                raise RemoteProtocolError("message beyond tip + %d" % MAX_ROUND_DISTANCE)
            if len(self.future) < MAX_FUTURE_MESSAGES:
                self.future.append(msg)
            return True
        if header.round == self.round - 1 and msg.topic == TOPIC_QUORUM:
            self.process_past_quorum(msg, now)
        return True

    def replay_future(self, now):
        pending, self.future = self.future, []
        for msg in pending:
            self.on_message(msg, now)

    def get_aggregator(self, iteration, step):
        key = (iteration, step)
        agg = self.aggregators.get(key)
        if agg is None:
            agg = StepAggregator(self.committees.committee(iteration, step), step, is_emergency(iteration))
            self.aggregators[key] = agg
        return agg

    def is_duplicate(self, msg, agg):
        if msg.signer not in agg.committee:
            raise RemoteProtocolError("vote from a non-member")
        previous = agg.by_signer.get(msg.signer)
        return previous is not None and previous.vote == msg.vote

    def add_vote(self, agg, msg):
        try:
            return agg.add(msg)
        except ConflictingVote as exc:
            self.record_fault(exc.fault)
            raise

    def record_fault(self, fault):
        key = fault.key()
        if key not in self.pending_faults and len(self.pending_faults) < MAX_PENDING_FAULTS:
            self.pending_faults[key] = fault
            self.events.append(("fault", fault))

    def verify_signature(self, pk, message, signature):
        verify_single_signature(self.verifier, pk, message, signature)
