"""Glue between the shielded pool and the ledger's State (dusk_edge/core/ledger/state.py).

Theory of operation. The ledger State already journals an append-only list of 32-byte note
commitments, a nullifier set and the `shielded_pool` total, and its state_hash covers all three. The
ShieldedPool (Poseidon tree, recent roots) is a deterministic function of those commitments, so the
ledger keeps the State as the record and a ShieldedPool beside it as the index the rules need:

    state.begin()
    undo = apply_shielded_to_state(state, pool, tx, verifier)   # pool rules, then mirror into State
    ... state.commit()   or   state.rollback(); revert_shielded_tx(pool, undo)

`pool_from_state(state)` rebuilds the pool after a restart or a snapshot load.

`ShieldedLedger` is that pattern as the duck-typed hook the core ledger takes (execution.py,
mempool.py): the node builds it from the genesis verifying key (`shielded_hook_from_genesis`). It
also keeps what the State does not: each output's note ciphertext (wallets scan them) and the
note count after each block with shielded transactions (so wallets can tell final notes from
pending ones). Every entry point first `sync`s to the State it is handed: a State the hook has
not seen (the chain rebuilt it to revert its tip) keeps the outputs it shares with the old one
and gets a pool rebuilt from its notes.
"""
import hashlib

from dusk_edge.core.errors import DecodeError, LocalProtocolError
from dusk_edge.zk import notes
from dusk_edge.zk.pool import (
    ROOT_WINDOW,
    DoubleSpend,
    InvalidProof,
    ShieldedPool,
    ShieldedTx,
    ShieldedTxError,
    apply_shielded_tx,
    check_shielded_tx_rules,
    refuse_repeated_nullifiers,
    revert_shielded_tx,
    verify_proofs,
)

VERIFIED_CACHE = 4096  # payload digests whose proofs verified (mempool, then block: verify once)


class MalformedShieldedTx(ShieldedTxError):
    """The payload of a shielded ledger transaction is not a ShieldedTx."""


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


def decode_payload(payload):
    try:
        return ShieldedTx.from_bytes(payload)
    except DecodeError as exc:
        raise MalformedShieldedTx("shielded payload: %s" % exc) from None


class ShieldedLedger:
    """The ledger's shielded hook: pool index, proof checks, outputs for wallets."""

    def __init__(self, verifier):
        self.verifier = verifier  # TransferVerifier of the genesis key
        self.pool = ShieldedPool()
        self.outputs = []  # (commitment bytes, ciphertext) in note order
        self.counts = []  # (height, note count after it), blocks with shielded transactions
        self._state = None
        self._open = None  # undo list of the block being applied
        self._verified = {}

    # sync ---------------------------------------------------------------------------------
    def sync(self, state):
        """Follow ``state`` (see the module comment); returns the pool."""
        if state is self._state and len(self.pool.tree) == len(state.notes):
            return self.pool
        keep = 0
        limit = min(len(self.outputs), len(state.notes))
        while keep < limit and self.outputs[keep][0] == state.notes[keep]:
            keep += 1
        del self.outputs[keep:]
        self.outputs.extend((cm, b"") for cm in state.notes[keep:])  # ciphertexts we never saw
        self.counts = [(h, n) for h, n in self.counts if h <= state.height and n <= len(state.notes)]
        self.pool = pool_from_state(state)
        self._state = state
        return self.pool

    # proofs -------------------------------------------------------------------------------
    def _digest(self, payload):
        return hashlib.sha256(payload).digest()

    def _remember(self, payload):
        if len(self._verified) >= VERIFIED_CACHE:
            self._verified.clear()
        self._verified[self._digest(payload)] = True

    def verify_block(self, payloads):
        """Decode a block's payloads, refuse a nullifier used twice, batch-verify the proofs not
        verified before (one-by-one only to name a bad one). Raises ShieldedTxError."""
        txs = [decode_payload(p) for p in payloads]
        refuse_repeated_nullifiers(txs)
        todo = [(i, tx) for i, tx in enumerate(txs) if self._digest(payloads[i]) not in self._verified]
        if not todo:
            return
        verify_proofs(self.verifier, todo)
        for index, _ in todo:
            self._remember(payloads[index])

    # mempool ------------------------------------------------------------------------------
    def check_pending(self, state, payload, reserved):
        """Pool rules against ``state`` and the ``reserved`` nullifiers, then the proof; returns
        the nullifiers (32-byte) the pending transaction reserves."""
        pool = self.sync(state)
        tx = decode_payload(payload)
        keys = [notes.field_to_bytes(n) for n in tx.nullifiers]
        if any(k in reserved for k in keys):
            raise DoubleSpend("nullifier already pending in the mempool")
        check_shielded_tx_rules(pool, tx)
        if self._digest(payload) not in self._verified:
            if not self.verifier.verify(tx.public_inputs(), tx.proof):
                raise InvalidProof("shielded proof does not verify")
            self._remember(payload)
        return keys

    def is_stale(self, state, payload):
        """True when a pending transaction can no longer apply (spent nullifier, old root)."""
        pool = self.sync(state)
        try:
            check_shielded_tx_rules(pool, decode_payload(payload))
        except ShieldedTxError:
            return True
        return False

    # block application (inside the State's journal) ---------------------------------------
    def begin(self, state):
        if self._open is not None:
            raise LocalProtocolError("shielded hook: a block is already open")
        self.sync(state)
        self._open = []

    def apply(self, state, payload):
        """Apply one transaction whose proof verify_block checked."""
        if self._open is None or state is not self._state:
            raise LocalProtocolError("shielded hook: apply outside begin() on this state")
        tx = decode_payload(payload)
        undo = apply_shielded_to_state(state, self.pool, tx, None)
        self._open.append(undo)
        self.outputs.extend(zip((notes.field_to_bytes(c) for c in tx.commitments), tx.ciphertexts))

    def commit(self):
        self._open = None
        state = self._state
        if self.counts and self.counts[-1][0] >= state.height:
            self.counts = [(h, n) for h, n in self.counts if h < state.height]
        self.counts.append((state.height, len(state.notes)))

    def rollback(self):
        undos, self._open = self._open or [], None
        for undo in reversed(undos):
            revert_shielded_tx(self.pool, undo)
            del self.outputs[len(self.outputs) - undo.leaves:]

    # wallets ------------------------------------------------------------------------------
    def notes_at(self, height):
        """How many notes existed after block ``height``."""
        count = 0
        for h, n in self.counts:
            if h > height:
                break
            count = n
        return count

    def sync_info(self, state, start, limit, final_height, nullifiers=()):
        """What a wallet needs from ``start``: outputs, recent roots, final note count, which of
        ``nullifiers`` (32-byte) are spent."""
        pool = self.sync(state)
        end = min(len(self.outputs), start + limit)
        return {
            "start": start, "total": len(self.outputs), "height": state.height,
            "final_height": final_height, "final_total": self.notes_at(final_height),
            "outputs": [[cm.hex(), ct.hex()] for cm, ct in self.outputs[start:end]],
            "roots": [notes.field_to_bytes(r).hex() for r in pool.recent_roots[-ROOT_WINDOW:]],
            "spent": [n.hex() for n in nullifiers if n in state.nullifiers],
            "pool_balance": pool.balance,
        }


def shielded_hook_from_genesis(spec):
    """The node's ShieldedLedger when the genesis fixes a transfer verifying key, else None."""
    vk = spec.zk_verifying_keys.get("transfer")
    if vk is None:
        return None
    from dusk_edge.zk.verifier import TransferVerifier

    return ShieldedLedger(TransferVerifier(vk))
