"""Stakes (§6 rules), rewards and emission, soft slashing from failed iterations and faults."""
import pytest

from dusk_edge.core.consensus.attestation import (
    RESULT_FAIL,
    VOTE_INVALID,
    VOTE_NO_CANDIDATE,
    VOTE_NO_QUORUM,
    VOTE_VALID,
    Attestation,
    ConsensusHeader,
    FailedIteration,
    Vote,
)
from dusk_edge.core.ledger import execution, stakes
from dusk_edge.core.ledger.faults import (
    FAULT_DOUBLE_CANDIDATE,
    FAULT_DOUBLE_RATIFICATION_VOTE,
    FAULT_DOUBLE_VALIDATION_VOTE,
    Fault,
    FaultData,
    InvalidFault,
    check_fault,
    signed_message,
)
from dusk_edge.core.ledger.profile import DUSK, NetworkProfile
from dusk_edge.core.ledger.rewards import compute_reward_split, emission
from dusk_edge.core.ledger.transactions import AccountKey
from dusk_edge.core.ledger.tx_builder import build_stake, build_unstake, build_withdraw
from dusk_edge.crypto import bls
from tests.test_ledger_support import (
    VERIFIER,
    apply,
    ed_signer,
    make_block,
    new_chain,
    provisioner_signer,
)

pytestmark = pytest.mark.twin
CHAIN = 0x41
OWNER = AccountKey(1, b"\x01" * 32)


def test_epochs_and_eligibility_dusk_and_devnet():
    dusk = NetworkProfile.dusk()
    assert dusk.next_epoch(0) == 2160 and dusk.next_epoch(2159) == 2160 and dusk.next_epoch(2160) == 4320
    assert dusk.stake_eligibility(1) == 4320
    dev = NetworkProfile.devnet()
    assert dev.next_epoch(5) == 20 and dev.stake_eligibility(5) == 40 and dev.stake_eligibility(20) == 60


def test_stake_rules():
    p = NetworkProfile.dusk()
    with pytest.raises(stakes.StakeRuleViolation, match="minimum"):
        stakes.apply_stake(None, OWNER, 999 * DUSK, 5, p)
    s = stakes.apply_stake(None, OWNER, 1000 * DUSK, 5, p)
    assert (s.value, s.locked, s.eligibility) == (1000 * DUSK, 0, 4320)
    # top-up before eligibility: no lock
    s2 = stakes.apply_stake(s, OWNER, 100 * DUSK, 10, p)
    assert (s2.value, s2.locked) == (1100 * DUSK, 0)
    # top-up of an eligible stake: 10 % locked
    s3 = stakes.apply_stake(s2, OWNER, 100 * DUSK + 7, 5000, p)
    assert s3.locked == (100 * DUSK + 7) // 10 and s3.value == 1100 * DUSK + 100 * DUSK + 7 - s3.locked
    with pytest.raises(stakes.StakeRuleViolation, match="another owner"):
        stakes.apply_stake(s3, AccountKey(1, b"\x02" * 32), DUSK, 5000, p)
    # partial unstake must leave the minimum; full unstake releases locked too
    with pytest.raises(stakes.StakeRuleViolation, match="minimum"):
        stakes.apply_unstake(s3, OWNER, s3.value - 999 * DUSK, p)
    s4, paid = stakes.apply_unstake(s3, OWNER, 10 * DUSK, p)
    assert paid == 10 * DUSK and s4.value == s3.value - 10 * DUSK
    s5, paid = stakes.apply_unstake(s4, OWNER, s4.value, p)
    assert paid == s4.value + s4.locked and s5.value == 0 and s5.locked == 0
    with pytest.raises(stakes.StakeRuleViolation):
        stakes.apply_unstake(s5, OWNER, 1, p)
    with pytest.raises(stakes.StakeRuleViolation, match="owner"):
        stakes.apply_withdraw(s5.copy(reward=5), AccountKey(1, b"\x02" * 32), 1)
    s6, paid = stakes.apply_withdraw(s5.copy(reward=5), OWNER, 5)
    assert paid == 5 and s6.reward == 0


