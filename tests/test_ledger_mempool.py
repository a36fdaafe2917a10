"""Mempool (PROTOCOL.md §7): checks, nonce gaps, replacement, capacity eviction, expiry, ledger dups."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dusk_edge.core.errors import RemoteProtocolError
from dusk_edge.core.ledger import execution
from dusk_edge.core.ledger.mempool import (
    AlreadyInLedger,
    DuplicateTransaction,
    Mempool,
    MempoolFull,
    ReplacementUnderpriced,
)
from dusk_edge.core.ledger.profile import DUSK
from dusk_edge.core.ledger.tx_builder import build_transfer
from tests.test_ledger_support import VERIFIER, apply, ed_signer, make_block, new_chain

pytestmark = pytest.mark.twin
CHAIN = 0x41
RX = ed_signer(9).account_key


def tx(i, nonce, price=1, limit=150000, value=1, chain=CHAIN, memo=b""):
    return build_transfer(ed_signer(i), RX, value, nonce, chain, gas_limit=limit, gas_price=price, memo=memo)


def pool(capacity=100, in_ledger=None):
    state, _ = new_chain()
    return state, Mempool(state.profile, VERIFIER, capacity=capacity, is_in_ledger=in_ledger)


def test_capacity_comes_from_the_profile_or_board():
    state, _ = new_chain()
    assert Mempool(state.profile, VERIFIER).capacity == state.profile.mempool_max_txs == 10000
    from dusk_edge.boards import load_board

    board = load_board("pi4")
    assert Mempool.for_board(state.profile, VERIFIER, board).capacity == board["caps"]["mempool_max_txs"]


def test_stateless_and_state_checks_are_named():
    state, mp = pool()
    with pytest.raises(execution.WrongChainId):
        mp.add(tx(0, 1, chain=0x40), state, 0)
    with pytest.raises(execution.GasTooLow):
        mp.add(tx(0, 1, limit=149999), state, 0)
    with pytest.raises(execution.GasTooLow):
        mp.add(tx(0, 1, price=0), state, 0)
    with pytest.raises(execution.InsufficientBalance):
        mp.add(tx(0, 1, value=10**7 * DUSK), state, 0)
    forged = tx(0, 1)
    forged.signature = bytes(64)
    forged._encoded = None
    with pytest.raises(execution.BadSignature):
        mp.add(forged, state, 0)
    with pytest.raises(execution.OversizeTransaction):
        mp.add(tx(0, 1, memo=bytes(1048576)), state, 0)
    assert len(mp) == 0


def test_duplicates_nonce_reuse_and_ledger_duplicates():
    state, _ = new_chain()
    first = tx(0, 1)
    apply(state, make_block(state, [first]))
    mp = Mempool(state.profile, VERIFIER, is_in_ledger=lambda tx_id: tx_id == first.tx_id())
    with pytest.raises(AlreadyInLedger):
        mp.add(first, state, 0)
    with pytest.raises(execution.NonceMismatch, match="already used"):
        mp.add(tx(0, 1, price=5), state, 0)
    second = tx(0, 2)
    mp.add(second, state, 0)
    with pytest.raises(DuplicateTransaction):
        mp.add(second, state, 0)
    with pytest.raises(execution.NonceMismatch, match="ahead"):
        mp.add(tx(0, 2 + 65), state, 0)


def test_nonce_gaps_are_held_until_filled():
    state, mp = pool()
    mp.add(tx(0, 3), state, 0)
    mp.add(tx(0, 2), state, 0)
    assert mp.select(state) == []
    mp.add(tx(0, 1), state, 0)
    assert [t.nonce for t in mp.select(state)] == [1, 2, 3]


def test_replacement_rule():
    state, mp = pool()
    base = tx(0, 1, price=5, limit=200000)
    mp.add(base, state, 0)
    for price, limit in ((4, 900000), (5, 200000), (5, 199999)):
        with pytest.raises(ReplacementUnderpriced):
            mp.add(tx(0, 1, price=price, limit=limit, value=2), state, 0)
    same_price_more_gas = tx(0, 1, price=5, limit=200001)
    assert mp.add(same_price_more_gas, state, 0) == [base]
    higher = tx(0, 1, price=6, limit=150000)
    assert mp.add(higher, state, 0) == [same_price_more_gas]
    assert len(mp) == 1 and mp.select(state) == [higher]


def test_capacity_evicts_the_lowest_fee():
    state, mp = pool(capacity=3)
    low = tx(0, 1, price=2)
    mp.add(low, state, 0)
    mp.add(tx(1, 1, price=5), state, 0)
    mp.add(tx(2, 1, price=7), state, 0)
    with pytest.raises(MempoolFull):
        mp.add(tx(3, 1, price=2), state, 0)
    assert mp.add(tx(3, 1, price=3), state, 0) == [low]
    assert low.tx_id() not in mp and len(mp) == 3


def test_expiry_uses_now():
    state, mp = pool()
    mp.add(tx(0, 1), state, 1000)
    mp.add(tx(1, 1), state, 5000)
    expiry = state.profile.mempool_expiry_ms
    assert mp.expire(1000 + expiry - 1) == []
    assert [t.nonce for t in mp.expire(1000 + expiry)] == [1] and len(mp) == 1


def test_select_orders_by_price_respects_nonce_order_and_limits():
    state, mp = pool()
    mp.add(tx(0, 1, price=1), state, 0)
    mp.add(tx(0, 2, price=9), state, 0)
    mp.add(tx(1, 1, price=5), state, 0)
    mp.add(tx(2, 1, price=3), state, 0)
    picked = mp.select(state)
    assert [(t.sender, t.nonce) for t in picked] == [
        (ed_signer(1).account_key, 1), (ed_signer(2).account_key, 1), (ed_signer(0).account_key, 1),
        (ed_signer(0).account_key, 2)]
    assert len(mp.select(state, max_txs=2)) == 2
    assert len(mp.select(state, gas_budget=300000)) == 2


def test_on_block_drops_included_and_stale():
    state, mp = pool()
    a1, a2, b1 = tx(0, 1), tx(0, 2), tx(1, 1)
    for t in (a1, a2, b1):
        mp.add(t, state, 0)
    other_a1 = tx(0, 1, value=77)  # a competing nonce-1 tx made it into the block instead
    block_and_voters = make_block(state, [other_a1])
    apply(state, block_and_voters)
    mp.on_block(block_and_voters[0], state)
    assert a1.tx_id() not in mp and a2.tx_id() in mp and b1.tx_id() in mp
    assert [t.nonce for t in mp.select(state) if t.sender == ed_signer(0).account_key] == [2]


def test_selected_transactions_make_a_valid_block():
    state, mp = pool()
    for i in range(4):
        for n in range(1, 4):
            mp.add(tx(i, n, price=1 + (i * n) % 4), state, 0)
    picked = mp.select(state)
    assert len(picked) == 12
    apply(state, make_block(state, picked))
    assert state.check_supply()


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(1, 6), st.integers(1, 6), st.integers(0, 2)),
                max_size=40))
def test_random_operations_keep_the_pool_consistent(ops):
    state, mp = pool(capacity=8)
    now = 0
    for sender, nonce, price, extra_gas in ops:
        now += 1000
        try:
            mp.add(tx(sender, nonce, price=price, limit=150000 + extra_gas), state, now)
        except RemoteProtocolError:
            pass
        assert len(mp) <= 8
    picked = mp.select(state)
    by_sender = {}
    for t in picked:
        by_sender.setdefault(t.sender, []).append(t.nonce)
    for nonces in by_sender.values():
        assert nonces == list(range(1, len(nonces) + 1))  # unbroken runs from account nonce + 1
    assert len(set(t.tx_id() for t in picked)) == len(picked)
    if picked:
        block_and_voters = make_block(state, picked)
        apply(state, block_and_voters)
        mp.on_block(block_and_voters[0], state)
        assert all(t.tx_id() not in mp for t in picked)
