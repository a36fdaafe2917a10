# Theory of operation: the state transition of one block (PROTOCOL.md §6-§8, DESIGN.md §5).
#
#   1. shape: height follows the tip, prev hash, counts, size, tx/fault roots, unique tx ids;
#   2. every transaction's stateless checks, then all signatures in one batch (verifier object);
#   3. inside a journal: transactions in order, rewards of emission + fees, soft slashes from
#      failed iterations and faults, totals; then state_hash must equal the header's.
# Any rejection rolls the journal back, so a block fully applies or changes nothing. The order
# rewards-then-slashes follows rusk (a reward clears faults, the slash of the same block counts).
# Transactions carry no VM: each kind costs a fixed gas (GAS_COSTS), the fee is gas * price.
#
# Shielded transactions (kind 4, a dusk-edge extension) need a `shielded` hook built by the node
# from the genesis verifying key (dusk_edge/zk/ledger_hook.py ShieldedLedger, duck-typed here so
# the core imports no ZK code): verify_block(payloads) batch-checks the proofs before the journal
# opens; begin(state) / apply(state, payload) / commit() / rollback() keep the hook's pool index
# in step with the journaled State. Without a hook the kind is refused. The public side is here:
# public_in leaves the signed sender's account, public_out goes to the receiver, and the payload's
# fee (paid out of the pool, = gas * gas_price) joins the block's fees.
from dusk_edge.core.consensus.attestation import RESULT_FAIL, VOTE_INVALID, VOTE_NO_CANDIDATE
from dusk_edge.core.errors import RemoteProtocolError
from dusk_edge.core.ledger import stakes as stake_rules
from dusk_edge.core.ledger.faults import check_fault
from dusk_edge.core.ledger.rewards import compute_reward_split, emission
from dusk_edge.core.ledger.state import Account
from dusk_edge.core.ledger.transactions import (
    KIND_SHIELDED,
    KIND_STAKE,
    KIND_TRANSFER,
    KIND_UNSTAKE,
    KIND_WITHDRAW,
    MAX_TX_SIZE,
    SCHEME_BLS,
    TX_VERSION,
    AccountKey,
    signature_checks,
)

GAS_COSTS = (100000, 150000, 150000, 150000, 200000)  # transfer, stake, unstake, withdraw, shielded


class InvalidTransaction(RemoteProtocolError):
    """A transaction breaks a ledger rule; the block or mempool rejects it."""


class WrongChainId(InvalidTransaction):
    pass


class BadSignature(InvalidTransaction):
    pass


class NonceMismatch(InvalidTransaction):
    pass


class InsufficientBalance(InvalidTransaction):
    pass


class GasTooLow(InvalidTransaction):
    pass


class OversizeTransaction(InvalidTransaction):
    pass


class ShieldedNotEnabled(InvalidTransaction):
    """A shielded transaction on a network whose genesis fixes no verifying key."""


class InvalidBlock(RemoteProtocolError):
    """The block as a whole is not acceptable on this state."""


class StateHashMismatch(InvalidBlock):
    pass


class BlockReceipt:
    __slots__ = ("height", "gas_spent", "fees", "reward", "events", "state_hash")

    def __init__(self, height, gas_spent, fees, reward, events, state_hash):
        self.height = height
        self.gas_spent = gas_spent
        self.fees = fees
        self.reward = reward  # rewards.RewardSplit
        self.events = events  # [("slash", pk, locked, next_eligibility)] for the provisioner list
        self.state_hash = state_hash


def check_transaction_static(tx, profile):
    """Rules that need no state: version, chain id, gas minimums, size, per-kind field shape."""
    if tx.version != TX_VERSION:
        raise InvalidTransaction("transaction version %d, expected %d" % (tx.version, TX_VERSION))
    if tx.chain_id != profile.chain_id:
        raise WrongChainId("chain id %#x, this network is %#x" % (tx.chain_id, profile.chain_id))
    if tx.gas_price < profile.min_gas_price:
        raise GasTooLow("gas price %d below %d" % (tx.gas_price, profile.min_gas_price))
    if tx.gas_limit < profile.min_gas_limit:
        raise GasTooLow("gas limit %d below %d" % (tx.gas_limit, profile.min_gas_limit))
    if tx.gas_limit < GAS_COSTS[tx.kind]:
        raise GasTooLow("gas limit %d below the cost %d" % (tx.gas_limit, GAS_COSTS[tx.kind]))
    if tx.size() > MAX_TX_SIZE:
        raise OversizeTransaction("transaction of %d bytes exceeds %d" % (tx.size(), MAX_TX_SIZE))
    if tx.kind == KIND_TRANSFER:
        if tx.deposit != 0:
            raise InvalidTransaction("a transfer carries no deposit")
        return
    if tx.kind == KIND_SHIELDED:
        check_shielded_static(tx)
        return
    if tx.receiver != tx.sender or tx.value != 0:
        raise InvalidTransaction("a stake call sends no value to another account")
    if tx.kind == KIND_STAKE and tx.deposit == 0:
        raise InvalidTransaction("a stake deposits the staked amount")
    if tx.kind != KIND_STAKE and tx.deposit != 0:
        raise InvalidTransaction("unstake/withdraw carry no deposit")


