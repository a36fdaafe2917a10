# Theory of operation: the block side of the round engine (PROTOCOL.md §3.6, §3.8), kept apart from
# the step machine in engine.py. A round ends when a block is accepted: our own attested candidate,
# a complete block from sync or the Block topic (verified against the committees of its round), an
# emergency block, or a same-height block with a lower iteration (fork choice; never over a Final
# block). Every acceptance goes through the ChainView and then starts the next round.
from dusk_edge.core.consensus.aggregator import get_fault_key
from dusk_edge.core.consensus.block_checks import (
    EMERGENCY_BLOCK_ITERATION,
    is_preferred_fork,
    verify_attested_block,
    verify_emergency_block,
)
from dusk_edge.core.consensus.sortition import CommitteeCache
from dusk_edge.core.errors import DuskEdgeError, RemoteProtocolError

EMERGENCY_MODE_ITERATION_THRESHOLD = 16
MAX_ROUND_DISTANCE = 10


def is_emergency(iteration):
    """Iterations from 16 on run in emergency mode (§3.6)."""
    return iteration >= EMERGENCY_MODE_ITERATION_THRESHOLD


class BlockAcceptance:
    """Mixin of ConsensusEngine: accepting blocks, sync, fork choice, the emergency block."""

    def accept(self, block, att, now):
        block.header.att = att
        try:
            self.chain.accept_block(block, now)
        except DuskEdgeError as exc:
            self.events.append(("accept_failed", self.round, block.header.iteration, str(exc)))
            return
        self.on_accepted(block, now)

    def on_accepted(self, block, now):
        for fault in getattr(block, "faults", ()) or ():
            self.pending_faults.pop(get_fault_key(fault), None)
        self.events.append(("accepted", block.header.height, block.header.iteration,
                            block.header.hash, now))
        self.prev_candidates = self.candidates
        self.start_round(now)

    def process_block(self, block, now):
        h = block.header
        tip = self.chain.tip_header()
        if h.height == tip.height + 1 and h.prev_block_hash == tip.hash:
            self.verify_block(block, self.committees, tip, now)
            self.chain.accept_block(block, now)
            self.on_accepted(block, now)
        elif is_preferred_fork(h, tip):
            self.process_fork(block, now)
        elif h.height > tip.height + 1 and h.height <= tip.height + MAX_ROUND_DISTANCE:
            self.events.append(("sync", tip.height + 1, h.height))

    def process_fork(self, block, now):
        """§3.8: a valid same-height block with a lower iteration replaces a non-final tip."""
        h = block.header
        if self.chain.is_final(h.height) or h.height == 0:
            raise RemoteProtocolError("cannot revert a Final block")
        parent = self.chain.get_header(h.height - 1)
        if parent is None or parent.hash != h.prev_block_hash:
            raise RemoteProtocolError("fork block on an unknown parent")
        committees = CommitteeCache(self.chain.get_provisioners(h.height), parent.seed, h.height)
        self.verify_block(block, committees, parent, now)
        self.chain.revert_tip()
        self.chain.accept_block(block, now)
        self.events.append(("fork_switch", h.height, h.iteration, now))
        self.on_accepted(block, now)

    def verify_block(self, block, committees, parent, now):
        h = block.header
        if h.iteration == EMERGENCY_BLOCK_ITERATION:
            verify_emergency_block(block, self.chain.time_ms(h), self.chain.time_ms(parent), self.emergency_key,
                                   self.timing, self.verifier)
        else:
            verify_attested_block(block, committees, self.verifier)

    # emergency block --------------------------------------------------------------------------

    def arm_emergency_block(self, now):
        """A holder of the emergency key publishes a block MIN_EMERGENCY_BLOCK_TIME after the tip."""
        if self.emergency_signer is None or not is_emergency(self.iteration) or self.emergency_due is not None:
            return
        due = self.tip_time + self.timing.emergency_block_time
        self.emergency_due = due if due > now else now

    def produce_emergency_block(self, now):
        block = self.build_signed_block(self.emergency_signer, EMERGENCY_BLOCK_ITERATION, now)
        if block is None:
            return
        self.events.append(("emergency_block", self.round, block))  # the driver publishes it (topic Block)
        try:
            self.chain.accept_block(block, now)
        except DuskEdgeError as exc:
            self.events.append(("accept_failed", self.round, EMERGENCY_BLOCK_ITERATION, str(exc)))
            return
        self.on_accepted(block, now)

    def process_past_quorum(self, msg, now):
        """A Success quorum for our tip's height at a lower iteration: switch if we hold it."""
        att = msg.attestation
        block = getattr(self, "prev_candidates", {}).get(msg.header.iteration)
        if not att.is_success() or block is None or block.header.hash != att.vote.block_hash:
            return
        if msg.header.iteration < self.tip.iteration:
            block.header.att = att
            self.process_fork(block, now)
