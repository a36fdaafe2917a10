"""Note tree, notes, ShieldedTx codec and the pool rules, with a fake proof verifier (the real
verifier and real proofs are in test_zk_transfer.py)."""
import os
import random

import pytest
from hypothesis import given, settings, strategies as st

from dusk_edge.core.errors import ConfigError, RemoteProtocolError
from dusk_edge.zk import notes, tree
from dusk_edge.zk.pool import (
    DoubleSpend, InvalidProof, PoolUnderflow, ShieldedMempool, ShieldedPool, ShieldedTx, UnknownRoot,
    apply_shielded_block, apply_shielded_tx, check_shielded_tx, revert_shielded_tx)

R = notes.R


class FakeVerifier:
    """Accepts a proof unless its first byte is 0xff; counts calls."""

    def __init__(self):
        self.calls = 0
        self.batches = 0

    def verify(self, public_inputs, proof):
        self.calls += 1
        assert len(public_inputs) == 9
        return proof[0] != 0xFF

    def batch_verify(self, items):
        self.batches += 1
        return all(proof[0] != 0xFF for _, proof in items)


def make_tx(root, nf=None, public_in=0, public_out=0, fee=0, proof_byte=0, rng=random.Random(1)):
    nfs = nf or (rng.randrange(R), rng.randrange(R))
    return ShieldedTx(root, nfs, (rng.randrange(R), rng.randrange(R)), public_in, public_out, fee,
                      b"acct", (bytes(88), b"\x01" * 88), bytes([proof_byte]) + bytes(191))


# tree ---------------------------------------------------------------------------------------------


def test_tree_paths_lead_to_root_and_pop_restores():
    t = tree.NoteTree()
    empty_root = t.root
    t.extend([5, 6, 7])
    for position in range(3):
        assert tree.root_from_path(t.levels[0][position], position, t.path(position)) == t.root
    before = t.root
    t.extend([8, 9])
    assert t.root != before
    t.pop(2)
    assert t.root == before
    t.pop(3)
    assert t.root == empty_root and len(t) == 0


def test_tree_batch_append_equals_one_by_one():
    one = tree.NoteTree()
    for leaf in (1, 2, 3, 4, 5):
        one.extend([leaf])
    assert one.levels == tree.NoteTree([1, 2, 3, 4, 5]).levels


def test_tree_refuses_missing_leaf_path():
    with pytest.raises(Exception):
        tree.NoteTree([1]).path(1)


# notes --------------------------------------------------------------------------------------------


def test_note_ciphertext_opens_only_for_its_owner():
    alice, bob = notes.SpendingKey(os.urandom(32)), notes.SpendingKey(os.urandom(32))
    cm = notes.note_commitment(alice.owner, 42, 7)
    ct = notes.encrypt_note(alice.address, 42, 7, cm)
    assert len(ct) == notes.CIPHERTEXT_SIZE
    assert alice.decrypt_note(cm, ct) == (42, 7)
    assert bob.decrypt_note(cm, ct) is None
    assert alice.decrypt_note(cm + 1, ct) is None  # bound to the commitment
    assert alice.decrypt_note(cm, ct[:-1] + bytes([ct[-1] ^ 1])) is None


def test_nullifier_depends_on_secret_position_and_commitment():
    base = notes.nullifier(1, 2, 3)
    assert len({base, notes.nullifier(9, 2, 3), notes.nullifier(1, 9, 3), notes.nullifier(1, 2, 9)}) == 4


def test_bad_address_is_named():
    with pytest.raises(ConfigError):
        notes.parse_address(b"\x01" * 63)
    with pytest.raises(ConfigError):
        notes.parse_address(b"\xff" * 64)  # owner key not canonical


# codec --------------------------------------------------------------------------------------------

field = st.integers(min_value=0, max_value=R - 1)
u64 = st.integers(min_value=0, max_value=(1 << 64) - 1)


@settings(max_examples=60, deadline=None)
@given(field, st.tuples(field, field), st.tuples(field, field), u64, u64, u64,
       st.binary(max_size=96), st.tuples(st.binary(max_size=200), st.binary(max_size=200)),
       st.binary(min_size=192, max_size=192))
