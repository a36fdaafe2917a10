"""NodeChain: the ChainView (dusk_edge.core.consensus.chain_view) of a real node.

It joins the ledger state (state transition, stakes, rewards, slashing), the flash block store
(one commit per accepted block: header, body, label changes) and rolling finality. Header
timestamps are Unix seconds (PROTOCOL.md §8); the engine works in milliseconds, so time_ms()
converts. On open, the chain replays the stored blocks on the genesis state (the store is the
node's own, already verified, data), so a node killed at any moment restarts at its last commit.

Provisioner sets are kept per height for a window of recent blocks: committees of round R are
drawn from the stakes after block R-1 (§3.7 ContextProvisioners), so verifying a parent's
attestation needs the set one block further back.

Shielded transactions go through `shielded`, the hook built from the genesis verifying key
(dusk_edge/zk/ledger_hook.py; None when the genesis enables none): it follows the State through
every apply, preview and revert.
"""
import logging

from dusk_edge.core.consensus import block_checks
from dusk_edge.core.consensus.aggregator import get_voters
from dusk_edge.core.consensus.chain_view import CandidateRejected
from dusk_edge.core.consensus.finality import RollingFinality, push_label
from dusk_edge.core.consensus.timeouts import timing_from_profile
from dusk_edge.core.errors import RemoteProtocolError
from dusk_edge.core.ledger.block import Block, decode_block
from dusk_edge.core.ledger.genesis_spec import build_genesis
from dusk_edge.core.ledger.header import Header, count_attested_failures, decode_header, default_attestation
from dusk_edge.core.wire import Buffer

LOG = logging.getLogger("dusk_edge.chain")
HISTORY_WINDOW = 256  # heights of provisioner sets and headers kept in memory
# Catch-up: blocks older than CATCH_UP_LAG_S are committed to flash in batches of up to
# CATCH_UP_COMMIT_EVERY (one fdatasync per batch, not per block; measured in bench_node). A crash
# loses at most one batch of re-fetchable blocks; a live block commits everything staged.
CATCH_UP_LAG_S = 60
CATCH_UP_COMMIT_EVERY = 64


def encode_label(label):
    buf = Buffer()
    push_label(buf, label)
    return buf.data


