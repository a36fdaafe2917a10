"""The wallet's view of a node (NodeLedger): paging through outputs, final-only scanning, spent
marks, and a node that moved mid-sync. The node side is the real ShieldedLedger.sync_info over a
real ledger State (proofs by the stand-in of test_ledger_shielded: none are checked here)."""
import pytest

from dusk_edge.core.ledger.tx_builder import build_shielded
from dusk_edge.zk import notes
from dusk_edge.zk.pool import ShieldedTx
from dusk_edge.zk.wallet import NodeLedger, NodeOutOfStep, Wallet
from tests.test_ledger_shielded import ALICE, CHAIN, FEE, apply, chain


def note_for(wallet, value, rng_byte):
    blinding = int.from_bytes(bytes([rng_byte]) * 31, "big")
    cm = notes.note_commitment(wallet.key.owner, value, blinding)
    return cm, notes.encrypt_note(wallet.key.address, value, blinding, cm)


def shield_notes(state, hook, wallet, values, nonce, nfs):
    (cm0, ct0), (cm1, ct1) = (note_for(wallet, v, nonce * 10 + i) for i, v in enumerate(values))
    stx = ShieldedTx(hook.sync(state).tree.root, nfs, (cm0, cm1), sum(values) + FEE, 0, FEE,
                     ALICE.account_key.encode(), (ct0, ct1), bytes(192))
    apply(state, hook, [build_shielded(ALICE, stx.to_bytes(), nonce, CHAIN)])


class Node:
    """The wallet's socket calls answered by the hook, with a settable final height."""

    def __init__(self, state, hook):
        self.state, self.hook, self.final_height, self.calls, self.drop_roots = state, hook, 0, 0, False

    def query(self, socket_path, cmd, timeout=None, start=0, limit=256, nullifiers=()):
        assert cmd == "shielded_sync"
        self.calls += 1
        info = self.hook.sync_info(self.state, start, limit, self.final_height,
                                   [bytes.fromhex(n) for n in nullifiers])
        if self.drop_roots:
            info["roots"] = info["roots"][:-1]
        return info


def test_wallet_scans_final_notes_pages_and_sees_spends():
    state, hook = chain()
    me = Wallet.create("x")
    shield_notes(state, hook, me, (300, 0), 1, (1, 2))
    shield_notes(state, hook, me, (50, 7), 2, (3, 4))
    node = Node(state, hook)
    ledger = NodeLedger("sock", query=node.query)
    ledger.BATCH = 3  # two pages of outputs
    node.final_height = 1
    ledger.sync(me.unspent_nullifiers())
    me.scan(ledger.final_outputs(), ledger.spent)
    assert len(ledger.outputs) == 4 and ledger.final_total == 2 and node.calls == 2
    assert ledger.tree.root == hook.pool.tree.root
    assert me.shielded_balance() == 300  # the second block is not final yet
    node.final_height = 2
    ledger.sync(me.unspent_nullifiers())
    me.scan(ledger.final_outputs(), ledger.spent)
    assert me.shielded_balance() == 357 and ledger.pool_balance == 357
    # the node spends the 300 note (as a transfer of it would): the wallet marks it spent
    spent = int(me.owned[0]["nullifier"])
    state.begin()
    state.add_nullifier(notes.field_to_bytes(spent))
    state.commit()
    ledger.sync(me.unspent_nullifiers())
    me.scan(ledger.final_outputs(), ledger.spent)
    assert ledger.spent == {spent} and me.shielded_balance() == 57


def test_outputs_that_end_on_no_known_root_are_refused():
    state, hook = chain()
    me = Wallet.create("x")
    shield_notes(state, hook, me, (1, 2), 1, (1, 2))
    node = Node(state, hook)
    node.drop_roots = True
    with pytest.raises(NodeOutOfStep):
        NodeLedger("sock", query=node.query).sync()