def test_soft_slash_warning_then_suspension_and_lock_and_reward_clears():
    p = NetworkProfile.dusk()
    s = stakes.Stake(OWNER, value=2000 * DUSK, eligibility=0)
    s1, locked = stakes.apply_soft_slash(s, 100, p)
    assert (s1.faults, locked, s1.eligibility, s1.value) == (1, 0, 0, s.value)  # one warning
    s2, locked = stakes.apply_soft_slash(s1, 100, p)
    assert locked == 2000 * DUSK // 100 * 10 and s2.locked == locked and s2.eligibility == 2160 + 2160
    s3, locked3 = stakes.apply_soft_slash(s2, 2200, p)
    assert locked3 == s2.value // 100 * 20 and s3.eligibility == 4320 + 2 * 2160
    assert stakes.apply_reward(s3, 1).faults == 0
    h, burned = stakes.apply_hard_slash(s, 100, 2, p)
    assert burned == 2000 * DUSK // 100 * 20 and h.hard_faults == 2 and h.eligibility == 2160 + 4320


def test_emission_schedule_inclusive_ranges():
    assert emission(0) == 0
    assert emission(1) == emission(12614400) == 19857400000
    assert emission(12614401) == 9928700000
    assert emission(113529596) == 77570000 and emission(113529597) == 54280000 and emission(113529598) == 0


