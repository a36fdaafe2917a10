"""The ledger's shielded kind (dusk-edge extension, docs/shielded.md): codec, public side, fees,
supply, mempool nullifier reservation, block batch checks and rollback, genesis verifying keys.

The hook is the real ShieldedLedger; only the Groth16 check is a stand-in (a proof verifies unless
its first byte is 0xff) so the ledger rules run fast — real proofs go through the node in
tests/test_devnet_shielded.py and tests/test_zk_transfer.py."""
import random

import pytest

from dusk_edge.core.errors import ConfigError, DecodeError
from dusk_edge.core.ledger import execution
from dusk_edge.core.ledger.block import Block
from dusk_edge.core.ledger.genesis_spec import GenesisSpec, build_genesis
from dusk_edge.core.ledger.header import Header
from dusk_edge.core.ledger.mempool import Mempool
from dusk_edge.core.ledger.transactions import KIND_SHIELDED, decode_transaction
from dusk_edge.core.ledger.tx_builder import build_shielded
from dusk_edge.zk import notes
from dusk_edge.zk.ledger_hook import ShieldedLedger
from dusk_edge.zk.pool import DoubleSpend, InvalidProof, ShieldedTx, UnknownRoot
from tests.test_ledger_support import VERIFIER, ed_signer, full_cert, genesis_doc, voters_for

pytestmark = pytest.mark.twin
CHAIN = 0x41
FEE = execution.GAS_COSTS[KIND_SHIELDED]  # at gas price 1
ALICE, BOB = ed_signer(0), ed_signer(1)


class ProofStandIn:
    """Groth16 stand-in: a proof verifies unless its first byte is 0xff; counts batches."""

    def __init__(self):
        self.batches = 0

    def verify(self, public_inputs, proof):
        return proof[0] != 0xFF

    def batch_verify(self, items):
        self.batches += 1
        return all(proof[0] != 0xFF for _, proof in items)


def chain():
    state, _ = build_genesis(GenesisSpec.from_dict(genesis_doc()))
    return state, ShieldedLedger(ProofStandIn())


def payload(hook, state, public_in=0, public_out=0, fee=FEE, account=b"", nfs=None, bad_proof=False,
            rng=random.Random(7)):
    root = hook.sync(state).tree.root
    nfs = nfs or (rng.randrange(notes.R), rng.randrange(notes.R))
    stx = ShieldedTx(root, nfs, (rng.randrange(notes.R), rng.randrange(notes.R)), public_in, public_out, fee,
                     account, (b"\x01" * 88, b"\x02" * 88), bytes([0xFF if bad_proof else 0]) + bytes(191))
    return stx.to_bytes()


def shield(hook, state, signer, amount, nonce, **kw):
    data = payload(hook, state, public_in=amount + FEE, account=signer.account_key.encode(), **kw)
    return build_shielded(signer, data, nonce, CHAIN)


def block(state, hook, txs):
    header = Header(height=state.height + 1, timestamp=1767225600 + 2 * (state.height + 1),
                    prev_block_hash=state.tip_hash, generator_bls_pubkey=bytes(96),
                    gas_limit=state.profile.block_gas_limit, prev_block_cert=full_cert(state.tip_hash))
    from tests.test_ledger_support import provisioner_signer

    header.generator_bls_pubkey = provisioner_signer(0).public_key
    b = Block(header, list(txs)).fill_roots()
    voters = voters_for(state)
    b.header.state_hash = state.preview_block(b, VERIFIER, voters, shielded=hook).state_hash
    b.header.seal()
    return b, voters


def apply(state, hook, txs):
    b, voters = block(state, hook, txs)
    return state.apply_block(b, VERIFIER, voters, shielded=hook)


def test_codec_round_trip_and_limits():
    state, hook = chain()
    tx = shield(hook, state, ALICE, 10**6, 1)
    again = decode_transaction(tx.encode())
    assert again == tx and again.payload == tx.payload and again.kind == KIND_SHIELDED
    assert again.shielded_public().public_in == 10**6 + FEE and tx.spend_limit() == 10**6 + FEE
    broken = bytearray(tx.encode())
    at = tx.encode().index(tx.payload)
    broken[at] = 9  # payload version
    with pytest.raises(DecodeError, match="shielded payload version"):
        decode_transaction(bytes(broken))
    with pytest.raises(DecodeError, match="exceeds"):
        decode_transaction(tx.encode()[:at - 4] + (1 << 20).to_bytes(4, "little") + tx.encode()[at:])


def test_refused_where_genesis_enables_no_shielded_transfers():
    state, hook = chain()
    tx = shield(hook, state, ALICE, 10**6, 1)
    with pytest.raises(execution.ShieldedNotEnabled):
        Mempool(state.profile, VERIFIER).add(tx, state, 0)
    b, voters = block(state, hook, [tx])
    with pytest.raises(execution.ShieldedNotEnabled):
        state.apply_block(b, VERIFIER, voters)
    assert state.height == 0