class NodeChain:
    def __init__(self, spec, store, consensus_verifier, ledger_verifier, mempool=None, clock_ms=None, shielded=None):
        self.spec = spec
        self.shielded = shielded
        self.profile = spec.profile
        self.timing = timing_from_profile(self.profile)
        self.store = store
        self.verifier = consensus_verifier
        self.ledger_verifier = ledger_verifier
        self.mempool = mempool
        self.state, genesis = build_genesis(spec)
        self.genesis = genesis
        self.headers = {0: genesis}
        self.stakes_after = {0: self._stake_table()}
        self.finality = RollingFinality(0)
        self.recent_faults = {}  # fault id -> height, for the last epoch
        self._committees = block_checks.CommitteeWindow()
        self.accepted_at_ms = {}
        self.final_at_ms = {}
        self.staged_blocks = 0  # appended to the store, not yet committed (catch-up batch)
        self._replay_store()

    # ChainView ---------------------------------------------------------------------------------
    def tip_header(self):
        return self.headers[self.state.height]

    def time_ms(self, header):
        return header.timestamp * 1000

    def tip_time_ms(self):
        return self.time_ms(self.tip_header())

    def get_header(self, height):
        header = self.headers.get(height)
        if header is None and 0 < height <= self.state.height and self.store is not None:
            stored = self.store.header_by_height(height)
            header = decode_header(stored) if stored is not None else None
        return header

    def height_of(self, block_hash):
        """Height of a block we hold (genesis included), or None."""
        if block_hash == self.genesis.hash:
            return 0
        return self.store.height_of(block_hash) if self.store is not None else None

    def is_final(self, height):
        return height <= self.finality.last_final

    def get_provisioners(self, round):
        table = self.stakes_after.get(round - 1)
        if table is None:
            raise RemoteProtocolError("provisioners of round %d are outside the kept history" % round)
        minimum = self.profile.minimum_stake
        return [(pk, value, since) for pk, value, since in table if value >= minimum and since <= round]

    def committees_for(self, height, seed):
        return self._committees.get(height, seed, self.get_provisioners)

    def is_known_fault(self, fault_id):
        return fault_id in self.recent_faults

    def build_candidate(self, round, iteration, seed, generator_pk, failed_iterations, faults, now):
        tip = self.tip_header()
        min_gap_s = -(-self.timing.minimum_block_time // 1000)
        timestamp = max(now // 1000, tip.timestamp + min_gap_s)
        txs = self.mempool.select(self.state) if self.mempool is not None else []
        header = Header(height=round, timestamp=timestamp, prev_block_hash=tip.hash, seed=seed,
                        generator_bls_pubkey=generator_pk, iteration=iteration, prev_block_cert=tip.att,
                        failed_iterations=list(failed_iterations), att=default_attestation(),
                        gas_limit=self.profile.block_gas_limit)
        block = Block(header, txs, faults).fill_roots()
        try:
            receipt = self.state.preview_block(block, self.ledger_verifier, self.voters_of,
                                               self._parent_hash_at, self.is_known_fault, self.shielded)
        except RemoteProtocolError as exc:  # a mempool tx went stale: propose without transactions
            LOG.warning("candidate without transactions: %s", exc)
            block = Block(header, [], faults).fill_roots()
            receipt = self.state.preview_block(block, self.ledger_verifier, self.voters_of,
                                               self._parent_hash_at, self.is_known_fault, self.shielded)
        header.state_hash = receipt.state_hash
        header.seal()
        return block

    def validate_candidate(self, block, now):
        tip = self.tip_header()
        block_checks.check_candidate_extends_tip(block.header, tip, self.time_ms(block.header), now,
                                                 self.timing.timestamp_margin)
        try:
            self.check_block(block, tip)
            self.state.preview_block(block, self.ledger_verifier, self.voters_of, self._parent_hash_at,
                                     self.is_known_fault, self.shielded)
        except RemoteProtocolError as exc:
            raise CandidateRejected(str(exc), must_vote=True) from None

    def accept_block(self, block, now):
        tip = self.tip_header()
        h = block.header
        if h.height != tip.height + 1 or h.prev_block_hash != tip.hash:
            raise RemoteProtocolError("block %d does not extend the tip %d" % (h.height, tip.height))
        self.check_block(block, tip)
        self.settle_deferred_checks()
        self._apply(block, now, persist=True)

    def settle_deferred_checks(self):
        """Signature checks a syncing node batched (ConsensusVerifier.defer) are verified before
        any state changes; raises RemoteProtocolError when one fails."""
        settle = getattr(self.verifier, "settle", None)
        if settle is not None:
            settle()

    def revert_tip(self):
        """Drop the non-final tip: rebuild the state from genesis and the store up to tip-1."""
        self.settle_deferred_checks()  # a fork block's checks must hold before we drop our tip
        height = self.state.height
        self.finality.on_block_reverted(height)
        self.state, _ = build_genesis(self.spec)
        self.headers = {0: self.genesis}
        self.stakes_after = {0: self._stake_table()}
        self.recent_faults.clear()
        self._committees.clear()
        for h in range(1, height):
            self._apply(self._stored_block(h), None, persist=False, finality=False)
        # The store drops the reverted height when the replacing block is appended at it.

    # checks and application --------------------------------------------------------------------
    def check_block(self, block, parent):
        if block.header.iteration == block_checks.EMERGENCY_BLOCK_ITERATION:
            if block.header.generator_bls_pubkey != self.spec.emergency_key:
                raise RemoteProtocolError("emergency block not signed by the genesis emergency key")
            if self.time_ms(block.header) < self.time_ms(parent) + self.timing.emergency_block_time:
                raise RemoteProtocolError("emergency block too early")
        block_checks.check_consensus_rules(block, parent, self, self.verifier, self.timing.minimum_block_time,
                                           self.profile.epoch_blocks, lambda ts: ts * 1000)

    def voters_of(self, block):
        """(pk, credits) in the block's prev_block_cert (reward accounting, §6)."""
        h = block.header
        parent = self.headers.get(h.height - 1)
        if parent is None or parent.height == 0 or parent.iteration == block_checks.EMERGENCY_BLOCK_ITERATION:
            return []
        grand = self.headers.get(parent.height - 1)
        return get_voters(h.prev_block_cert, parent, self.committees_for(parent.height, grand.seed))

    def _parent_hash_at(self, height):
        header = self.headers.get(height)
        return header.hash if header is not None else None

    def _apply(self, block, now, persist, finality=True):
        h = block.header
        self.state.apply_block(block, self.ledger_verifier, voter_credits=self.voters_of,
                               parent_hash_at=self._parent_hash_at, is_known_fault=self.is_known_fault,
                               shielded=self.shielded)
        self.headers[h.height] = h
        self.stakes_after[h.height] = self._stake_table()
        for fault in block.faults:
            self.recent_faults[fault.fault_id()] = h.height
        self._forget_old(h.height)
        if self.mempool is not None:
            self.mempool.on_block(block, self.state)
        newly_final = []
        if finality:
            newly_final = self.finality.on_block_accepted(h.height, min(h.iteration, 50), count_attested_failures(h))
        if now is not None:
            self.accepted_at_ms[h.height] = now
            for height, _label in newly_final:
                self.final_at_ms[height] = now
        if persist and self.store is not None:
            catching_up = now is not None and h.timestamp < now // 1000 - CATCH_UP_LAG_S
            self._persist(block, newly_final, catching_up)
        return newly_final

    def commit_staged(self):
        """Make a catch-up batch durable now (also done by the next live block)."""
        if self.staged_blocks and self.store is not None:
            self.store.commit()
            self.staged_blocks = 0

    def _persist(self, block, newly_final, catching_up=False):
        h = block.header
        header_bytes = h.encode()
        body = block.encode()[len(header_bytes):]
        self.store.append_block(h.height, h.hash, header_bytes, body, [tx.tx_id() for tx in block.transactions],
                                encode_label(self.finality.get_label(h.height)))
        for height in range(self.finality.last_final + 1, h.height):
            label = self.finality.get_label(height)
            if label is not None:
                self.store.set_label(height, encode_label(label))
        for height, label in newly_final:
            if height != h.height:
                self.store.set_label(height, encode_label(label))
        self.staged_blocks += 1
        if not catching_up or self.staged_blocks >= CATCH_UP_COMMIT_EVERY:
            self.commit_staged()

    def shielded_sync(self, start, limit, nullifiers=()):
        """Outputs, roots and finality for wallets (ShieldedLedger.sync_info), or None."""
        if self.shielded is None:
            return None
        return self.shielded.sync_info(self.state, start, limit, self.finality.last_final, nullifiers)

    def _stake_table(self):
        return [(pk, s.value, s.eligibility) for pk, s in self.state.all_stakes()]

    def _forget_old(self, height):
        floor = height - HISTORY_WINDOW
        for table in (self.headers, self.stakes_after):
            old = floor - 1  # heights are applied in order: drop the run just below the window
            while old > 0 and table.pop(old, None) is not None:
                old -= 1
        epoch_floor = height - self.profile.epoch_blocks
        for fid in [f for f, hh in self.recent_faults.items() if hh < epoch_floor]:
            del self.recent_faults[fid]

    def _stored_block(self, height):
        stored = self.store.block_by_height(height)
        return decode_block(bytes(stored.header) + bytes(stored.body))

    def _replay_store(self):
        """Re-apply the stored chain (our own verified blocks: state checks only)."""
        if self.store is None:
            return
        tip = self.store.tip()
        if tip is None or tip[0] == 0:
            return
        top = tip[0]
        for height in range(1, top + 1):
            self._apply(self._stored_block(height), None, persist=False)
        LOG.info("replayed %d stored blocks", top)
