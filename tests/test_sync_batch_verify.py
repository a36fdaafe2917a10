"""A syncing node's batched signature checks (ConsensusVerifier.defer/settle, NodeCore.feed_block):
the same blocks are accepted and rejected as with one pairing check per signature, nothing
unverified is remembered, and no state changes before the batch holds. Real BLS throughout."""
import pytest

from dusk_edge.core.consensus.attestation import StepVotes
from dusk_edge.core.errors import RemoteProtocolError
from dusk_edge.core.ledger.block import decode_block, encode_block
from dusk_edge.crypto import bls
from dusk_edge.node_setup import ConsensusVerifier, verify_batch


def signed(index, message):
    sk = bls.secret_key_from_int(900 + index)
    pk = bls.public_key(sk)
    return pk, bls.sign_multisig(sk, message, pk)


def queued(pks, message, signature):
    return ((tuple(pks), message, signature), bls.load_signature(signature), bls.h0(message),
            bls.aggregate_public_keys(pks))


def test_verify_batch_holds_for_valid_checks_and_fails_on_any_swap():
    (pk1, s1), (pk2, s2) = signed(1, b"seed"), signed(2, b"vote")
    _pk, s1_other = signed(1, b"hash")
    good = [queued([pk1], b"seed", s1), queued([pk2], b"vote", s2), queued([pk1], b"hash", s1_other)]
    assert verify_batch(good)
    assert not verify_batch(good[:2] + [queued([pk1], b"hash", s1)])       # signature of another message
    assert not verify_batch([queued([pk1], b"vote", s2), queued([pk2], b"seed", s1)])  # swapped pairs


def test_deferred_checks_raise_at_settle_and_are_not_remembered():
    pk, sig = signed(3, b"m")
    verifier = ConsensusVerifier()
    verifier.defer()
    assert verifier.verify_multisig([pk], b"other", sig)  # queued, not yet judged
    with pytest.raises(RemoteProtocolError):
        verifier.settle()
    assert not verifier.verify_multisig([pk], b"other", sig)  # deferral ended; nothing remembered
    verifier.defer()
    verifier.verify_multisig([pk], b"m", sig)
    verifier.settle()
    assert verifier._verified  # a settled success is remembered


def test_malformed_input_still_raises_when_deferred():
    verifier = ConsensusVerifier()
    verifier.defer()
    with pytest.raises(Exception):
        verifier.verify_multisig([bytes(96)], b"m", bytes(48))


@pytest.fixture(scope="module")
def chain_blocks(tmp_path_factory):
    from bench.chain_fixture import ChainMaker

    chain = ChainMaker(str(tmp_path_factory.mktemp("maker") / "store")).run(12)
    blocks = [decode_block(encode_block(chain._stored_block(h))) for h in range(1, 13)]
    chain.store.close()
    return blocks


def syncing_node(tmp_path):
    from bench.bench_node import new_syncing_node

    node, spec = new_syncing_node(str(tmp_path / "store"))
    now = (spec.genesis_timestamp + 10000) * 1000
    node.engine.on_start(now)
    return node, now


def test_sync_accepts_the_real_chain_and_rejects_a_forged_attestation(tmp_path, chain_blocks):
    node, now = syncing_node(tmp_path)
    for block in chain_blocks[:8]:
        node.on_block(block, now)
    assert node.chain.state.height == 8 and not node.engine.rejected
    forged = decode_block(encode_block(chain_blocks[8]))
    other_sig = forged.header.seed  # a valid signature point, of another message
    forged.header.att.ratification = StepVotes(forged.header.att.ratification.bitset, other_sig)
    state_hash = node.chain.state.state_hash()
    node.on_block(forged, now)
    assert node.chain.state.height == 8
    assert node.chain.state.state_hash() == state_hash
    assert sum(node.engine.rejected.values()) == 1
    assert node.chain.verifier._pending is None  # deferral never outlives a block
    for block in chain_blocks[8:]:
        node.on_block(block, now)
    assert node.chain.state.height == len(chain_blocks)


def test_revert_tip_settles_first(tmp_path, chain_blocks):
    node, now = syncing_node(tmp_path)
    for block in chain_blocks[:4]:
        node.on_block(block, now)
    pk, sig = signed(4, b"m")
    node.chain.verifier.defer()
    node.chain.verifier.verify_multisig([pk], b"forged", sig)
    with pytest.raises(RemoteProtocolError):
        node.chain.revert_tip()
    assert node.chain.state.height == 4


def test_batched_and_one_by_one_sync_agree(tmp_path, chain_blocks):
    """Same chain, same final state, with and without the batch (a verifier without defer)."""
    from dusk_edge.node_setup import ConsensusVerifier as Batched

    class OneByOne:
        verify_multisig = staticmethod(bls.verify_multisig)
        aggregate_signatures = staticmethod(bls.aggregate_signatures)

    hashes = []
    for name, verifier in (("batched", Batched()), ("single", OneByOne())):
        node, now = syncing_node(tmp_path / name)
        node.chain.verifier = node.engine.verifier = verifier
        for block in chain_blocks:
            node.on_block(block, now)
        hashes.append((node.chain.state.height, node.chain.state.state_hash()))
    assert hashes[0] == hashes[1] and hashes[0][0] == len(chain_blocks)


def test_immediate_checks_with_the_h0_cache_match_bls():
    verifier = ConsensusVerifier()
    votes = [signed(i, b"one step message") for i in range(5, 9)]
    for pk, sig in votes:  # the second and later votes reuse the cached H0(message)
        assert verifier.verify_multisig([pk], b"one step message", sig) is True
        assert verifier.verify_multisig([pk], b"another message", sig) is False
    aggregate = bls.aggregate_signatures([sig for _pk, sig in votes])
    pks = [pk for pk, _sig in votes]
    assert verifier.verify_multisig(pks, b"one step message", aggregate) == bls.verify_multisig(
        pks, b"one step message", aggregate) is True
    assert verifier.verify_multisig(pks[:3], b"one step message", aggregate) is False
