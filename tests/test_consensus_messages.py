"""Consensus messages (PROTOCOL.md §2, §3.3): exact sizes, round trips, fuzzing; engine input rules."""
import random

import pytest

from dusk_edge.core.consensus import messages as m
from dusk_edge.core.consensus.aggregator import ConflictingVote, StepAggregator, get_quorum
from dusk_edge.core.consensus.attestation import (
    RESULT_SUCCESS, VOTE_INVALID, VOTE_NO_CANDIDATE, VOTE_NO_QUORUM, VOTE_VALID, Attestation,
    ConsensusHeader, StepVotes, Vote)
from dusk_edge.core.consensus.sortition import Committee
from dusk_edge.core.errors import DecodeError, RemoteProtocolError
from dusk_edge.core.ledger.block import Block, pull_block, push_block
from dusk_edge.core.ledger.header import Header, default_attestation

HDR = ConsensusHeader(bytes(range(32)), 123456789, 7)
HASH = bytes([9]) * 32
SIGN = m.SignInfo(bytes([5]) * 96, bytes([6]) * 48)
SV = StepVotes(0xF0F0F0F0F0F0F0F0, bytes([7]) * 48)


def samples():
    result = m.ValidationResult(SV, Vote(VOTE_VALID, HASH), m.QUORUM_VALID)
    block = Block(Header(height=5, att=default_attestation()).seal())
    return [
        m.Validation(HDR, Vote(VOTE_VALID, HASH), SIGN),
        m.Validation(HDR, Vote(VOTE_NO_CANDIDATE), SIGN),
        m.Ratification(HDR, Vote(VOTE_VALID, HASH), 2 ** 64 - 1, result, SIGN),
        m.Ratification(HDR, Vote(VOTE_NO_QUORUM), 5,
                       m.ValidationResult(StepVotes(), Vote(VOTE_NO_QUORUM), m.QUORUM_NO_QUORUM), SIGN),
        m.Quorum(HDR, Attestation(RESULT_SUCCESS, Vote(VOTE_VALID, HASH), SV, SV)),
        m.ValidationQuorum(HDR, m.ValidationResult(SV, Vote(VOTE_INVALID, HASH), m.QUORUM_INVALID)),
        m.Candidate(block),
    ]


def enc(msg):
    return m.encode_message(msg, push_block)


def dec(data):
    return m.decode_message(data, pull_block)


@pytest.mark.twin
def test_wire_sizes_match_protocol():
    s = samples()
    assert len(enc(s[0])) == 224       # Validation(Valid)
    assert len(enc(s[2])) == 322       # Ratification(Valid)
    assert len(enc(s[4])) == 193       # Quorum(Success)
    assert enc(s[0])[:6] == bytes([1, 0, 0, 0, 0, m.TOPIC_VALIDATION])


@pytest.mark.twin
def test_round_trips():
    for msg in samples():
        data = enc(msg)
        back = dec(data)
        assert type(back) is type(msg)
        assert enc(back) == data


@pytest.mark.twin
def test_signed_bytes():
    v = m.Validation(HDR, Vote(VOTE_VALID, HASH), SIGN)
    assert v.signable() == HDR.encode() + b"\x01" + b"\x01" + HASH
    r = m.Ratification(HDR, Vote(VOTE_NO_QUORUM), 0, None, SIGN)
    assert r.signable() == HDR.encode() + b"\x02" + b"\x03"


