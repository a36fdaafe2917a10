"""Round trips and fuzz of every ledger decoder: header, block, transaction, fault."""
import hashlib
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dusk_edge.core.consensus.attestation import (
    RESULT_FAIL,
    VOTE_INVALID,
    VOTE_NO_CANDIDATE,
    VOTE_NO_QUORUM,
    VOTE_VALID,
    Attestation,
    ConsensusHeader,
    FailedIteration,
    StepVotes,
    Vote,
)
from dusk_edge.core.errors import DecodeError, LocalProtocolError, RemoteProtocolError
from dusk_edge.core.ledger import block as block_mod
from dusk_edge.core.ledger.block import Block, InvalidBlockRoots, decode_block
from dusk_edge.core.ledger.faults import (
    FAULT_DOUBLE_CANDIDATE,
    FAULT_DOUBLE_VALIDATION_VOTE,
    Fault,
    FaultData,
    decode_fault,
)
from dusk_edge.core.ledger.header import Header, decode_header
from dusk_edge.core.ledger.transactions import MAX_TX_SIZE, decode_transaction
from dusk_edge.core.ledger.tx_builder import (
    build_stake,
    build_transfer,
    build_unstake,
    build_withdraw,
)
from dusk_edge.core.merkle import compute_merkle_root
from tests.test_ledger_support import (
    bls_signer,
    ed_signer,
    full_cert,
    p256_signer,
    provisioner_signer,
)

pytestmark = pytest.mark.twin
R = 0x73EDA753299D7D483339D80809A1D80553BDA402FFFE5BFEFFFFFFFF00000001


def rich_header():
    fail = Attestation(RESULT_FAIL, Vote(VOTE_INVALID, b"\x09" * 32), StepVotes(7, b"\x01" * 48),
                       StepVotes((1 << 64) - 1, b"\x02" * 48))
    nq = Attestation(RESULT_FAIL, Vote(VOTE_NO_QUORUM), StepVotes(), StepVotes(3, b"\x03" * 48))
    return Header(1, 42, 1767225600, b"\x01" * 32, b"\x02" * 48, b"\x03" * 32, bytes(256), b"\x04" * 96,
                  b"\x05" * 32, b"\x06" * 32, 3000000000, 2, full_cert(b"\x01" * 32),
                  [None, FailedIteration(fail, b"\x07" * 96), FailedIteration(nq, b"\x08" * 96)],
                  full_cert(b"\x0a" * 32), b"\x0b" * 32, b"\x0c" * 48)


def sample_txs():
    c = 0x41
    return [
        build_transfer(ed_signer(0), bls_signer(1).account_key, 5, 1, c, memo=b"hello"),
        build_transfer(bls_signer(0), ed_signer(1).account_key, 7, 3, c, gas_price=9),
        build_transfer(p256_signer(0), ed_signer(2).account_key, 1, 1, c),
        build_stake(ed_signer(0), provisioner_signer(5), 2000 * 10**9, 2, c),
        build_unstake(ed_signer(0), provisioner_signer(5).public_key, 10, 3, c),
        build_withdraw(bls_signer(0), provisioner_signer(5).public_key, 11, 4, c),
    ]


def sample_faults():
    ch = ConsensusHeader(b"\x01" * 32, 10, 2)
    vote_a = FaultData(ch, b"\x02" * 96, b"\x03" * 48, Vote(VOTE_VALID, b"\x04" * 32))
    vote_b = FaultData(ch, b"\x02" * 96, b"\x05" * 48, Vote(VOTE_NO_CANDIDATE))
    cand_a = FaultData(ch, b"\x02" * 96, b"\x03" * 48, b"\x06" * 32)
    cand_b = FaultData(ch, b"\x02" * 96, b"\x03" * 48, b"\x07" * 32)
    return [Fault(FAULT_DOUBLE_VALIDATION_VOTE, vote_a, vote_b), Fault(FAULT_DOUBLE_CANDIDATE, cand_a, cand_b)]


def sample_block():
    return Block(rich_header(), sample_txs(), sample_faults()).fill_roots()


def check_decoder(decode, data):
    """Whole parses; every strict prefix and trailing junk raise DecodeError (RemoteProtocolError)."""
    value = decode(data)
    for n in range(len(data)):
        with pytest.raises(RemoteProtocolError):
            decode(data[:n])
    with pytest.raises(DecodeError):
        decode(data + b"\x00")
    return value


