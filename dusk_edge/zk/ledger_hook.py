"""Glue between the shielded pool and the ledger's State (dusk_edge/core/ledger/state.py).

Theory of operation. The ledger State already journals an append-only list of 32-byte note
commitments, a nullifier set and the `shielded_pool` total, and its state_hash covers all three. The
ShieldedPool (Poseidon tree, recent roots) is a deterministic function of those commitments, so the
ledger keeps the State as the record and a ShieldedPool beside it as the index the rules need:

    state.begin()
    undo = apply_shielded_to_state(state, pool, tx, verifier)   # pool rules, then mirror into State
    ... state.commit()   or   state.rollback(); revert_shielded_tx(pool, undo)

`pool_from_state(state)` rebuilds the pool after a restart or a snapshot load. The public side
(debit public_in from tx.account under its signature, credit public_out, route the fee) belongs to
the ledger's transaction type that carries the ShieldedTx bytes.
"""
from dusk_edge.core.errors import LocalProtocolError
from dusk_edge.zk import notes
from dusk_edge.zk.pool import ShieldedPool, apply_shielded_tx


def pool_from_state(state):
    """The ShieldedPool matching ``state.notes`` / ``state.nullifiers`` / ``state.shielded_pool``."""
    commitments = [notes.field_from_bytes(c) for c in state.notes]
    nullifiers = sorted(notes.field_from_bytes(n) for n in state.nullifiers)
    return ShieldedPool.rebuild(commitments, nullifiers, state.shielded_pool)


def apply_shielded_to_state(state, pool, tx, verifier=None):
    """Check ``tx`` on ``pool`` (with the proof unless ``verifier`` is None: already batch-checked),
    apply it there, and record its notes, nullifiers and pool total in ``state`` (journaled).

    Returns the pool's ShieldedUndo; raises a ShieldedTxError with neither changed.
    """
    if len(pool.tree) != len(state.notes):
        raise LocalProtocolError("shielded pool is out of step with the ledger state")
    undo = apply_shielded_tx(pool, tx, verifier)
    for commitment in tx.commitments:
        state.add_note(notes.field_to_bytes(commitment))
    for nullifier in tx.nullifiers:
        state.add_nullifier(notes.field_to_bytes(nullifier))
    state.set_total("shielded_pool", pool.balance)
    return undo