def test_reward_split_exact():
    r = 19857400000 + 12345
    full = compute_reward_split(7, 12345, [(b"a", 64), (b"b", 64)])
    assert full.dusk_fund == r // 10 and full.generator_extra == r // 10
    assert full.voters == [(b"a", (r // 10) // 128 * 64), (b"b", (r // 10) // 128 * 64)]
    assert full.generator == r - 3 * (r // 10)
    assert full.paid() == r and full.burned == r // 10 - (r // 10) // 128 * 128
    part = compute_reward_split(7, 12345, [(b"a", 90)])
    assert part.generator_extra == ((r // 10) // 42) * 4 and part.paid() == r
    low = compute_reward_split(7, 12345, [(b"a", 86)])
    assert low.generator_extra == 0 and low.paid() == r


def test_stake_through_blocks_with_both_signatures():
    state, _ = new_chain()
    owner, consensus = ed_signer(0), provisioner_signer(20)
    tx = build_stake(owner, consensus, 1500 * DUSK, 1, CHAIN)
    apply(state, make_block(state, [tx]))
    s = state.stake(consensus.public_key)
    assert s.value == 1500 * DUSK and s.eligibility == state.profile.stake_eligibility(1) == 40
    assert all(p[0] != consensus.public_key for p in state.get_provisioners(39))
    assert any(p[0] == consensus.public_key for p in state.get_provisioners(40))
    # the consensus key's signature is checked: a stake signed by another BLS key fails
    bad = build_stake(owner, consensus, 1500 * DUSK, 2, CHAIN)
    bad.account_sig = bls.sign(bls.secret_key_from_int(5), bad.stake_message())
    from dusk_edge.core.ledger.tx_builder import sign_transaction

    sign_transaction(bad, owner)
    with pytest.raises(execution.BadSignature):
        make_block(state, [bad])
    bad2 = build_stake(owner, consensus, 1500 * DUSK, 2, CHAIN)
    bad2.owner_sig = ed_signer(1).sign(bad2.stake_message())
    sign_transaction(bad2, owner)
    with pytest.raises(execution.BadSignature):
        make_block(state, [bad2])
    before = state.balance(owner.account_key)
    apply(state, make_block(state, [build_unstake(owner, consensus.public_key, 1500 * DUSK, 2, CHAIN)]))
    assert state.balance(owner.account_key) == before + 1500 * DUSK - execution.GAS_COSTS[2]
    assert state.check_supply()


def test_rewards_reach_generator_voters_and_fund_and_can_be_withdrawn():
    state, _ = new_chain()
    gen = provisioner_signer(0).public_key
    voter = provisioner_signer(1).public_key
    apply(state, make_block(state, voters=[(voter, 128)]))
    r = emission(1)
    assert state.stake(gen).reward == r - 3 * (r // 10) + r // 10
    assert state.stake(voter).reward == (r // 10) // 128 * 128
    assert state.balance(state.dusk_fund) == r // 10
    owner = ed_signer(61)  # genesis owner of provisioner 1
    state.credit(owner.account_key, 10**9)  # gas money, outside a block for brevity
    state.genesis_supply += 10**9
    amount = state.stake(voter).reward
    apply(state, make_block(state, [build_withdraw(owner, voter, amount, 1, CHAIN)], voters=[(voter, 100)]))
    assert state.balance(owner.account_key) == 10**9 + amount - execution.GAS_COSTS[3]
    assert state.check_supply()


def fail_entry(vote, generator):
    return FailedIteration(Attestation(RESULT_FAIL, vote), generator)


def test_failed_iterations_soft_slash_the_generators():
    state, _ = new_chain()
    g0, g1 = provisioner_signer(0).public_key, provisioner_signer(1).public_key
    failed = [fail_entry(Vote(VOTE_NO_CANDIDATE), g1), None, fail_entry(Vote(VOTE_NO_QUORUM), g0)]
    receipt = apply(state, make_block(state, failed_iterations=failed, generator=g0,
                                      voters=[(g0, 128)]))
    assert state.stake(g1).faults == 1 and state.stake(g0).faults == 0  # NoQuorum slashes nobody
    assert receipt.events == [("slash", g1, 0, 0)]
    failed = [fail_entry(Vote(VOTE_INVALID, b"\x01" * 32), g1)]
    receipt = apply(state, make_block(state, failed_iterations=failed, generator=g0, voters=[(g0, 128)]))
    value = 2000 * DUSK
    assert state.stake(g1).faults == 2 and state.stake(g1).locked == value // 100 * 10
    assert state.stake(g1).eligibility == state.profile.next_epoch(2) + state.profile.epoch_blocks
    assert receipt.events[0][2] == value // 100 * 10
    assert state.check_supply()


def vote_fault(kind, signer_index, rnd, prev, votes):
    sk = bls.secret_key_from_int(1000 + 100 + signer_index)
    pk = bls.public_key(sk)
    header = ConsensusHeader(prev, rnd, 1)
    datas = []
    for vote in votes:
        fd = FaultData(header, pk, bytes(48), vote)
        fd.signature = bls.sign_multisig(sk, signed_message(kind, fd), pk)
        datas.append(fd)
    return Fault(kind, datas[0], datas[1])


def test_fault_rules():
    prev = b"\x05" * 32
    v = VERIFIER.verify_multisig
    good = vote_fault(FAULT_DOUBLE_VALIDATION_VOTE, 1, 10, prev, [Vote(VOTE_VALID, b"\x01" * 32), Vote(VOTE_NO_CANDIDATE)])
    check_fault(good, 12, 20, v)
    rat = vote_fault(FAULT_DOUBLE_RATIFICATION_VOTE, 1, 10, prev, [Vote(VOTE_VALID, b"\x01" * 32), Vote(VOTE_NO_QUORUM)])
    check_fault(rat, 12, 20, v, parent_hash_at=lambda h: prev, is_known_fault=lambda i: False)
    cand = vote_fault(FAULT_DOUBLE_CANDIDATE, 1, 10, prev, [b"\x01" * 32, b"\x02" * 32])
    check_fault(cand, 12, 20, v)
    with pytest.raises(InvalidFault, match="same data"):
        check_fault(vote_fault(FAULT_DOUBLE_CANDIDATE, 1, 10, prev, [b"\x01" * 32] * 2), 12, 20, v)
    with pytest.raises(InvalidFault, match="round"):
        check_fault(good, 31, 20, v)  # older than one epoch
    with pytest.raises(InvalidFault, match="round"):
        check_fault(good, 9, 20, v)  # from the future
    with pytest.raises(InvalidFault, match="round"):
        check_fault(vote_fault(FAULT_DOUBLE_CANDIDATE, 1, 0, prev, [b"\x01" * 32, b"\x02" * 32]), 1, 20, v)
    with pytest.raises(InvalidFault, match="build"):
        check_fault(good, 12, 20, v, parent_hash_at=lambda h: bytes(32))
    with pytest.raises(InvalidFault, match="already"):
        check_fault(good, 12, 20, v, is_known_fault=lambda i: i == good.fault_id())
    forged = vote_fault(FAULT_DOUBLE_VALIDATION_VOTE, 1, 10, prev, [Vote(VOTE_VALID, b"\x01" * 32), Vote(VOTE_NO_CANDIDATE)])
    forged.second.signature = good.first.signature
    with pytest.raises(InvalidFault, match="signature"):
        check_fault(forged, 12, 20, v)
    other = vote_fault(FAULT_DOUBLE_VALIDATION_VOTE, 2, 10, prev, [Vote(VOTE_NO_CANDIDATE), Vote(VOTE_NO_QUORUM)])
    mixed = Fault(FAULT_DOUBLE_VALIDATION_VOTE, good.first, other.second)
    with pytest.raises(InvalidFault, match="signers"):
        check_fault(mixed, 12, 20, v)
    shifted = vote_fault(FAULT_DOUBLE_VALIDATION_VOTE, 1, 11, prev, [Vote(VOTE_NO_CANDIDATE), Vote(VOTE_NO_QUORUM)])
    with pytest.raises(InvalidFault, match="differ"):
        check_fault(Fault(FAULT_DOUBLE_VALIDATION_VOTE, good.first, shifted.second), 12, 20, v)


def test_fault_in_block_slashes_the_signer_and_bad_fault_rejects_block():
    state, _ = new_chain()
    for _ in range(2):
        apply(state, make_block(state))
    fault = vote_fault(FAULT_DOUBLE_VALIDATION_VOTE, 1, 2, b"\x05" * 32,
                       [Vote(VOTE_VALID, b"\x01" * 32), Vote(VOTE_NO_CANDIDATE)])
    block, voters = make_block(state, faults=[fault])
    parents = {1: None, 2: None}
    known = set()
    with pytest.raises(InvalidFault, match="build"):
        state.apply_block(block, VERIFIER, voters, parent_hash_at=lambda h: parents.get(h),
                          is_known_fault=known.__contains__)
    parents[1] = b"\x05" * 32
    state.apply_block(block, VERIFIER, voters, parent_hash_at=lambda h: parents.get(h), is_known_fault=known.__contains__)
    assert state.stake(provisioner_signer(1).public_key).faults == 1
    bad = vote_fault(FAULT_DOUBLE_VALIDATION_VOTE, 1, 3, b"\x05" * 32, [Vote(VOTE_NO_QUORUM), Vote(VOTE_NO_QUORUM)])
    before = state.state_hash()
    with pytest.raises(InvalidFault):
        make_block(state, faults=[bad])
    assert state.state_hash() == before


def test_get_provisioners_filters_and_orders():
    state, _ = new_chain(provisioners=3)
    provs = state.get_provisioners(0)
    assert [p[0] for p in provs] == sorted(p[0] for p in provs) and len(provs) == 3
    assert all(value >= 1000 * DUSK and since <= 0 for _, value, since in provs)


def test_failed_iterations_beyond_the_iteration_and_duplicate_faults_are_invalid():
    state, _ = new_chain()
    g1 = provisioner_signer(1).public_key
    entries = [fail_entry(Vote(VOTE_NO_CANDIDATE), g1)] * 2
    before = state.state_hash()
    with pytest.raises(execution.InvalidBlock, match="failed iterations"):
        make_block(state, failed_iterations=entries, iteration=1)
    for _ in range(2):
        apply(state, make_block(state))
    fault = vote_fault(FAULT_DOUBLE_VALIDATION_VOTE, 1, 2, b"\x05" * 32,
                       [Vote(VOTE_VALID, b"\x01" * 32), Vote(VOTE_NO_CANDIDATE)])
    before = state.state_hash()
    with pytest.raises(execution.InvalidBlock, match="twice"):
        make_block(state, faults=[fault, fault])
    assert state.state_hash() == before