def check_shielded_static(tx):
    """The public side of a shielded payload: the proof binds `account`, so the account that pays
    public_in must be the signing sender and the one credited public_out the receiver."""
    if tx.value != 0 or tx.deposit != 0:
        raise InvalidTransaction("a shielded transaction moves value only through its payload")
    pub = tx.shielded_public()
    if pub.fee != GAS_COSTS[KIND_SHIELDED] * tx.gas_price:
        raise InvalidTransaction("shielded fee %d, expected gas %d * price %d"
                                 % (pub.fee, GAS_COSTS[KIND_SHIELDED], tx.gas_price))
    if pub.public_in and pub.account != tx.sender.encode():
        raise InvalidTransaction("public_in must come from the signing sender the proof binds")
    if pub.public_out:
        if pub.account != tx.receiver.encode():
            raise InvalidTransaction("public_out must go to the receiver the proof binds")
    elif tx.receiver != tx.sender:
        raise InvalidTransaction("a shielded transaction without public_out names no receiver")


def shielded_payloads(block, shielded):
    """The block's shielded payloads after the hook checked their proofs as one batch."""
    payloads = [tx.payload for tx in block.transactions if tx.kind == KIND_SHIELDED]
    if payloads:
        if shielded is None:
            raise ShieldedNotEnabled("shielded transactions are not enabled on this network")
        shielded.verify_block(payloads)
    return payloads


def check_transaction_against(state, tx):
    """Nonce and balance rules of applying `tx` now (PROTOCOL.md §7)."""
    acct = state.account(tx.sender)
    if tx.nonce != acct.nonce + 1:
        raise NonceMismatch("nonce %d, account expects %d" % (tx.nonce, acct.nonce + 1))
    if tx.spend_limit() > acct.balance:
        raise InsufficientBalance("needs %d LUX, holds %d" % (tx.spend_limit(), acct.balance))
    return acct


def apply_transaction(state, tx, height, shielded=None):
    """Apply one statically valid, signature-checked tx; returns (gas spent, fee). A shielded
    one needs the hook, begun on this state, with its proof already verified."""
    acct = check_transaction_against(state, tx)
    gas = GAS_COSTS[tx.kind]
    if tx.kind == KIND_SHIELDED:
        if shielded is None:
            raise ShieldedNotEnabled("shielded transactions are not enabled on this network")
        pub = tx.shielded_public()
        shielded.apply(state, tx.payload)
        state.put_account(Account(tx.sender, acct.balance - pub.public_in, tx.nonce))
        if pub.public_out:
            state.credit(tx.receiver, pub.public_out)
        return gas, pub.fee
    fee = gas * tx.gas_price
    state.put_account(Account(tx.sender, acct.balance - tx.value - tx.deposit - fee, tx.nonce))
    profile = state.profile
    if tx.kind == KIND_TRANSFER:
        if tx.value:
            state.credit(tx.receiver, tx.value)
    elif tx.kind == KIND_STAKE:
        new = stake_rules.apply_stake(state.stake(tx.account_pk), tx.sender, tx.deposit, height, profile)
        state.put_stake(tx.account_pk, new)
    elif tx.kind == KIND_UNSTAKE:
        new, paid = stake_rules.apply_unstake(state.stake(tx.account_pk), tx.sender, tx.amount, profile)
        state.put_stake(tx.account_pk, new)
        state.credit(tx.sender, paid)
    elif tx.kind == KIND_WITHDRAW:
        new, paid = stake_rules.apply_withdraw(state.stake(tx.account_pk), tx.sender, tx.amount)
        state.put_stake(tx.account_pk, new)
        state.credit(tx.sender, paid)
    return gas, fee


def check_block_shape(state, block):
    header = block.header
    profile = state.profile
    if header.version != profile.block_header_version:
        raise InvalidBlock("header version %d, expected %d" % (header.version, profile.block_header_version))
    if header.height != state.height + 1:
        raise InvalidBlock("block height %d does not follow the tip %d" % (header.height, state.height))
    if header.prev_block_hash != state.tip_hash:
        raise InvalidBlock("prev_block_hash does not name the tip")
    if len(block.transactions) > profile.max_transactions or len(block.faults) > profile.max_faults:
        raise InvalidBlock("too many transactions or faults")
    if len(block.encode()) > profile.max_block_size:
        raise InvalidBlock("block exceeds %d bytes" % profile.max_block_size)
    block.check_roots()
    seen = set()
    for tx in block.transactions:
        tx_id = tx.tx_id()
        if tx_id in seen:
            raise InvalidBlock("transaction included twice")
        seen.add(tx_id)
        check_transaction_static(tx, profile)


def verify_block_signatures(block, verifier):
    """All transaction signatures as one batch; raises BadSignature naming the transaction."""
    checks = []
    owners = []
    for index, tx in enumerate(block.transactions):
        for check in signature_checks(tx):
            checks.append(check)
            owners.append(index)
    if not checks:
        return
    bad = verifier.verify_batch(checks)
    if bad >= 0:
        raise BadSignature("transaction %d: bad signature" % owners[bad])