def test_default_header_is_863_bytes_like_the_reference():
    h = Header()
    assert len(h.encode()) == 863
    assert len(h.hashable_bytes()) == 554 + 114 + 1


def test_header_round_trip_and_hash_covers_only_the_hashable_part():
    h = rich_header()
    again = check_decoder(decode_header, h.encode())
    assert again == h and again.encode() == h.encode()
    assert h.compute_hash() == hashlib.sha3_256(h.hashable_bytes()).digest()
    before = h.compute_hash()
    h.att = Attestation(RESULT_FAIL, Vote(VOTE_NO_QUORUM))
    h.signature = b"\xff" * 48
    assert h.compute_hash() == before
    h.failed_iterations = h.failed_iterations[:1]
    assert h.compute_hash() != before
    assert not h.check_hash() and h.seal().check_hash()


def test_header_rejects_bad_field_sizes():
    with pytest.raises(LocalProtocolError):
        Header(seed=bytes(47))


def test_transactions_round_trip_each_kind_and_scheme():
    for tx in sample_txs():
        again = check_decoder(decode_transaction, tx.encode())
        assert again == tx and again.tx_id() == tx.tx_id()


def test_tx_id_is_blake2b_scalar_of_the_encoding_and_digest_is_sha3():
    tx = sample_txs()[0]
    wide = int.from_bytes(hashlib.blake2b(tx.encode()).digest(), "little")
    assert tx.tx_id() == (wide % R).to_bytes(32, "little")
    assert tx.digest() == hashlib.sha3_256(tx.encode()).digest()


def test_stake_message_is_201_bytes():
    tx = sample_txs()[3]
    msg = tx.stake_message()
    assert len(msg) == 201 and msg[0] == 0x41 and msg[1:97] == tx.account_pk
    assert msg[97:97 + 32] == tx.sender.key and msg[129:193] == bytes(64)
    assert int.from_bytes(msg[193:], "little") == 2000 * 10**9


def test_transaction_memo_limit_is_checked_before_reading():
    data = bytearray(sample_txs()[0].encode())
    # memo_len sits after version, chain, kind, two account keys and five u64s
    offset = 3 + 33 + 97 + 40
    data[offset:offset + 4] = (MAX_TX_SIZE + 1).to_bytes(4, "little")
    with pytest.raises(DecodeError, match="exceeds"):
        decode_transaction(bytes(data))
    with pytest.raises(DecodeError):
        decode_transaction(bytes(MAX_TX_SIZE + 1))


def test_unknown_tags_are_decode_errors():
    data = bytearray(sample_txs()[0].encode())
    for offset, value in ((0, 2), (2, 4), (3, 7)):
        bad = bytearray(data)
        bad[offset] = value
        with pytest.raises(DecodeError):
            decode_transaction(bytes(bad))
    fault = bytearray(sample_faults()[0].encode())
    fault[0] = 3
    with pytest.raises(DecodeError):
        decode_fault(bytes(fault))


def test_faults_round_trip_and_id_is_sha3():
    for fault in sample_faults():
        again = check_decoder(decode_fault, fault.encode())
        assert again == fault
        assert fault.fault_id() == hashlib.sha3_256(fault.encode()).digest()


def test_block_round_trip_and_roots():
    block = sample_block()
    again = decode_block(block.encode())
    assert again == block
    assert block.header.txroot == compute_merkle_root([hashlib.sha3_256(t.encode()).digest() for t in block.transactions])
    assert block.header.faultroot == compute_merkle_root([hashlib.sha3_256(f.encode()).digest() for f in block.faults])
    block.check_roots()
    block.transactions.pop()
    with pytest.raises(InvalidBlockRoots):
        block.check_roots()


def test_block_truncation_and_trailing_junk():
    data = sample_block().encode()
    rng = random.Random(4)
    for n in sorted(set(rng.randrange(len(data)) for _ in range(300))) + [0, len(data) - 1]:
        with pytest.raises(RemoteProtocolError):
            decode_block(data[:n])
    with pytest.raises(DecodeError):
        decode_block(data + b"\x01")


