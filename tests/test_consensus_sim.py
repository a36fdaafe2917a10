"""Simulated provisioner networks (virtual clock) running the real ConsensusEngine: liveness,
safety, failure handling (PROTOCOL.md §3). 16+ nodes use the counting fake BLS; 4 nodes real BLS."""
import pytest

from dusk_edge.core.consensus.attestation import RESULT_FAIL, VOTE_INVALID, VOTE_NO_CANDIDATE
from dusk_edge.core.consensus.messages import TOPIC_CANDIDATE
from dusk_edge.core.consensus.sortition import CommitteeCache
from dusk_edge.sim.consensus_sim import EQUIVOCATE, INVALID, SILENT, ConsensusSim

pytestmark = pytest.mark.timeout(240)


def run(sim, seconds, stop=None):
    sim.run_until(sim.now + seconds * 1000, stop)
    return sim.summary()


def generator_of(sim, round, iteration):
    return CommitteeCache(sim.provisioners, sim.nodes[0].chain.blocks[round - 1].header.seed, round).generator(iteration)


def node_of(sim, pk):
    return [n.index for n in sim.nodes if n.pk == pk][0]


def test_four_nodes_real_bls_reach_final():
    sim = ConsensusSim(n=4, seed=3, real_bls=True, stakes=[1000, 3000, 2000, 5000])
    sim.start()
    s = run(sim, 30, stop=lambda: sim.min_height() >= 4)
    assert s["final_conflicts"] == []
    assert s["min_honest_height"] >= 4
    assert min(n.chain.finality.last_final for n in sim.nodes) >= 3
    # every node holds the same Final blocks
    finals = [n.chain.final_hashes[3] for n in sim.nodes]
    assert len(set(finals)) == 1


@pytest.mark.parametrize("n", [16, 64])
def test_unequal_stakes_produce_final_blocks(n):
    sim = ConsensusSim(n=n, seed=n)
    sim.start()
    s = run(sim, 40 if n == 64 else 60, stop=lambda: sim.min_height() >= 8)
    assert s["final_conflicts"] == []
    assert s["min_honest_height"] >= 8
    assert s["final_height"] >= 7
    assert s["iteration0_share"] >= 0.9


def test_twenty_percent_loss_keeps_progress():
    sim = ConsensusSim(n=16, seed=5, loss=0.2)
    sim.start()
    s = run(sim, 120, stop=lambda: sim.min_height() >= 8)
    assert s["final_conflicts"] == []
    assert s["min_honest_height"] >= 8


def test_offline_generator_fail_no_candidate_then_soft_slash():
    sim = ConsensusSim(n=16, seed=11)
    gen = node_of(sim, generator_of(sim, 1, 0))
    sim.crash(gen)
    sim.start()
    run(sim, 120, stop=lambda: sim.min_height() >= 2)
    block = sim.nodes[(gen + 1) % 16].chain.blocks[1]
    assert block.header.iteration >= 1
    entry = block.header.failed_iterations[0]
    assert entry is not None and entry.generator == sim.nodes[gen].pk
    assert entry.attestation.result == RESULT_FAIL and entry.attestation.vote.kind == VOTE_NO_CANDIDATE
    chain = sim.nodes[(gen + 1) % 16].chain
    assert (1, "soft", sim.nodes[gen].pk) in chain.slashes
    named = sum(1 for e in block.header.failed_iterations
                if e is not None and e.generator == sim.nodes[gen].pk and e.attestation.vote.kind == VOTE_NO_CANDIDATE)
    assert chain.stakes_at[1][sim.nodes[gen].pk][2] == named  # one soft-slash fault per missed iteration


def test_invalid_candidate_gets_invalid_quorum():
    probe = ConsensusSim(n=16, seed=13)
    bad = node_of(probe, generator_of(probe, 1, 0))
    sim = ConsensusSim(n=16, seed=13, behaviours={bad: INVALID})
    sim.start()
    run(sim, 120, stop=lambda: sim.min_height() >= 2)
    honest = sim.nodes[(bad + 1) % 16]
    block = honest.chain.blocks[1]
    assert block.header.iteration >= 1
    entry = block.header.failed_iterations[0]
    assert entry is not None and entry.attestation.vote.kind == VOTE_INVALID


def test_equivocating_votes_become_fault_in_later_block():
    # the equivocator holds a large stake so it sits in most committees
    stakes = [1000] * 15 + [6000]
    sim = ConsensusSim(n=16, seed=17, stakes=stakes, behaviours={15: EQUIVOCATE})
    sim.start()

    def fault_included():
        return any(f.first.signer == sim.nodes[15].pk for b in sim.nodes[0].chain.blocks for f in b.faults)

    s = run(sim, 120, stop=fault_included)
    assert fault_included()
    assert s["final_conflicts"] == []
    chain = sim.nodes[0].chain
    height = [b.header.height for b in chain.blocks if any(f.first.signer == sim.nodes[15].pk for f in b.faults)][0]
    assert (height, "soft", sim.nodes[15].pk) in chain.slashes   # the ledger slashed the signer
    assert chain.stakes_at[height][sim.nodes[15].pk][2] >= 1