def _resolve_voters(block, voter_credits):
    if voter_credits is None:
        return []
    if callable(voter_credits):
        return list(voter_credits(block))
    return list(voter_credits)


def apply_rewards(state, block, fees, voters):
    """Credit the split of emission + fees; returns the RewardSplit."""
    height = block.header.height
    # a parent accepted without attestation (genesis, an emergency block) leaves no voters to pay
    if height > 1 and not voters and block.header.prev_block_cert.is_success():
        raise InvalidBlock("no voters for the block's prev_block_cert")
    p = state.profile
    split = compute_reward_split(height, fees, voters, p.validation_credits, p.ratification_credits)
    state.credit(state.dusk_fund, split.dusk_fund)
    _reward_stake(state, block.header.generator_bls_pubkey, split.generator + split.generator_extra)
    for pk, lux in split.voters:
        _reward_stake(state, pk, lux)
    state.set_total("total_emission", state.total_emission + emission(height))
    state.set_total("burned", state.burned + split.burned)
    return split


def _reward_stake(state, pk, lux):
    stake = state.stake(pk)
    if stake is None:
        stake = stake_rules.Stake(AccountKey(SCHEME_BLS, pk))
    state.put_stake(pk, stake_rules.apply_reward(stake, lux))


def apply_slashes(state, block, verifier, parent_hash_at, is_known_fault):
    """Soft slashes for failed iterations (NoCandidate, Invalid) and faults; returns events."""
    height = block.header.height
    header = block.header
    if len(header.failed_iterations) > min(header.iteration, state.profile.max_failed_iterations):
        raise InvalidBlock("%d failed iterations at iteration %d" % (len(header.failed_iterations), header.iteration))
    culprits = []
    for entry in header.failed_iterations:
        if entry is None:
            continue
        att = entry.attestation
        if att.result != RESULT_FAIL:
            raise InvalidBlock("failed_iterations holds a Success attestation")
        if att.vote.kind in (VOTE_NO_CANDIDATE, VOTE_INVALID):
            culprits.append(entry.generator)
    fault_ids = set()
    for fault in block.faults:
        if fault.fault_id() in fault_ids:
            raise InvalidBlock("fault included twice")
        fault_ids.add(fault.fault_id())
        check_fault(fault, height, state.profile.epoch_blocks, verifier.verify_multisig, parent_hash_at,
                    is_known_fault)
        culprits.append(fault.signer())
    events = []
    for pk in culprits:
        stake = state.stake(pk)
        if stake is None:
            continue
        new, locked = stake_rules.apply_soft_slash(stake, height, state.profile)
        state.put_stake(pk, new)
        events.append(("slash", pk, locked, new.eligibility))
    return events


def apply_block(state, block, verifier, voter_credits=None, check_state_hash=True, parent_hash_at=None,
                is_known_fault=None, dry_run=False, shielded=None):
    """Apply `block` to `state` fully, or raise and leave `state` unchanged.

    `verifier` has verify_batch([(scheme, key, msg, sig)]) -> index of the first bad one or -1,
    and verify_multisig(pk, msg, sig) -> bool. `voter_credits` is [(pk96, credits)] of the
    block's prev_block_cert, or a callable(block) returning it (sortition's job). With
    `dry_run` the state is rolled back after computing the receipt (a generator fills
    state_hash from it). `shielded` is the hook of shielded transactions (module comment), or None
    where they are not enabled. Raises InvalidTransaction / InvalidBlock subclasses (RemoteProtocolError).
    """
    check_block_shape(state, block)
    verify_block_signatures(block, verifier)
    hook = shielded if shielded_payloads(block, shielded) else None
    voters = _resolve_voters(block, voter_credits)
    height = block.header.height
    state.begin()
    if hook is not None:
        hook.begin(state)
    try:
        gas_spent = fees = 0
        for tx in block.transactions:
            gas, fee = apply_transaction(state, tx, height, hook)
            gas_spent += gas
            fees += fee
        if gas_spent > state.profile.block_gas_limit:
            raise InvalidBlock("block spends %d gas, limit %d" % (gas_spent, state.profile.block_gas_limit))
        split = apply_rewards(state, block, fees, voters)
        events = apply_slashes(state, block, verifier, parent_hash_at, is_known_fault)
        state.set_field("height", height)
        state.set_field("tip_hash", block.header.hash)
        new_hash = state.state_hash()
        if check_state_hash and new_hash != block.header.state_hash:
            raise StateHashMismatch("state_hash %s, header says %s" % (new_hash.hex(), block.header.state_hash.hex()))
    except Exception:  # noqa: BLE001 - whatever went wrong, the state must not keep half a block
        state.rollback()
        if hook is not None:
            hook.rollback()
        raise
    if dry_run:
        state.rollback()
        if hook is not None:
            hook.rollback()
    else:
        state.commit()
        if hook is not None:
            hook.commit()
    return BlockReceipt(height, gas_spent, fees, split, events, new_hash)