def test_block_limits():
    header = Header().encode()
    with pytest.raises(DecodeError, match="at most 1000"):
        decode_block(header + (1001).to_bytes(4, "little"))
    with pytest.raises(DecodeError, match="at most 100"):
        decode_block(header + bytes(4) + (101).to_bytes(4, "little"))
    with pytest.raises(DecodeError, match="exceeds"):
        decode_block(bytes(block_mod.MAX_BLOCK_SIZE + 1))
    with pytest.raises(LocalProtocolError):
        Block(Header(), [sample_txs()[0]] * 1001).encode()
    big = Block(Header(), [build_transfer(ed_signer(0), ed_signer(1).account_key, 1, 1, 0x41,
                                          memo=bytes(600000))] * 2)
    with pytest.raises(LocalProtocolError):
        block_mod.encode_block(big)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_fuzz_random_bytes_parse_or_remote_error(data):
    for decode in (decode_header, decode_block, decode_transaction, decode_fault):
        try:
            decode(data)
        except RemoteProtocolError:
            pass


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_fuzz_mutated_valid_encodings(data):
    encodings = [sample_block().encode(), sample_txs()[3].encode(), sample_faults()[0].encode(),
                 rich_header().encode()]
    decoders = [decode_block, decode_transaction, decode_fault, decode_header]
    which = data.draw(st.integers(0, 3))
    raw = bytearray(encodings[which])
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, len(raw) - 1))
        raw[pos] = data.draw(st.integers(0, 255))
    try:
        decoders[which](bytes(raw))
    except RemoteProtocolError:
        pass


def attestations():
    votes = st.one_of(st.builds(Vote, st.sampled_from([VOTE_NO_CANDIDATE, VOTE_NO_QUORUM])),
                      st.builds(Vote, st.sampled_from([VOTE_VALID, VOTE_INVALID]), st.binary(min_size=32, max_size=32)))
    step = st.builds(StepVotes, st.integers(0, (1 << 64) - 1), st.binary(min_size=48, max_size=48))
    return st.builds(Attestation, st.integers(0, 1), votes, step, step)


def fixed(n):
    return st.binary(min_size=n, max_size=n)


u64 = st.integers(0, (1 << 64) - 1)


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 255), u64, u64, fixed(32), fixed(48), fixed(32), fixed(256), fixed(96), fixed(32), fixed(32),
       u64, st.integers(0, 255), attestations(),
       st.lists(st.one_of(st.none(), st.builds(FailedIteration, attestations(), fixed(96))), max_size=8),
       attestations(), fixed(32), fixed(48))
def test_header_round_trip_any_fields(version, height, timestamp, prev, seed, state_hash, bloom, generator, txroot,
                                     faultroot, gas_limit, iteration, cert, failed, att, block_hash, signature):
    header = Header(version, height, timestamp, prev, seed, state_hash, bloom, generator, txroot, faultroot,
                    gas_limit, iteration, cert, failed, att, block_hash, signature)
    data = header.encode()
    assert decode_header(data) == header and decode_header(data).encode() == data


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 255), st.integers(0, 3), st.integers(0, 2), st.integers(0, 2), u64, u64, u64, u64, u64,
       st.binary(max_size=300), fixed(96), u64, st.data())
def test_transaction_round_trip_any_fields(chain, kind, s_scheme, r_scheme, value, deposit, gas_limit, gas_price,
                                           nonce, memo, account_pk, amount, data):
    from dusk_edge.core.ledger.transactions import (
        KEY_SIZES,
        SIGNATURE_SIZES,
        AccountKey,
        Transaction,
    )

    sender = AccountKey(s_scheme, data.draw(fixed(KEY_SIZES[s_scheme])))
    receiver = AccountKey(r_scheme, data.draw(fixed(KEY_SIZES[r_scheme])))
    sig_size = SIGNATURE_SIZES[s_scheme]
    tx = Transaction(chain, kind, sender, receiver, value, deposit, gas_limit, gas_price, nonce, memo,
                     account_pk if kind else None, amount if kind > 1 else 0,
                     data.draw(fixed(48)) if kind == 1 else None, data.draw(fixed(sig_size)) if kind == 1 else None,
                     data.draw(fixed(sig_size)))
    again = decode_transaction(tx.encode())
    assert again == tx and again.tx_id() == tx.tx_id()