@pytest.mark.twin
def test_truncation_trailing_junk_and_random_bytes_raise_decode_errors():
    for msg in samples():
        data = enc(msg)
        for cut in range(len(data)):
            with pytest.raises(RemoteProtocolError):
                dec(data[:cut])
        with pytest.raises(DecodeError):
            dec(data + b"\x00")
    rng = random.Random(1)
    base = [enc(s) for s in samples()]
    for _ in range(3000):
        data = bytearray(rng.choice(base))
        for _ in range(rng.randrange(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        if rng.random() < 0.2:
            data = bytearray(rng.randbytes(rng.randrange(0, 400)))
        try:
            dec(bytes(data))
        except RemoteProtocolError:
            pass


@pytest.mark.twin
def test_non_consensus_topic_and_oversized_candidate_rejected():
    with pytest.raises(DecodeError):
        dec(bytes([1, 0, 0, 0, 0, m.TOPIC_TX]) + b"x")
    with pytest.raises(DecodeError):
        dec(bytes([1, 0, 0, 0, 0, m.TOPIC_CANDIDATE]) + bytes(m.MAX_BLOCK_SIZE + 1))


@pytest.mark.twin
def test_aggregator_counts_each_signer_once_with_credits_and_reports_conflicts():
    pks = [bytes([i]) * 96 for i in range(1, 5)]
    committee = Committee(pks, [30, 13, 11, 10])
    agg = StepAggregator(committee, 1)
    valid = Vote(VOTE_VALID, HASH)

    def vote(pk, v):
        return m.Validation(HDR, v, m.SignInfo(pk, bytes(48)))

    assert get_quorum(valid) == 43 and get_quorum(Vote(VOTE_NO_CANDIDATE)) == 33
    assert agg.add(vote(pks[0], valid)) is None
    assert agg.add(vote(pks[0], valid)) is None      # duplicate: counted once
    assert agg.get_credits(valid) == 30
    with pytest.raises(ConflictingVote) as info:
        agg.add(vote(pks[0], Vote(VOTE_NO_CANDIDATE)))
    assert info.value.fault.kind == 2 and info.value.fault.signer == pks[0]
    assert agg.add(vote(pks[1], valid)) == valid      # 43 credits: quorum
    emergency = StepAggregator(committee, 1, emergency=True)
    emergency.add(vote(pks[0], valid))
    assert emergency.add(vote(pks[0], Vote(VOTE_NO_CANDIDATE))) is None  # relaxed in emergency


def test_engine_drops_messages_beyond_tip_plus_10():
    from dusk_edge.sim.consensus_sim import ConsensusSim
    sim = ConsensusSim(n=4, seed=1)
    sim.start()
    engine = sim.nodes[0].engine
    tip = engine.tip
    far = m.Validation(ConsensusHeader(tip.hash, tip.height + 11, 0), Vote(VOTE_NO_CANDIDATE), SIGN)
    near = m.Validation(ConsensusHeader(tip.hash, tip.height + 10, 0), Vote(VOTE_NO_CANDIDATE), SIGN)
    engine.on_message(far, 0)
    assert engine.rejected.get("RemoteProtocolError") == 1 and engine.future == []
    engine.on_message(near, 0)
    assert engine.future == [near]


def test_engine_ignores_bad_signatures_and_non_members():
    from dusk_edge.sim.consensus_sim import ConsensusSim
    sim = ConsensusSim(n=8, seed=2)
    sim.start()
    engine = sim.nodes[0].engine
    hdr = ConsensusHeader(engine.tip.hash, engine.round, 0)
    outsider = m.Validation(hdr, Vote(VOTE_NO_CANDIDATE), m.SignInfo(b"\x99" * 96, bytes(48)))
    engine.on_message(outsider, 0)
    member = engine.committees.committee(0, 1).members[0]
    forged = m.Validation(hdr, Vote(VOTE_NO_CANDIDATE), m.SignInfo(member, bytes(48)))
    engine.on_message(forged, 0)
    assert engine.rejected.get("RemoteProtocolError") == 2
    assert engine.get_aggregator(0, 1).get_credits(Vote(VOTE_NO_CANDIDATE)) == 0


def test_engine_survives_mutated_message_streams():
    """Fuzz: mutated copies of real traffic either fail to decode (RemoteProtocolError) or are
    handled by the engine without any exception escaping, and the network still finalizes."""
    from dusk_edge.sim.consensus_sim import ConsensusSim
    sim = ConsensusSim(n=6, seed=41, stakes=[1000] * 6)
    captured = []
    original = sim.send_to_all

    def capture(node, data_for, msg):
        captured.append(data_for(node))
        original(node, data_for, msg)

    sim.send_to_all = capture
    sim.start()
    sim.run_until(20000)
    rng = random.Random(7)
    target = sim.nodes[0]
    for _ in range(1500):
        data = bytearray(rng.choice(captured))
        for _ in range(rng.randrange(1, 3)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        try:
            msg = dec(bytes(data))
        except RemoteProtocolError:
            continue
        target.engine.on_message(msg, sim.now)
        sim.flush(target)
    sim.run_until(sim.now + 20000)
    assert sim.final_conflicts() == []
    assert target.chain.finality.last_final >= 5


def test_tampered_candidate_copy_is_dropped_not_voted_invalid():
    from dusk_edge.sim.consensus_sim import ConsensusSim
    sim = ConsensusSim(n=6, seed=43, stakes=[1000] * 6)
    sim.start()
    sim.run_until(1500)   # before anyone produces the round-1 candidate (2 s minimum block time)
    engine = sim.nodes[0].engine
    gen = engine.committees.generator(0)
    producer = [n for n in sim.nodes if n.pk == gen][0]
    block = producer.chain.build_candidate(1, 0, producer.signer.sign_seed(1, bytes(48)), gen, [], [], 2000)
    block.header.signature = producer.signer.sign_candidate(1, 0, block.header.hash)
    tampered = dec(enc(m.Candidate(block)))
    tampered.block.header.gas_limit += 1            # header no longer matches its signed hash
    engine.on_message(tampered, 2000)
    from dusk_edge.core.ledger.faults import Fault, FaultData
    body = dec(enc(m.Candidate(block)))
    data = FaultData(HDR, bytes(96), bytes(48), Vote(VOTE_NO_CANDIDATE))
    body.block.faults.append(Fault(2, data, data))  # the body no longer matches faultroot
    engine.on_message(body, 2000)
    assert engine.candidates == {}
    assert engine.rejected.get("RemoteProtocolError", 0) + engine.rejected.get("InvalidBlockRoots", 0) == 2
    engine.on_message(dec(enc(m.Candidate(block))), 2000)
    assert engine.candidates[0].header.hash == block.header.hash


def test_signer_refusals_are_events_not_crashes():
    from dusk_edge.core.errors import DuskEdgeError
    from dusk_edge.sim.consensus_sim import ConsensusSim

    class RefusingSigner:
        def __init__(self, inner):
            self.inner = inner

        def public_key(self):
            return self.inner.public_key()

        def __getattr__(self, name):
            def refuse(*args):
                raise DuskEdgeError("token unplugged")
            return refuse

    sim = ConsensusSim(n=6, seed=47, stakes=[1000, 1000, 1000, 1000, 1000, 3000])
    sim.nodes[5].engine.signer = RefusingSigner(sim.nodes[5].signer)   # the biggest staker cannot sign
    failures = []
    original = sim.on_event

    def watch(node, event):
        if event[0] == "sign_failed":
            failures.append((node.index, event[1]))
        original(node, event)

    sim.on_event = watch
    sim.start()
    sim.run_until(90000, stop=lambda: sim.min_height() >= 5)
    assert sim.min_height() >= 5 and sim.final_conflicts() == []
    assert failures and all(index == 5 for index, _ in failures)
    assert set(method for _, method in failures) >= {"sign_vote"}


def test_attestation_verification_rebuilds_committee_and_needs_quorum():
    from dusk_edge.core.consensus.aggregator import InvalidAttestation, build_attestation, verify_attestation
    from dusk_edge.core.consensus.messages import compute_vote_signable
    from dusk_edge.core.consensus.sortition import DUSK, CommitteeCache
    from dusk_edge.sim.fake_bls import FakeBls, fake_public_key, fake_sign
    provs = [(fake_public_key(i), (1000 + 300 * i) * DUSK, 0) for i in range(10)]
    cache = CommitteeCache(provs, bytes(48), 3)
    header = ConsensusHeader(bytes([4]) * 32, 3, 0)
    vote = Vote(VOTE_VALID, HASH)
    verifier = FakeBls()
    steps = []
    for step in (1, 2):
        committee = cache.committee(0, step)
        msg = compute_vote_signable(header, step, vote)
        sig = verifier.aggregate_signatures([fake_sign(pk, msg) for pk in committee.members])
        steps.append(StepVotes((1 << len(committee)) - 1, sig))
    att = build_attestation(vote, steps[0], steps[1])
    verify_attestation(att, header, cache, verifier)
    # bits beyond the committee are ignored (the reference's intersect), not counted
    padded = build_attestation(vote, StepVotes(steps[0].bitset | (1 << 63), steps[0].aggregate_signature), steps[1])
    verify_attestation(padded, header, cache, verifier)
    with pytest.raises(InvalidAttestation):   # the votes signed round 3, not round 4
        verify_attestation(att, ConsensusHeader(bytes([4]) * 32, 4, 0), CommitteeCache(provs, bytes(48), 4), verifier)
    committee = cache.committee(0, 2)
    few = [pk for pk in committee.members][:1]
    msg = compute_vote_signable(header, 2, vote)
    weak = StepVotes(committee.get_bitset(few), verifier.aggregate_signatures([fake_sign(pk, msg) for pk in few]))
    with pytest.raises(InvalidAttestation):   # below the 43-credit supermajority
        verify_attestation(build_attestation(vote, steps[0], weak), header, cache, verifier)
    with pytest.raises(InvalidAttestation):   # signature of other members than the bitset names
        verify_attestation(build_attestation(vote, steps[0], StepVotes(steps[1].bitset >> 1,
                                                                         steps[1].aggregate_signature)),
                           header, cache, verifier)
