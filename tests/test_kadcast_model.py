"""The chunk-level model the 10,000-node bench uses (dusk_edge/sim/overlay_model.py) behaves like
PROTOCOL.md §1.6-§1.7 on cases whose answer is known without it."""
import random

from dusk_edge.sim.overlay_model import Run, Topology, chunk_counts, guess_origin


def topo(n=400, seed=1):
    return Topology(n, random.Random(seed))


def test_chunk_counts_follow_the_protocol():
    assert chunk_counts(224) == (1, 5)
    assert chunk_counts(1 << 20) == (810, 120)
    assert chunk_counts(1 << 20, fec=False) == (810, 0)


def test_tables_hold_true_bucket_members_only():
    t = topo()
    for i in range(0, t.n, 37):
        for h, members in t.tables[i].items():
            assert len(members) <= 20
            assert all((t.ids[i] ^ t.ids[j]).bit_length() - 1 == h for j in members)


def test_lossless_tree_reaches_everyone_and_loss_without_fec_breaks_big_rays():
    t, rng = topo(), random.Random(2)
    assert Run(t, rng, 1024, 0.0).broadcast(5).summary()["coverage"] == 1.0
    assert Run(t, rng, 1 << 20, 0.12, mode="nofec").broadcast(5).summary()["coverage"] < 0.01
    pulled = Run(t, rng, 1 << 20, 0.25, pull_repair=True).broadcast(5).summary()
    assert pulled["coverage"] == 1.0 and pulled["repair_requests"] > 0


def test_observer_finds_the_origin_and_the_relay_hides_it():
    t, rng = topo(1000), random.Random(3)
    observers = set(rng.sample(range(t.n), t.n // 10))
    honest = [i for i in range(t.n) if i not in observers]
    direct = relayed = 0
    for _ in range(20):
        origin = rng.choice(honest)
        direct += guess_origin(Run(t, rng, 1024, 0.0, observers=observers).broadcast(origin), t) == origin
        run = Run(t, rng, 1024, 0.0, observers=observers, relay=True).broadcast(origin)
        assert run.relay_node in t.fastest(origin)
        relayed += guess_origin(run, t) == origin
    assert direct >= 16 and relayed <= 8
