"""An in-memory ChainView (dusk_edge.core.consensus.chain_view) for consensus simulations.

It uses the ledger's real Header/Block/Fault types and the consensus checks a ledger must apply
to a candidate (§3.2, §8): height, parent, hash, block time, seed signature, prev_block_cert,
failed_iterations (expected generator + Fail attestation), faults (§3.10) and roots. With
``ledger=True`` (the default) the state transition is the ledger's own State.apply_block: rewards
to the voters of prev_block_cert, soft slashing of failed-iteration generators and faulty signers,
and the real state_hash, so a Byzantine generator that lies about it proposes an Invalid candidate.
With ``ledger=False`` a stand-in hash chain and stake table are used (the ledger refuses a block
after an emergency block because its prev_block_cert names no voters). Timestamps are in ms.
"""
from dusk_edge.core.consensus.aggregator import get_fault_key, get_voters
from dusk_edge.core.consensus.attestation import VOTE_NO_CANDIDATE, ConsensusHeader
from dusk_edge.core.consensus.block_checks import CommitteeWindow, check_candidate_extends_tip, check_consensus_rules
from dusk_edge.core.consensus.chain_view import CandidateRejected
from dusk_edge.core.consensus.finality import RollingFinality
from dusk_edge.core.errors import RemoteProtocolError
from dusk_edge.core.hashes import sha3_256
from dusk_edge.core.ledger.block import Block
from dusk_edge.core.ledger.header import Header, count_attested_failures, default_attestation
from dusk_edge.core.ledger.profile import NetworkProfile
from dusk_edge.core.ledger.stakes import Stake
from dusk_edge.core.ledger.state import State
from dusk_edge.core.ledger.transactions import SCHEME_BLS, AccountKey

EMERGENCY_BLOCK_ITERATION = 255
EPOCH_BLOCKS = 20


def compute_state_hash(parent_state, height):
    """The simulation's stand-in for the VM state root."""
    return sha3_256(parent_state + height.to_bytes(8, "little"))


class LedgerVerifier:
    """The ledger's verifier interface over the consensus one (single-key multisig checks)."""

    def __init__(self, verifier):
        self.verifier = verifier

    def verify_multisig(self, pk, message, signature):
        return self.verifier.verify_multisig([pk], message, signature)

    def verify_batch(self, checks):
        if checks:
            raise RemoteProtocolError("the consensus simulation carries no transactions")
        return -1


def new_ledger_state(provisioners, profile):
    state = State(profile, AccountKey(SCHEME_BLS, b"\x46" * 96))
    for pk, value, eligible_since in provisioners:
        state.put_stake(pk, Stake(AccountKey(SCHEME_BLS, bytes(pk)), value=value, eligibility=eligible_since))
        state.genesis_supply += value
    return state