def test_tx_round_trip(root, nfs, cms, pin, pout, fee, account, cts, proof):
    tx = ShieldedTx(root, nfs, cms, pin, pout, fee, account, cts, proof)
    data = tx.to_bytes()
    assert ShieldedTx.from_bytes(data) == tx
    assert ShieldedTx.from_bytes(data).public_inputs() == tx.public_inputs()
    with pytest.raises(RemoteProtocolError):
        ShieldedTx.from_bytes(data + b"\0")
    with pytest.raises(RemoteProtocolError):
        ShieldedTx.from_bytes(data[:-1])


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=700))
def test_tx_decoder_fuzz(data):
    try:
        ShieldedTx.from_bytes(data)
    except RemoteProtocolError:
        pass


def test_tx_decoder_fuzz_mutations():
    good = make_tx(5).to_bytes()
    rng = random.Random(3)
    for _ in range(400):
        data = bytearray(good)
        for _ in range(rng.randrange(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        try:
            ShieldedTx.from_bytes(bytes(data))
        except RemoteProtocolError:
            pass


def test_noncanonical_field_element_is_rejected():
    data = bytearray(make_tx(5).to_bytes())
    data[1:33] = R.to_bytes(32, "big")
    with pytest.raises(RemoteProtocolError):
        ShieldedTx.from_bytes(bytes(data))


def test_binding_covers_account_and_ciphertexts():
    tx = make_tx(5)
    other = ShieldedTx(tx.root, tx.nullifiers, tx.commitments, 0, 0, 0, b"thief", tx.ciphertexts, tx.proof)
    swapped = ShieldedTx(tx.root, tx.nullifiers, tx.commitments, 0, 0, 0, tx.account,
                         tx.ciphertexts[::-1], tx.proof)
    assert len({tx.binding(), other.binding(), swapped.binding()}) == 3


# pool rules ---------------------------------------------------------------------------------------


def test_unknown_root_and_double_spend_and_underflow():
    pool, verifier = ShieldedPool(), FakeVerifier()
    with pytest.raises(UnknownRoot):
        check_shielded_tx(pool, make_tx(12345), verifier)
    with pytest.raises(DoubleSpend):
        check_shielded_tx(pool, make_tx(pool.tree.root, nf=(7, 7)), verifier)
    with pytest.raises(PoolUnderflow):
        check_shielded_tx(pool, make_tx(pool.tree.root, public_out=1), verifier)
    with pytest.raises(InvalidProof):
        check_shielded_tx(pool, make_tx(pool.tree.root, proof_byte=0xFF), verifier)
    assert verifier.calls == 1  # cheap rules ran before any proof check
    shield = make_tx(pool.tree.root, nf=(1, 2), public_in=10, fee=1)
    apply_shielded_tx(pool, shield, verifier)
    assert pool.balance == 9 and len(pool.tree) == 2
    with pytest.raises(DoubleSpend):
        apply_shielded_tx(pool, make_tx(pool.tree.root, nf=(3, 2)), verifier)


def test_revert_restores_sub_root():
    pool, verifier = ShieldedPool(), FakeVerifier()
    start = pool.sub_root()
    undo1 = apply_shielded_tx(pool, make_tx(pool.tree.root, public_in=5), verifier)
    middle = pool.sub_root()
    undo2 = apply_shielded_tx(pool, make_tx(pool.tree.root, public_out=2), verifier)
    assert len({start, middle, pool.sub_root()}) == 3
    revert_shielded_tx(pool, undo2)
    assert pool.sub_root() == middle
    revert_shielded_tx(pool, undo1)
    assert pool.sub_root() == start and not pool.nullifiers


def test_old_roots_stay_valid_for_a_window():
    pool, verifier = ShieldedPool(), FakeVerifier()
    first_root = pool.tree.root
    apply_shielded_tx(pool, make_tx(first_root, public_in=1), verifier)
    check_shielded_tx(pool, make_tx(first_root), verifier)  # an older root is still accepted


def test_mempool_reserves_nullifiers():
    pool, verifier, mempool = ShieldedPool(), FakeVerifier(), ShieldedMempool()
    mempool.admit(pool, make_tx(pool.tree.root, nf=(1, 2), public_in=3), verifier)
    with pytest.raises(DoubleSpend):
        mempool.admit(pool, make_tx(pool.tree.root, nf=(2, 4)), verifier)
    (taken,) = mempool.take()
    apply_shielded_block(pool, [taken], verifier)
    with pytest.raises(DoubleSpend):
        mempool.admit(pool, make_tx(pool.tree.root, nf=(5, 1)), verifier)


def test_block_is_all_or_nothing():
    pool, verifier = ShieldedPool(), FakeVerifier()
    root = pool.tree.root
    before = pool.sub_root()
    with pytest.raises(DoubleSpend):
        apply_shielded_block(pool, [make_tx(root, nf=(1, 2), public_in=1), make_tx(root, nf=(2, 3))], verifier)
    with pytest.raises(InvalidProof):
        apply_shielded_block(pool, [make_tx(root, public_in=1), make_tx(root, proof_byte=0xFF)], verifier)
    with pytest.raises(PoolUnderflow):  # second tx fails after the first applied: rolled back
        apply_shielded_block(pool, [make_tx(root, public_in=1), make_tx(root, public_out=5)], verifier)
    assert pool.sub_root() == before
    apply_shielded_block(pool, [make_tx(root, public_in=4), make_tx(root, public_out=3)], verifier)
    assert pool.balance == 1 and verifier.batches == 3


def test_rebuild_from_stored_state_matches_the_live_pool(monkeypatch):
    from dusk_edge.zk import pool as pool_module

    monkeypatch.setattr(pool_module, "ROOT_WINDOW", 4)
    live, verifier = ShieldedPool(), FakeVerifier()
    applied = []
    for i in range(7):
        tx = make_tx(live.tree.root, public_in=3 + i, fee=1)
        apply_shielded_tx(live, tx, verifier)
        applied.append(tx)
    commitments = [c for tx in applied for c in tx.commitments]
    nullifiers = [n for tx in applied for n in tx.nullifiers]
    rebuilt = ShieldedPool.rebuild(commitments, nullifiers, live.balance)
    assert rebuilt.sub_root() == live.sub_root()
    assert rebuilt.recent_roots == live.recent_roots and len(live.recent_roots) == 4


def test_ledger_state_hook_mirrors_and_rolls_back():
    from dusk_edge.core.ledger.state import State
    from dusk_edge.zk.ledger_hook import apply_shielded_to_state, pool_from_state
    from dusk_edge.zk.pool import revert_shielded_tx

    class Profile:
        chain_id = 0x45

    state, pool, verifier = State(Profile(), None), ShieldedPool(), FakeVerifier()
    state.begin()
    apply_shielded_to_state(state, pool, make_tx(pool.tree.root, public_in=9, fee=1), verifier)
    state.commit()
    committed_hash, committed_root = state.state_hash(), pool.tree.root
    assert state.shielded_pool == 8 and len(state.notes) == 2 and len(state.nullifiers) == 2
    state.begin()
    undo = apply_shielded_to_state(state, pool, make_tx(pool.tree.root, public_out=3), verifier)
    assert state.state_hash() != committed_hash
    state.rollback()
    revert_shielded_tx(pool, undo)
    assert state.state_hash() == committed_hash and pool.tree.root == committed_root
    rebuilt = pool_from_state(state)
    assert rebuilt.tree.root == pool.tree.root and rebuilt.nullifiers == pool.nullifiers
    assert rebuilt.balance == 8 and rebuilt.recent_roots == pool.recent_roots
    with pytest.raises(DoubleSpend):  # the State is untouched when the pool rules refuse
        apply_shielded_to_state(state, pool, make_tx(pool.tree.root, nf=tuple(pool.nullifiers)), verifier)
    assert state.state_hash() == committed_hash