def test_partition_60_40_no_conflicting_final_and_convergence():
    sim = ConsensusSim(n=10, seed=19, stakes=[1000] * 10)
    sim.start()
    run(sim, 20)
    sim.set_partition([list(range(6)), list(range(6, 10))])
    run(sim, 120)
    assert sim.final_conflicts() == []
    sim.set_partition(None)
    before = max(n.chain.tip_header().height for n in sim.nodes)
    run(sim, 240, stop=lambda: sim.min_height() >= before + 4)
    s = sim.summary()
    assert s["final_conflicts"] == []
    assert s["min_honest_height"] >= before + 4
    heights = [n.chain.finality.last_final for n in sim.nodes]
    low = min(heights)
    assert len(set(n.chain.final_hashes[low] for n in sim.nodes)) == 1


def test_byzantine_minority_never_two_final_blocks_at_one_height():
    stakes = [1000 + 100 * i for i in range(16)]
    behaviours = {0: SILENT, 5: EQUIVOCATE, 9: INVALID}  # well below 1/3 of the stake
    assert sum(stakes[i] for i in behaviours) * 3 < sum(stakes)
    sim = ConsensusSim(n=16, seed=23, stakes=stakes, behaviours=behaviours, loss=0.05)
    sim.start()
    s = run(sim, 150)
    assert s["final_conflicts"] == []
    assert s["final_height"] >= 10


def test_emergency_mode_after_16_failed_iterations_and_left_after_a_block():
    sim = ConsensusSim(n=8, seed=29, stakes=[1000] * 8)

    def drop(node, peer, msg):
        return msg.topic == TOPIC_CANDIDATE and msg.block.header.height == 1 and msg.block.header.iteration < 16

    sim.drop_filter = drop
    sim.start()
    run(sim, 900, stop=lambda: sim.min_height() >= 3)
    chain = sim.nodes[1].chain
    assert chain.blocks[1].header.iteration >= 16
    assert chain.blocks[2].header.iteration == 0 and chain.blocks[3].header.iteration == 0
    assert sim.summary()["final_conflicts"] == []


def test_open_consensus_then_emergency_block_signed_by_genesis_key():
    # the ledger refuses the block after an emergency block (its prev_block_cert names no voters)
    sim = ConsensusSim(n=4, seed=31, stakes=[1000] * 4, emergency_node=0, ledger=False)

    def drop(node, peer, msg):
        return msg.topic == TOPIC_CANDIDATE and msg.block.header.height == 1

    sim.drop_filter = drop
    for node in sim.nodes:  # round 1: nobody votes (no candidate arrives), so every iteration fails
        original = node.engine.compute_validation_vote
        node.engine.compute_validation_vote = (
            lambda i, now, e=node.engine, f=original: None if e.round == 1 else f(i, now))
    sim.start()
    run(sim, 1300, stop=lambda: sim.nodes[0].chain.tip_header().height >= 1)
    assert sim.nodes[0].engine.round == 2
    block = sim.nodes[0].chain.blocks[1]
    assert block.header.iteration == 255 and block.header.generator_bls_pubkey == sim.nodes[0].pk
    assert block.header.timestamp >= sim.timing.emergency_block_time
    run(sim, 60, stop=lambda: sim.min_height() >= 3)
    assert sim.min_height() >= 3   # the others synced it and consensus went on
    assert sim.nodes[2].chain.blocks[1].header.hash == block.header.hash


def test_crashed_provisioner_restarts_and_catches_up():
    sim = ConsensusSim(n=8, seed=37, stakes=[1000, 1200, 1400, 1600, 1800, 2000, 2200, 2400])
    sim.start()
    run(sim, 10)
    sim.crash(1)
    run(sim, 40)
    behind = sim.nodes[1].chain.tip_header().height
    assert sim.min_height() > behind   # the others went on without it (min over online nodes)
    sim.restart(1)
    target = max(n.chain.tip_header().height for n in sim.nodes) + 3
    run(sim, 60, stop=lambda: sim.nodes[1].chain.tip_header().height >= target)
    assert sim.nodes[1].chain.tip_header().height >= target
    assert sim.final_conflicts() == []


def test_double_candidate_becomes_fault_in_later_block():
    # node 7 holds most of the stake, so it is often the generator and signs two candidates a slot
    sim = ConsensusSim(n=8, seed=53, stakes=[1000] * 7 + [5000], behaviours={7: EQUIVOCATE})
    sim.start()
    pk = sim.nodes[7].pk

    def double_candidate_included():
        return any(f.kind == 0 and f.first.signer == pk for b in sim.nodes[0].chain.blocks for f in b.faults)

    s = run(sim, 300, stop=double_candidate_included)
    assert double_candidate_included()
    assert s["final_conflicts"] == []


def test_adaptive_timeouts_settle_at_minimum_and_grow_on_timeout():
    sim = ConsensusSim(n=8, seed=59)
    sim.start()
    run(sim, 40, stop=lambda: sim.min_height() >= 6)
    timing = sim.timing
    engine = sim.nodes[0].engine
    # fast steps: the base timeouts fall to the minimum (1.4 s on the devnet scale)
    assert engine.timeouts.current == [timing.min_step_timeout] * 3
    assert all(len(h) == 5 for h in engine.timeouts.history)
    engine.timeouts.on_step_timeout(0)
    assert engine.timeouts.get(0) == timing.min_step_timeout + timing.timeout_increase