def test_shield_then_unshield_moves_public_funds_and_fees_keep_supply():
    state, hook = chain()
    alice_before, bob_before = state.balance(ALICE.account_key), state.balance(BOB.account_key)
    receipt = apply(state, hook, [shield(hook, state, ALICE, 10**6, 1)])
    assert receipt.fees == FEE and receipt.gas_spent == FEE
    assert state.balance(ALICE.account_key) == alice_before - 10**6 - FEE
    assert state.shielded_pool == 10**6 and len(state.notes) == 2 and state.check_supply()
    out = payload(hook, state, public_out=200, account=BOB.account_key.encode())
    apply(state, hook, [build_shielded(ALICE, out, 2, CHAIN, receiver=BOB.account_key)])
    assert state.balance(BOB.account_key) == bob_before + 200
    assert state.balance(ALICE.account_key) == alice_before - 10**6 - FEE  # a signer pays no gas
    assert state.shielded_pool == 10**6 - 200 - FEE and state.check_supply()
    assert [cm for cm, _ in hook.outputs] == state.notes and hook.outputs[0][1] == b"\x01" * 88
    assert hook.notes_at(1) == 2 and hook.notes_at(2) == 4


@pytest.mark.parametrize("case", ["fee", "value", "payer", "receiver", "stray receiver", "underflow"])
def test_public_side_rules_are_named(case):
    state, hook = chain()
    apply(state, hook, [shield(hook, state, ALICE, 10**6, 1)])
    key = ALICE.account_key.encode()
    if case == "fee":
        tx = build_shielded(ALICE, payload(hook, state, public_in=10 + FEE - 1, fee=FEE - 1, account=key), 2, CHAIN)
    elif case == "value":
        tx = shield(hook, state, ALICE, 10, 2)
        tx.value = 1
        tx = build_shielded(ALICE, tx.payload, 2, CHAIN)
        tx.value, tx._encoded = 1, None
        tx.signature = ALICE.sign(tx.signed_bytes())
    elif case == "payer":  # public_in bound to Bob's account but Alice signs
        tx = build_shielded(ALICE, payload(hook, state, public_in=10 + FEE, account=BOB.account_key.encode()),
                            2, CHAIN)
    elif case == "receiver":  # the proof binds Alice, the envelope pays Bob
        tx = build_shielded(ALICE, payload(hook, state, public_out=10, account=key), 2, CHAIN,
                            receiver=BOB.account_key)
    elif case == "stray receiver":
        tx = build_shielded(ALICE, payload(hook, state), 2, CHAIN, receiver=BOB.account_key)
    else:
        tx = build_shielded(ALICE, payload(hook, state, public_out=10 ** 7, account=key), 2, CHAIN)
    before = state.state_hash()
    with pytest.raises(execution.InvalidTransaction if case != "underflow" else Exception):
        Mempool(state.profile, VERIFIER, shielded=hook).add(tx, state, 0)
    b, voters = block_unchecked(state, [tx])
    with pytest.raises(Exception) as err:
        state.apply_block(b, VERIFIER, voters, shielded=hook)
    assert type(err.value).__name__ in ("InvalidTransaction", "PoolUnderflow")
    assert state.state_hash() == before and len(hook.outputs) == 2


def block_unchecked(state, txs):
    from tests.test_ledger_support import provisioner_signer

    header = Header(height=state.height + 1, timestamp=1767225600 + 2 * (state.height + 1),
                    prev_block_hash=state.tip_hash, generator_bls_pubkey=provisioner_signer(0).public_key,
                    gas_limit=state.profile.block_gas_limit, prev_block_cert=full_cert(state.tip_hash))
    return Block(header, list(txs)).fill_roots(), voters_for(state)


def test_nullifiers_reserved_in_mempool_and_refused_when_spent():
    state, hook = chain()
    apply(state, hook, [shield(hook, state, ALICE, 10**6, 1)])
    mp = Mempool(state.profile, VERIFIER, shielded=hook)
    spend = build_shielded(ALICE, payload(hook, state, nfs=(11, 12)), 2, CHAIN)
    mp.add(spend, state, 0)
    assert mp.reserved == {notes.field_to_bytes(11), notes.field_to_bytes(12)}
    rival = build_shielded(BOB, payload(hook, state, nfs=(12, 13)), 1, CHAIN)
    with pytest.raises(DoubleSpend, match="pending"):
        mp.add(rival, state, 0)
    b, voters = block(state, hook, mp.select(state))
    state.apply_block(b, VERIFIER, voters, shielded=hook)
    mp.on_block(b, state)
    assert len(mp) == 0 and not mp.reserved
    with pytest.raises(DoubleSpend, match="already spent"):
        mp.add(rival, state, 0)
    b, voters = block_unchecked(state, [rival])
    with pytest.raises(DoubleSpend):
        state.apply_block(b, VERIFIER, voters, shielded=hook)
    twice = [build_shielded(BOB, payload(hook, state, nfs=(20, 21)), 1, CHAIN),
             build_shielded(ALICE, payload(hook, state, nfs=(21, 22)), 3, CHAIN)]
    b, voters = block_unchecked(state, twice)
    with pytest.raises(DoubleSpend, match="one block"):
        state.apply_block(b, VERIFIER, voters, shielded=hook)


