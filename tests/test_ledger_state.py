"""State: incremental state_hash, block application all-or-nothing, invalid transactions, replay,
and the supply invariant (DESIGN.md §5)."""
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dusk_edge.core.consensus.attestation import (
    RESULT_FAIL,
    VOTE_INVALID,
    VOTE_NO_CANDIDATE,
    VOTE_NO_QUORUM,
    Attestation,
    FailedIteration,
    Vote,
)
from dusk_edge.core.errors import DecodeError, RemoteProtocolError
from dusk_edge.core.hashes import sha3_256
from dusk_edge.core.ledger import execution
from dusk_edge.core.ledger.block import InvalidBlockRoots
from dusk_edge.core.ledger.header import default_attestation
from dusk_edge.core.ledger.profile import DUSK
from dusk_edge.core.ledger.stakes import StakeRuleViolation
from dusk_edge.core.ledger.state_tree import IncrementalMerkleTree
from dusk_edge.core.ledger.transactions import MAX_TX_SIZE, decode_transaction
from dusk_edge.core.ledger.tx_builder import (
    build_stake,
    build_transfer,
    build_unstake,
    build_withdraw,
)
from dusk_edge.core.merkle import compute_merkle_root
from tests.test_ledger_support import (
    VERIFIER,
    apply,
    bls_signer,
    ed_signer,
    make_block,
    new_chain,
    p256_signer,
    provisioner_signer,
)

pytestmark = pytest.mark.twin
CHAIN = 0x41


def snapshot(state):
    return (state.state_hash(), state.height, state.tip_hash, len(state.accounts), len(state.stakes),
            state.burned, state.total_emission)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 60), st.binary(min_size=1, max_size=4)), max_size=120),
       st.integers(0, 2**32))
def test_tree_root_equals_a_fresh_merkle_root(writes, seed):
    tree = IncrementalMerkleTree()
    rng = random.Random(seed)
    for key, value in writes:
        tree.set(key, sha3_256(value))
        if rng.random() < 0.3:
            assert tree.root() == compute_merkle_root(tree.leaves())
    assert tree.root() == compute_merkle_root(tree.leaves())


def test_tree_update_costs_log_n_hashes():
    tree = IncrementalMerkleTree()
    for i in range(4096):
        tree.set(i, sha3_256(i.to_bytes(4, "little")))
    tree.root()
    before = tree.hash_count
    tree.set(1234, bytes(32))
    tree.root()
    assert tree.hash_count - before == 12  # log2(4096) levels, one node each


def test_transfers_with_every_signature_scheme():
    state, _ = new_chain()
    a, b, p = ed_signer(0), bls_signer(0), p256_signer(0)
    rx = ed_signer(9).account_key
    txs = [build_transfer(a, rx, 100, 1, CHAIN), build_transfer(b, rx, 200, 1, CHAIN, gas_price=3),
           build_transfer(p, rx, 300, 1, CHAIN), build_transfer(a, rx, 400, 2, CHAIN)]
    before = state.balance(a.account_key)
    receipt = apply(state, make_block(state, txs))
    assert state.balance(rx) == 1000
    fee = execution.GAS_COSTS[0]
    assert state.balance(a.account_key) == before - 500 - 2 * fee
    assert state.nonce(a.account_key) == 2 and state.nonce(b.account_key) == 1
    assert receipt.fees == fee * (1 + 3 + 1 + 1)
    assert receipt.reward.total == 19857400000 + receipt.fees
    assert state.check_supply()


def invalid_cases():
    a = ed_signer(0)
    rx = ed_signer(9).account_key
    good = build_transfer(a, rx, 1, 1, CHAIN)
    forged = build_transfer(a, rx, 1, 1, CHAIN)
    forged.signature = bytes(64)
    forged._encoded = None
    wrong_key = build_transfer(a, rx, 1, 1, CHAIN)
    wrong_key.signature = build_transfer(ed_signer(1), rx, 1, 1, CHAIN).signature
    wrong_key._encoded = None
    bls_forged = build_transfer(bls_signer(0), rx, 1, 1, CHAIN)
    bls_forged.signature = build_transfer(bls_signer(0), rx, 2, 1, CHAIN).signature
    bls_forged._encoded = None
    return [
        ("bad-signature", [forged], execution.BadSignature),
        ("signature-of-another-key", [wrong_key], execution.BadSignature),
        ("bls-signature-of-another-message", [build_transfer(bls_signer(1), rx, 1, 1, CHAIN), bls_forged],
         execution.BadSignature),
        ("wrong-chain-id", [build_transfer(a, rx, 1, 1, 0x40)], execution.WrongChainId),
        ("nonce-reuse", [good, build_transfer(a, rx, 2, 1, CHAIN)], execution.NonceMismatch),
        ("nonce-gap", [build_transfer(a, rx, 1, 2, CHAIN)], execution.NonceMismatch),
        ("overspend", [build_transfer(a, rx, 10**6 * DUSK, 1, CHAIN)], execution.InsufficientBalance),
        ("overspend-across-txs", [build_transfer(a, rx, 6 * 10**5 * DUSK, 1, CHAIN),
                                  build_transfer(a, rx, 4 * 10**5 * DUSK, 2, CHAIN)], execution.InsufficientBalance),
        ("gas-limit-too-low", [build_transfer(a, rx, 1, 1, CHAIN, gas_limit=149999)], execution.GasTooLow),
        ("gas-price-zero", [build_transfer(a, rx, 1, 1, CHAIN, gas_price=0)], execution.GasTooLow),
        ("unknown-sender-has-nothing", [build_transfer(ed_signer(33), rx, 1, 1, CHAIN)],
         execution.InsufficientBalance),
        ("duplicate-in-block", [good, good], execution.InvalidBlock),
        ("unstake-someone-elses-stake", [build_unstake(a, provisioner_signer(0).public_key, 1, 1, CHAIN)],
         StakeRuleViolation),
        ("stake-below-minimum", [build_stake(a, provisioner_signer(7), 999 * DUSK, 1, CHAIN)], StakeRuleViolation),
        ("withdraw-without-reward", [build_withdraw(a, provisioner_signer(0).public_key, 1, 1, CHAIN)],
         StakeRuleViolation),
    ]


