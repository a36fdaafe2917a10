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


def test_relay_variants_pick_nested_relays_and_the_aware_observer_inverts_the_choice():
    t, rng = topo(1000), random.Random(4)
    observers = set(rng.sample(range(t.n), t.n // 10))
    honest = [i for i in range(t.n) if i not in observers]
    naive = aware = 0
    for _ in range(20):
        origin, seed, u = rng.choice(honest), rng.getrandbits(32), rng.random()
        runs = dict((k, Run(t, random.Random(seed), 1024, 0.0, relay=True, relay_k=k, relay_u=u,
                            observers=observers).broadcast(origin)) for k in (1, 2, 4))
        for k, run in runs.items():
            assert run.relay_node == t.fastest(origin, k)[int(u * k)]  # one draw picks in every variant
            assert origin in t.could_have_chosen(run.relay_node, k)
        naive += guess_origin(runs[1], t) == origin
        aware += guess_origin(runs[1], t, relay_aware=True, relay_k=1, rng=rng, exclude=observers) == origin
    # relaying to the single fastest peer hides nothing from an observer who knows the scheme
    assert naive <= 4 and aware >= 10


def test_fast_first_hop_uses_the_lowest_latency_members_of_each_bucket():
    t = topo(1000)
    run = Run(t, random.Random(5), 1024, 0.0, relay=True, relay_k=4, relay_u=0.0, fast_first=True).broadcast(7)
    start, near = run.relay_node, set()
    for members in t.tables[start].values():
        near.update(sorted(members, key=lambda j: t.delay(start, j))[:6])
    first = [i for i, s in enumerate(run.senders) if s and s[0] == start and run.height[i] < 128]
    assert first and set(first) <= near
    s = run.summary()
    assert s["coverage"] == 1.0 and s["latency_ms_mean"] < s["latency_ms_p99"] <= s["latency_ms_max"]
