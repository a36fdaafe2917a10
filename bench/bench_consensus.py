"""Consensus benchmarks -> bench/results/consensus.json (`python -m bench consensus`).

- attestation verification per block (both steps, real BLS, 64-credit committees), against
  verifying each vote signature one by one (the baseline);
- committee creation for 1,000 and 10,000 provisioners, C walk vs the pure twin;
- a simulated 64-provisioner network with realistic delays (dusk preset): share of blocks at
  iteration 0 and time from proposal to Final;
- a 1,000-round Byzantine safety run (< 1/3 stake silent / equivocating / invalid proposals).
"""
import os
import time

from bench.common import median_ms, write_results
from dusk_edge.core import _native, accel
from dusk_edge.core.consensus.aggregator import verify_attestation
from dusk_edge.core.consensus.attestation import (RESULT_SUCCESS, VOTE_VALID, Attestation,
                                                  ConsensusHeader, StepVotes, Vote)
from dusk_edge.core.consensus.messages import compute_vote_signable
from dusk_edge.core.consensus.sortition import (DUSK, CommitteeCache, create_committee,
                                                create_committee_from_eligible, get_eligible)
from dusk_edge.crypto import bls
from dusk_edge.sim.consensus_sim import EQUIVOCATE, INVALID, SILENT, ConsensusSim


def build_attested_round(n=80):
    sks = [bls.secret_key_from_int(5000 + i) for i in range(n)]
    pks = [bls.public_key(sk) for sk in sks]
    by_pk = dict(zip(pks, sks))
    provs = [(pks[i], (1000 + 37 * i) * DUSK, 0) for i in range(n)]
    header = ConsensusHeader(bytes([1]) * 32, 42, 0)
    vote = Vote(VOTE_VALID, bytes([2]) * 32)
    cache = CommitteeCache(provs, bytes([3]) * 48, 42)
    steps = []
    for step in (1, 2):
        committee = cache.committee(0, step)
        msg = compute_vote_signable(header, step, vote)
        sigs = [bls.sign_multisig(by_pk[pk], msg, pk) for pk in committee.members]
        steps.append((StepVotes((1 << len(committee.members)) - 1, bls.aggregate_signatures(sigs)),
                      committee, msg, sigs))
    att = Attestation(RESULT_SUCCESS, vote, steps[0][0], steps[1][0])
    return provs, header, att, steps


class Verifier:
    verify_multisig = staticmethod(bls.verify_multisig)
    aggregate_signatures = staticmethod(bls.aggregate_signatures)


def bench_attestation():
    provs, header, att, steps = build_attested_round()
    warm = CommitteeCache(provs, bytes([3]) * 48, 42)
    verify_attestation(att, header, warm, Verifier)
    cached = median_ms(lambda: verify_attestation(att, header, warm, Verifier), runs=9)
    # the machine is shared: the fastest of 15 runs shows the uncontended cost beside the median
    fastest = min(median_ms(lambda: verify_attestation(att, header, warm, Verifier), runs=1) for _ in range(15))

    def cold():
        bls.COEFFICIENT_KEYS.clear()
        verify_attestation(att, header, CommitteeCache(provs, bytes([3]) * 48, 42), Verifier)

    cold_ms = median_ms(cold, runs=5)

    def one_by_one():
        for _sv, committee, msg, sigs in steps:
            for pk, sig in zip(committee.members, sigs):
                bls.verify_multisig([pk], msg, sig)

    baseline = median_ms(one_by_one, runs=5)
    members = [len(s[1].members) for s in steps]
    return {"committee_members": members, "verify_ms_warm_committee": round(cached, 3),
            "verify_ms_warm_committee_fastest_of_15": round(fastest, 3),
            "verify_ms_cold_committee_and_keys": round(cold_ms, 3),
            "baseline_each_vote_ms": round(baseline, 3),
            "speedup_vs_each_vote": round(baseline / cached, 1), "goal_ms": 5.0,
            "meets_goal_median": cached <= 5.0, "meets_goal_fastest": fastest <= 5.0}


def bench_committees():
    """One 64-credit committee from the raw provisioner list (sort included), and one from the
    round's pre-sorted eligible set (what CommitteeCache does), C walk vs pure twin."""
    out = {}
    for n in (1000, 10000):
        provs = [(i.to_bytes(4, "big") * 24, (1000 + (i * 7919) % 50000) * DUSK, 0) for i in range(n)]
        keys, weights = get_eligible(provs, 1)
        times = {}
        for name, backend in (("c", accel.SPEEDUPS), ("pure", _native)):
            if backend is None:
                continue
            previous = accel.use(backend)
            try:
                times[name] = median_ms(lambda: create_committee(provs, bytes(48), 1, 1, 64), runs=7)
                times[name + "_sorted"] = median_ms(
                    lambda: create_committee_from_eligible(keys, weights, bytes(48), 1, 64), runs=7)
            finally:
                accel.use(previous)
        row = {"from_list_pure_ms": round(times["pure"], 2), "presorted_pure_ms": round(times["pure_sorted"], 2)}
        if "c" in times:
            row["from_list_c_ms"] = round(times["c"], 2)
            row["presorted_c_ms"] = round(times["c_sorted"], 2)
            row["from_list_speedup_vs_pure"] = round(times["pure"] / times["c"], 1)
            row["presorted_speedup_vs_pure"] = round(times["pure_sorted"] / times["c_sorted"], 1)
        out["provisioners_%d" % n] = row
    return out


def bench_network(blocks=100):
    sim = ConsensusSim(n=64, seed=64, time_scale=1, loss=0.01, delay_ms=(30, 400))
    t0 = time.perf_counter()
    sim.start()
    sim.run_until(blocks * 12 * 1000, stop=lambda: sim.min_height() >= blocks)
    s = sim.summary()
    s["wall_s"] = round(time.perf_counter() - t0, 1)
    s["preset"] = "dusk (10 s block time)"
    s["goal_iteration0_share"] = 0.95
    return s


def bench_byzantine(rounds=1000):
    stakes = [1000 + 150 * i for i in range(16)]
    behaviours = {0: SILENT, 3: EQUIVOCATE, 7: INVALID, 12: SILENT, 13: EQUIVOCATE}
    byz_share = sum(stakes[i] for i in behaviours) / float(sum(stakes))
    sim = ConsensusSim(n=16, seed=99, stakes=stakes, behaviours=behaviours, loss=0.05)
    t0 = time.perf_counter()
    sim.start()
    sim.run_until(10 ** 9, stop=lambda: sim.min_height() >= rounds)
    s = sim.summary()
    return {"rounds": s["min_honest_height"], "byzantine_stake_share": round(byz_share, 3),
            "final_conflicts": s["final_conflicts"], "final_height": s["final_height"],
            "iteration0_share": round(s["iteration0_share"], 3), "max_iteration": s["max_iteration"],
            "virtual_s": s["virtual_s"], "wall_s": round(time.perf_counter() - t0, 1)}


def main():
    # the machine is shared with other jobs: record the load so the absolute figures can be judged
    results = {"load_average_at_start": [round(x, 2) for x in os.getloadavg()]}
    results["attestation_verification"] = bench_attestation()
    print("attestation:", results["attestation_verification"], flush=True)
    results["committee_creation"] = bench_committees()
    print("committees:", results["committee_creation"], flush=True)
    results["network_64"] = bench_network()
    print("network_64:", results["network_64"], flush=True)
    results["byzantine_1000_rounds"] = bench_byzantine()
    print("byzantine:", results["byzantine_1000_rounds"], flush=True)
    results["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print("wrote", write_results("consensus", results))


if __name__ == "__main__":
    main()