@pytest.mark.parametrize("name,txs,error", invalid_cases(), ids=[c[0] for c in invalid_cases()])
def test_invalid_transaction_is_named_and_changes_nothing(name, txs, error):
    state, _ = new_chain()
    apply(state, make_block(state, [build_transfer(ed_signer(3), ed_signer(2).account_key, 1, 1, CHAIN)]))
    before = snapshot(state)
    with pytest.raises(error):
        make_block(state, txs)  # the preview itself rejects
    assert snapshot(state) == before
    assert state.check_supply()


def test_a_block_built_elsewhere_with_a_bad_tx_rolls_back_midway():
    state, _ = new_chain()
    a, rx = ed_signer(0), ed_signer(9).account_key
    block, voters = make_block(state, [build_transfer(a, rx, 5, 1, CHAIN)])
    block.transactions.append(build_transfer(a, rx, 10**7 * DUSK, 2, CHAIN))  # overspends, applied 2nd
    block.fill_roots()
    before = snapshot(state)
    with pytest.raises(execution.InsufficientBalance):
        state.apply_block(block, VERIFIER, voters, check_state_hash=False)
    assert snapshot(state) == before and state.balance(rx) == 0


def test_state_hash_mismatch_and_shape_errors_change_nothing():
    state, _ = new_chain()
    block, voters = make_block(state, [build_transfer(ed_signer(0), ed_signer(9).account_key, 5, 1, CHAIN)])
    before = snapshot(state)
    good_hash = block.header.state_hash
    block.header.state_hash = bytes(32)
    with pytest.raises(execution.StateHashMismatch):
        state.apply_block(block, VERIFIER, voters)
    assert snapshot(state) == before
    block.header.state_hash = good_hash
    block.header.height = 5
    with pytest.raises(execution.InvalidBlock):
        state.apply_block(block, VERIFIER, voters)
    block.header.height = 1
    block.header.prev_block_hash = bytes(32)
    with pytest.raises(execution.InvalidBlock):
        state.apply_block(block, VERIFIER, voters)
    block.header.prev_block_hash = state.tip_hash
    block.header.version = 2
    with pytest.raises(execution.InvalidBlock, match="version"):
        state.apply_block(block, VERIFIER, voters)
    block.header.version = 1
    block.transactions = []
    with pytest.raises(InvalidBlockRoots):
        state.apply_block(block, VERIFIER, voters)
    assert snapshot(state) == before


def test_malformed_and_oversize_transaction_bytes_are_named_errors():
    data = build_transfer(ed_signer(0), ed_signer(9).account_key, 5, 1, CHAIN).encode()
    with pytest.raises(DecodeError):
        decode_transaction(data[:-1])
    with pytest.raises(DecodeError):
        decode_transaction(bytes(MAX_TX_SIZE + 1))
    big = build_transfer(ed_signer(0), ed_signer(9).account_key, 5, 1, CHAIN, memo=bytes(MAX_TX_SIZE))
    state, _ = new_chain()
    with pytest.raises(execution.OversizeTransaction):
        execution.check_transaction_static(big, state.profile)


def test_no_voters_after_height_one_is_invalid():
    state, _ = new_chain()
    apply(state, make_block(state))
    before = snapshot(state)
    with pytest.raises(execution.InvalidBlock, match="no voters"):
        make_block(state, voters=[])
    assert snapshot(state) == before
    # after an emergency block the prev_block_cert is the default Fail attestation: nobody to pay
    block, _ = make_block(state, voters=[(provisioner_signer(0).public_key, 1)])
    block.header.prev_block_cert = default_attestation()
    block.header.state_hash = state.preview_block(block, VERIFIER, []).state_hash
    block.header.seal()
    receipt = state.apply_block(block, VERIFIER, [])
    assert receipt.reward.voters == [] and state.check_supply()