class SimChain:
    """One node's chain. ``stakes`` maps pk -> [value, eligible_since, faults]."""

    def __init__(self, provisioners, genesis_seed, verifier, timing, genesis_time=0, ledger=True):
        self.verifier = verifier
        self.timing = timing
        self.genesis_provisioners = list(provisioners)
        self.profile = NetworkProfile("sim", epoch_blocks=EPOCH_BLOCKS, time_scale=timing.time_scale)
        self.state = new_ledger_state(provisioners, self.profile) if ledger else None
        genesis = Header(height=0, timestamp=genesis_time, seed=genesis_seed, att=default_attestation())
        genesis.seal()
        self.blocks = [Block(genesis)]
        if self.state is not None:
            self.state.tip_hash = genesis.hash
        self.stakes_at = [dict((bytes(pk), [v, es, 0]) for pk, v, es in provisioners)]
        self.finality = RollingFinality(0)
        self.final_hashes = {0: genesis.hash}
        self.final_times = {}
        self.accept_times = {}
        self.slashes = []
        self.pending_faults = []
        self._committees = CommitteeWindow()

    # ChainView --------------------------------------------------------------------------------
    def tip_header(self):
        return self.blocks[-1].header

    def tip_time_ms(self):
        return self.blocks[-1].header.timestamp

    def time_ms(self, header):
        return header.timestamp

    def get_header(self, height):
        return self.blocks[height].header if 0 <= height < len(self.blocks) else None

    def is_final(self, height):
        return height <= self.finality.last_final

    def get_provisioners(self, round):
        """Provisioners after block round-1."""
        table = self.stakes_at[round - 1]
        return [(pk, row[0], row[1]) for pk, row in table.items()]

    def build_candidate(self, round, iteration, seed, generator_pk, failed_iterations, faults, now):
        tip = self.tip_header()
        timestamp = max(now, tip.timestamp + self.timing.minimum_block_time)
        header = Header(height=round, timestamp=timestamp, prev_block_hash=tip.hash, seed=seed,
                        state_hash=compute_state_hash(tip.state_hash, round),
                        generator_bls_pubkey=generator_pk, iteration=iteration, prev_block_cert=tip.att,
                        failed_iterations=list(failed_iterations), att=default_attestation())
        block = Block(header, [], faults).fill_roots()
        if self.state is not None:
            try:
                receipt = self.state.preview_block(block, LedgerVerifier(self.verifier), self.get_block_voters(block),
                                                   self.parent_hash_at, self.is_known_fault)
            except RemoteProtocolError:
                return block  # e.g. a fault the ledger refuses: the candidate will be voted Invalid
            header.state_hash = receipt.state_hash
            block.fill_roots()
        return block

    def validate_candidate(self, block, now):
        tip = self.tip_header()
        check_candidate_extends_tip(block.header, tip, block.header.timestamp, now, self.timing.timestamp_margin)
        try:
            self.check_block(block, tip)
        except RemoteProtocolError as exc:
            raise CandidateRejected(str(exc), must_vote=True) from None

    def accept_block(self, block, now):
        tip = self.tip_header()
        h = block.header
        if h.height != tip.height + 1 or h.prev_block_hash != tip.hash:
            raise RemoteProtocolError("block does not extend the tip")
        self.check_block(block, tip, preview=False)
        if self.state is not None:
            receipt = self.state.apply_block(block, LedgerVerifier(self.verifier), self.get_block_voters(block),
                                             True, self.parent_hash_at, self.is_known_fault)
            self.blocks.append(block)
            self.stakes_at.append(self.snapshot_stakes())
            for event in receipt.events:
                if event[0] == "slash":
                    self.slashes.append((h.height, "soft", event[1]))
        else:
            self.blocks.append(block)
            self.stakes_at.append(self.apply_slashes(block))
        self.accept_times[h.height] = now
        for height, _label in self.finality.on_block_accepted(h.height, min(h.iteration, 50),
                                                              count_attested_failures(h)):
            self.final_hashes[height] = self.blocks[height].header.hash
            self.final_times[height] = now

    def revert_tip(self):
        height = len(self.blocks) - 1
        self.finality.on_block_reverted(height)
        self.blocks.pop()
        self.stakes_at.pop()
        self.accept_times.pop(height, None)
        self.slashes = [row for row in self.slashes if row[0] < height]
        if self.state is not None:  # the ledger keeps no undo for committed blocks: replay
            self.state = new_ledger_state(self.genesis_provisioners, self.profile)
            self.state.tip_hash = self.blocks[0].header.hash
            for block in self.blocks[1:]:
                self.state.apply_block(block, LedgerVerifier(self.verifier), self.get_block_voters(block),
                                       True, self.parent_hash_at, self.is_known_fault)

    # ledger plumbing --------------------------------------------------------------------------
    def snapshot_stakes(self):
        return dict((pk, [s.value, s.eligibility, s.faults]) for pk, s in self.state.stakes.items())

    def parent_hash_at(self, height):
        return self.blocks[height].header.hash if 0 <= height < len(self.blocks) else None

    def is_known_fault(self, fault_id):
        return any(f.fault_id() == fault_id for b in self.blocks[-EPOCH_BLOCKS:] for f in b.faults)

    def get_block_voters(self, block):
        """(pk, credits) of the block's prev_block_cert (rewards); none for height 1."""
        h = block.header
        parent = self.blocks[h.height - 1].header
        if parent.height == 0 or parent.iteration == EMERGENCY_BLOCK_ITERATION:
            return []
        grand = self.blocks[parent.height - 1].header
        cert_header = ConsensusHeader(parent.prev_block_hash, parent.height, parent.iteration)
        return get_voters(h.prev_block_cert, cert_header, self.committees_for(parent.height, grand.seed))

    # checks (the ledger's job in the node) ------------------------------------------------------
    def check_block(self, block, parent, preview=True):
        """The shared consensus header rules, then the state transition."""
        h = block.header
        check_consensus_rules(block, parent, self, self.verifier, self.timing.minimum_block_time, EPOCH_BLOCKS,
                              self.to_ms)
        if h.iteration == EMERGENCY_BLOCK_ITERATION:
            return
        if self.state is None:
            if h.state_hash != compute_state_hash(parent.state_hash, h.height):
                raise RemoteProtocolError("state transition mismatch")
        elif preview:
            receipt = self.state.preview_block(block, LedgerVerifier(self.verifier), self.get_block_voters(block),
                                               self.parent_hash_at, self.is_known_fault)
            if receipt.state_hash != h.state_hash:
                raise RemoteProtocolError("state transition mismatch")

    @staticmethod
    def to_ms(timestamp):
        return timestamp

    def committees_for(self, height, parent_seed):
        return self._committees.get(height, parent_seed, self.get_provisioners)

    def apply_slashes(self, block):
        """Soft slash (§6) for Fail(NoCandidate) failed iterations and for faults."""
        table = dict((pk, list(row)) for pk, row in self.stakes_at[-1].items())
        h = block.header
        culprits = []
        for entry in h.failed_iterations:
            if entry is not None and entry.attestation.vote.kind == VOTE_NO_CANDIDATE:
                culprits.append(("soft", entry.generator))
        for fault in block.faults:
            culprits.append(("fault", fault.first.signer))
        for kind, pk in culprits:
            row = table.get(pk)
            if row is None:
                continue
            row[2] += 1
            effective = row[2] - 1  # one warning
            if effective > 0:
                row[1] = h.height + (EPOCH_BLOCKS - h.height % EPOCH_BLOCKS) + effective * EPOCH_BLOCKS
                row[0] -= row[0] // 100 * effective * 10
            self.slashes.append((h.height, kind, pk))
        return table

    def fault_keys(self):
        return set(get_fault_key(f) for b in self.blocks for f in b.faults)
