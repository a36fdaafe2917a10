"""Shared builders for the ledger tests (no tests here): keys, a devnet genesis, block making."""
from dusk_edge.core.consensus.attestation import (
    RESULT_SUCCESS,
    VOTE_VALID,
    Attestation,
    StepVotes,
    Vote,
)
from dusk_edge.core.ledger.block import Block
from dusk_edge.core.ledger.genesis_spec import GenesisSpec, build_genesis, format_account_key
from dusk_edge.core.ledger.header import Header
from dusk_edge.core.ledger.profile import DUSK
from dusk_edge.core.ledger.signatures import NativeVerifier
from dusk_edge.core.ledger.tx_builder import BlsSigner, Ed25519Signer, P256Signer
from dusk_edge.crypto import bls

VERIFIER = NativeVerifier()
_SIGNERS = {}


def bls_signer(i):
    key = ("bls", i)
    if key not in _SIGNERS:
        _SIGNERS[key] = BlsSigner(bls.secret_key_from_int(1000 + i))
    return _SIGNERS[key]


def ed_signer(i):
    key = ("ed", i)
    if key not in _SIGNERS:
        _SIGNERS[key] = Ed25519Signer(bytes([i]) * 32)
    return _SIGNERS[key]


def p256_signer(i):
    key = ("p256", i)
    if key not in _SIGNERS:
        _SIGNERS[key] = P256Signer(7919 + i)
    return _SIGNERS[key]


def provisioner_signer(i):
    return bls_signer(100 + i)


def genesis_doc(balances=None, provisioners=2, chain_id=0x41):
    """A devnet-like genesis dict: ed25519 accounts 0..3 and bls accounts 0..1 funded."""
    if balances is None:
        balances = [(ed_signer(i).account_key, 10**6 * DUSK) for i in range(4)]
        balances += [(bls_signer(i).account_key, 10**6 * DUSK) for i in range(2)]
        balances += [(p256_signer(0).account_key, 10**6 * DUSK)]
    return {
        "name": "test", "chain_id": chain_id, "network_id": 0x45, "protocol_version": "0.1.0", "fec": "rs",
        "time_scale": 5, "epoch_blocks": 20, "minimum_stake": 1000 * DUSK, "genesis_seed": "00" * 48,
        "genesis_timestamp": 1767225600, "emergency_key": provisioner_signer(99).public_key.hex(),
        "dusk_fund": format_account_key(ed_signer(50).account_key),
        "provisioners": [{"account": provisioner_signer(i).public_key.hex(),
                          "owner": format_account_key(ed_signer(60 + i).account_key),
                          "stake": 1000 * (i + 1) * DUSK, "eligible_since": 0} for i in range(provisioners)],
        "balances": [{"account": format_account_key(k), "amount": a} for k, a in balances],
    }


def new_chain(**kw):
    """(State, genesis header) of genesis_doc(**kw)."""
    return build_genesis(GenesisSpec.from_dict(genesis_doc(**kw)))


def full_cert(block_hash=bytes(32)):
    return Attestation(RESULT_SUCCESS, Vote(VOTE_VALID, block_hash), StepVotes(1, bytes(48)), StepVotes(1, bytes(48)))


def voters_for(state, credits=None):
    """Voter credits of a prev_block_cert: the provisioners splitting `credits` (default all 128)."""
    provs = state.get_provisioners(10**9) or [(p[0], 0, 0) for p in state.all_stakes()]
    total = 128 if credits is None else credits
    out = []
    for i, (pk, _, _) in enumerate(provs):
        share = total // len(provs) + (1 if i < total % len(provs) else 0)
        if share:
            out.append((pk, share))
    return out


def make_block(state, txs=(), faults=(), failed_iterations=(), generator=None, timestamp=None, voters=None,
               verifier=VERIFIER, iteration=None):
    """A block on `state`'s tip whose header carries the right roots and state_hash."""
    if generator is None:
        generator = provisioner_signer(0).public_key
    header = Header(height=state.height + 1, timestamp=timestamp or 1767225600 + 2 * (state.height + 1),
                    prev_block_hash=state.tip_hash, generator_bls_pubkey=generator,
                    gas_limit=state.profile.block_gas_limit, prev_block_cert=full_cert(state.tip_hash),
                    failed_iterations=list(failed_iterations),
                    iteration=len(failed_iterations) if iteration is None else iteration)
    block = Block(header, list(txs), list(faults)).fill_roots()
    voters = voters if voters is not None else voters_for(state)
    receipt = state.preview_block(block, verifier, voters)
    block.header.state_hash = receipt.state_hash
    block.header.seal()
    return block, voters


def apply(state, block_and_voters, verifier=VERIFIER):
    block, voters = block_and_voters
    return state.apply_block(block, verifier, voters)