def test_bad_proof_and_old_root_leave_state_and_pool_unchanged():
    state, hook = chain()
    apply(state, hook, [shield(hook, state, ALICE, 10**6, 1)])
    before, root, outputs = state.state_hash(), hook.pool.tree.root, list(hook.outputs)
    good = shield(hook, state, ALICE, 5, 2)
    bad = shield(hook, state, BOB, 5, 1, bad_proof=True)
    b, voters = block_unchecked(state, [good, bad])
    with pytest.raises(InvalidProof, match="transaction 1"):
        state.apply_block(b, VERIFIER, voters, shielded=hook)
    with pytest.raises(InvalidProof):
        Mempool(state.profile, VERIFIER, shielded=hook).add(bad, state, 0)
    # a block whose second tx fails after the first applied: State and pool both roll back
    stale = build_shielded(BOB, ShieldedTx.from_bytes(payload(hook, state)).to_bytes()[:1] + bytes(32)
                           + ShieldedTx.from_bytes(payload(hook, state)).to_bytes()[33:], 1, CHAIN)
    b, voters = block_unchecked(state, [good, stale])
    with pytest.raises(UnknownRoot):
        state.apply_block(b, VERIFIER, voters, shielded=hook)
    assert state.state_hash() == before and hook.pool.tree.root == root and hook.outputs == outputs


def test_preview_and_a_rebuilt_state_keep_the_hook_in_step():
    state, hook = chain()
    apply(state, hook, [shield(hook, state, ALICE, 10**6, 1)])
    apply(state, hook, [shield(hook, state, ALICE, 7, 2)])
    assert len(hook.outputs) == 4
    block(state, hook, [shield(hook, state, ALICE, 9, 3)])  # preview only
    assert len(hook.outputs) == 4 and hook.notes_at(10) == 4
    # the chain rebuilds its State to revert the tip: replaying the first block only
    fresh, _ = build_genesis(GenesisSpec.from_dict(genesis_doc()))
    info = hook.sync_info(fresh, 0, 10, 0)
    assert info["total"] == 0 and info["outputs"] == [] and hook.counts == []
    assert info["roots"] == [notes.field_to_bytes(hook.pool.tree.root).hex()]


def test_sync_info_reports_outputs_final_count_and_spent():
    state, hook = chain()
    apply(state, hook, [shield(hook, state, ALICE, 10**6, 1, nfs=(31, 32))])
    apply(state, hook, [shield(hook, state, ALICE, 7, 2)])
    info = hook.sync_info(state, 1, 2, 1, [notes.field_to_bytes(31), notes.field_to_bytes(99)])
    assert info["total"] == 4 and info["final_total"] == 2 and len(info["outputs"]) == 2
    assert info["outputs"][0][0] == state.notes[1].hex()
    assert info["spent"] == [notes.field_to_bytes(31).hex()] and info["pool_balance"] == 10**6 + 7


def test_genesis_fixes_the_verifying_key_and_the_state_hash_commits_to_it():
    doc = genesis_doc()
    plain = GenesisSpec.from_dict(doc)
    doc["zk_verifying_keys"] = {"transfer": "ab" * 40}
    keyed = GenesisSpec.from_dict(doc)
    assert keyed.zk_verifying_keys == {"transfer": bytes([0xAB]) * 40}
    assert GenesisSpec.from_dict(keyed.to_dict()).zk_verifying_keys == keyed.zk_verifying_keys
    assert "zk_verifying_keys" not in plain.to_dict()
    assert build_genesis(plain)[0].state_hash() != build_genesis(keyed)[0].state_hash()
    doc["zk_verifying_keys"] = {"mint": "ab"}
    with pytest.raises(ConfigError, match="zk_verifying_keys.mint"):
        GenesisSpec.from_dict(doc)
    doc["zk_verifying_keys"] = {"transfer": "xyz"}
    with pytest.raises(ConfigError, match="hex"):
        GenesisSpec.from_dict(doc)


def test_genesis_loader_checks_the_key_and_the_node_hook_uses_it(tmp_path):
    from dusk_edge.devnet import devnet_genesis, render_genesis
    from dusk_edge.genesis import load_genesis
    from dusk_edge.zk.ledger_hook import shielded_hook_from_genesis
    from dusk_edge.zk.toolchain import shipped_verifying_key_bytes

    doc = devnet_genesis(2)
    assert bytes.fromhex(doc["zk_verifying_keys"]["transfer"]) == shipped_verifying_key_bytes()
    path = tmp_path / "genesis.toml"
    path.write_text(render_genesis(doc))
    spec = load_genesis(str(path))
    hook = shielded_hook_from_genesis(spec)
    assert hook.verifier.prepared.vk.to_bytes() == shipped_verifying_key_bytes()
    assert shielded_hook_from_genesis(load_genesis("devnet")) is None
    doc["zk_verifying_keys"]["transfer"] = "00" * 822
    path.write_text(render_genesis(doc))
    with pytest.raises(ConfigError, match="zk_verifying_keys.transfer"):
        load_genesis(str(path))