def random_chain_blocks(seed, n_blocks=6):
    """Deterministic random transfers/stakes among ed25519 accounts, built on a fresh chain."""
    rng = random.Random(seed)
    state, genesis = new_chain()
    nonces = {}
    blocks = []
    for _ in range(n_blocks):
        txs = []
        for _ in range(rng.randrange(0, 6)):
            i = rng.randrange(4)
            signer = ed_signer(i)
            nonce = nonces.get(i, 0) + 1
            roll = rng.random()
            if roll < 0.15 and (i, "staked") not in nonces:
                extra = rng.randrange(1, 10**9)
                tx = build_stake(signer, provisioner_signer(10 + i), 1000 * DUSK + extra, nonce, CHAIN)
                nonces[(i, "staked")] = extra
            elif roll < 0.25 and nonces.get((i, "staked")):
                amount = rng.randrange(1, nonces[(i, "staked")] + 1)
                nonces[(i, "staked")] -= amount
                tx = build_unstake(signer, provisioner_signer(10 + i).public_key, amount, nonce, CHAIN)
            else:
                tx = build_transfer(signer, ed_signer(rng.randrange(8)).account_key, rng.randrange(10**12), nonce,
                                    CHAIN, gas_price=rng.randrange(1, 5))
            nonces[i] = nonce
            txs.append(tx)
        credits = rng.choice([128, 100, 86, 60])
        failed = []
        for _ in range(rng.randrange(3)):
            vote = rng.choice([Vote(VOTE_NO_CANDIDATE), Vote(VOTE_INVALID, bytes(32)), Vote(VOTE_NO_QUORUM)])
            failed.append(FailedIteration(Attestation(RESULT_FAIL, vote), provisioner_signer(rng.randrange(2)).public_key))
        block_and_voters = make_block(state, txs, failed_iterations=failed, voters=None if credits == 128 else
                                      [(provisioner_signer(0).public_key, credits)])
        apply(state, block_and_voters)
        assert state.check_supply()
        blocks.append(block_and_voters)
    return state, blocks


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32))
def test_supply_invariant_and_replay_give_the_same_state_hash(seed):
    state, blocks = random_chain_blocks(seed)
    assert state.total_supply_held() == state.genesis_supply + state.total_emission
    replay, _ = new_chain()
    for block_and_voters in blocks:
        apply(replay, block_and_voters)
    assert replay.state_hash() == state.state_hash()
    assert replay.tip_hash == state.tip_hash


def test_state_hash_depends_on_every_table():
    state, _ = new_chain()
    h0 = state.state_hash()
    state.credit(ed_signer(20).account_key, 1)
    h1 = state.state_hash()
    state.add_note(b"\x01" * 32)
    h2 = state.state_hash()
    state.add_nullifier(b"\x02" * 32)
    h3 = state.state_hash()
    assert len({h0, h1, h2, h3}) == 4


def test_rollback_restores_notes_and_nullifiers():
    state, _ = new_chain()
    before = state.state_hash()
    state.begin()
    state.add_note(b"\x01" * 32)
    state.add_nullifier(b"\x02" * 32)
    state.credit(ed_signer(21).account_key, 5)
    state.rollback()
    assert state.state_hash() == before and not state.notes and not state.nullifiers


def test_fuzzed_block_bytes_never_corrupt_state():
    state, _ = new_chain()
    block, voters = make_block(state, [build_transfer(ed_signer(0), ed_signer(9).account_key, 5, 1, CHAIN)])
    data = block.encode()
    rng = random.Random(11)
    before = snapshot(state)
    from dusk_edge.core.ledger.block import decode_block

    for _ in range(40):
        raw = bytearray(data)
        for _ in range(3):
            raw[rng.randrange(len(raw))] = rng.randrange(256)
        try:
            candidate = decode_block(bytes(raw))
            state.apply_block(candidate, VERIFIER, voters)
        except RemoteProtocolError:
            pass
        if state.height:
            break
        assert snapshot(state) == before


def test_state_hash_is_the_same_in_processes_with_different_hash_seeds():
    import os
    import subprocess
    import sys

    code = ("from tests.test_ledger_state import random_chain_blocks\n"
            "print(random_chain_blocks(7)[0].state_hash().hex())\n")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    outputs = set()
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        out = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True,
                             timeout=120)
        assert out.returncode == 0, out.stderr
        outputs.add(out.stdout.strip())
    assert len(outputs) == 1


def test_block_gas_limit_is_enforced():
    from dusk_edge.core.ledger.genesis_spec import GenesisSpec, build_genesis
    from tests.test_ledger_support import genesis_doc

    doc = genesis_doc()
    doc["overrides"] = {"block_gas_limit": 250000}
    state, _ = build_genesis(GenesisSpec.from_dict(doc))
    rx = ed_signer(9).account_key
    apply(state, make_block(state, [build_transfer(ed_signer(0), rx, 1, 1, CHAIN),
                                    build_transfer(ed_signer(1), rx, 1, 1, CHAIN)]))
    before = snapshot(state)
    with pytest.raises(execution.InvalidBlock, match="gas"):
        make_block(state, [build_transfer(ed_signer(i), rx, 1, 2, CHAIN) for i in range(2)]
                   + [build_transfer(ed_signer(2), rx, 1, 1, CHAIN)])
    assert snapshot(state) == before
