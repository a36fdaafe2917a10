"""Deterministic sortition (PROTOCOL.md §4) against the reference vectors and its own invariants."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dusk_edge.core import _native
from dusk_edge.core.consensus import sortition
from dusk_edge.core.consensus.sortition import DUSK, Committee, create_committee, get_generator
from dusk_edge.core.errors import LocalProtocolError

pytestmark = pytest.mark.twin

FIXTURE_PK_HEX_PREFIX = "8cae8f7f3f80932052b0fd71174108a1"


def provisioners(n, stake=1000):
    return [(bytes([i]) * 96, stake * DUSK * (i + 1), 0) for i in range(n)]


def test_reference_sortition_hash_and_scores(twins):
    h = sortition.compute_sortition_hash(bytes([3] * 48), 3, 1)
    assert list(h) == [74, 64, 238, 174, 226, 52, 11, 105, 93, 251, 204, 6, 137, 176, 14, 96, 77, 139,
                       92, 76, 7, 178, 38, 16, 132, 233, 13, 180, 78, 206, 204, 31]
    assert sortition.compute_sortition_score(h, 123342342) == 80689917
    h4 = sortition.compute_sortition_hash(bytes([4] * 48), 3, 1)
    assert sortition.compute_sortition_score(h4, 44443333) == 20330495


def test_deterministic_sortition_1_reference(twins):
    from dusk_edge.crypto import bls
    sks = ["611830d3641a68f94a690dcc25d1f4b0dac948325ac18f6dd32564371735f32c",
           "1fbec814b18b1d4c3eaa7cec41007e04bf0a98453b06ec7582aa29882c52eb3e",
           "ecd9c4a53ea15f18447b08fb96a13c5ab7dc7d24067b102fcbaaf7b39ca52e2d",
           "e463bcb1a6e57288ffd4671503082fa8656e3eacb78fb1925f8a7c76400e8e15"]
    pks = [bls.public_key(bytes.fromhex(s)) for s in sks]
    assert pks[0].hex().startswith(FIXTURE_PK_HEX_PREFIX)
    provs = [(pks[i], 1000 * (i + 1) * DUSK, 0) for i in range(4)]
    committee = create_committee(provs, bytes(48), 0, 1, 64)
    assert committee.credits == [4, 29, 9, 22]
    assert committee.members == sorted(committee.members)
    assert committee.total_credits == 64


def test_weights_drop_by_at_most_one_dusk_per_credit_and_partial_committee(twins):
    one = [(b"\xab" * 96, 1000 * DUSK, 0)]
    c = create_committee(one, bytes(48), 0, 1, 5000)
    assert c.credits == [1000]  # total weight 1000 DUSK -> at most 1000 extractions, then partial


def test_eligibility_and_exclusion(twins):
    provs = provisioners(5)
    provs.append((b"\xee" * 96, 999 * DUSK, 0))       # below the minimum stake
    provs.append((b"\xef" * 96, 5000 * DUSK, 10))      # eligible only from round 10
    c = create_committee(provs, bytes(48), 5, 1, 64)
    assert b"\xee" * 96 not in c and b"\xef" * 96 not in c
    excluded = c.members[0]
    c2 = create_committee(provs, bytes(48), 5, 1, 64, [excluded])
    assert excluded not in c2 and c2.total_credits == 64
    single = [(b"\x01" * 96, 2000 * DUSK, 0)]
    assert create_committee(single, bytes(48), 0, 1, 3, [b"\x01" * 96]).members == [b"\x01" * 96]


def test_generator_and_step_committee_exclusions(twins):
    provs = provisioners(12)
    seed = bytes(range(48))
    for iteration in (0, 5, 48, 49):
        cache = sortition.CommitteeCache(provs, seed, 7)
        gen = get_generator(provs, seed, 7, iteration)
        assert cache.generator(iteration) == gen
        committee = cache.committee(iteration, sortition.STEP_VALIDATION)
        assert gen not in committee
        if iteration < 49:
            assert get_generator(provs, seed, 7, iteration + 1) not in committee
        assert committee == committee or True
        assert sortition.create_step_committee(provs, seed, 7, iteration, 2).members == \
            cache.committee(iteration, 2).members
    with pytest.raises(LocalProtocolError):
        get_generator(provs, seed, 7, 50)


@given(st.integers(min_value=0, max_value=(1 << 12) - 1))
@settings(max_examples=100, deadline=None)
def test_intersect_bits_round_trip(bits):
    committee = Committee([bytes([i]) * 96 for i in range(12)], [1] * 12)
    assert committee.get_bitset(committee.get_members_of(bits)) == bits
    assert committee.intersect(bits | (1 << 40)) == bits


@given(st.lists(st.integers(min_value=0, max_value=(1 << 64) - 1), min_size=1, max_size=40), st.data())
@settings(max_examples=200, deadline=None)
def test_sortition_pick_twins_agree(weights, data):
    from dusk_edge.core import accel
    if accel.SPEEDUPS is None:
        pytest.skip("C speedups not built (pure-twin pass)")
    total = sum(weights)
    score = data.draw(st.integers(min_value=0, max_value=min(total + 5, (1 << 64) - 1)))
    results = []
    for fn in (_native.sortition_pick, accel.SPEEDUPS.sortition_pick):
        try:
            results.append(("ok", fn(list(weights), score)))
        except ValueError as exc:
            results.append(("err", str(exc)))
    assert results[0] == results[1]


def test_sortition_pick_limits(twins):
    with pytest.raises(ValueError):
        twins.sortition_pick([1, 2], 4)
    with pytest.raises(ValueError):
        twins.sortition_pick([1 << 64], 0)
    with pytest.raises(ValueError):
        twins.sortition_pick([1], -1)
    assert twins.sortition_pick([0, 5], 0) == 0
    assert twins.sortition_pick([3, 4, 5], 7) == 1


def sketch_committee(stakes, seed, step, credits, exclusion=(), rnd=0):
    """PROTOCOL.md §4's Python sketch, verbatim in spirit (an independent oracle)."""
    import hashlib
    el = {pk: v for pk, (v, es) in stakes.items() if es <= rnd and v >= 1000 * DUSK}
    if len(el) > 1 and exclusion:
        el = {pk: v for pk, v in el.items() if pk not in exclusion}
    order, total, out = sorted(el), sum(el.values()), []
    while len(out) != credits:
        s = int.from_bytes(hashlib.sha3_256(seed + bytes([step]) + len(out).to_bytes(4, "little")).digest(),
                           "big") % total
        for pk in order:
            if el[pk] >= s:
                break
            s -= el[pk]
        d = min(el[pk], DUSK)
        el[pk] -= d
        out.append(pk)
        if total > d:
            total -= d
        else:
            break
    return [(pk, out.count(pk)) for pk in sorted(set(out))]


@given(st.lists(st.tuples(st.binary(min_size=96, max_size=96),
                          st.integers(min_value=990, max_value=3000), st.integers(min_value=0, max_value=3)),
                min_size=1, max_size=12, unique_by=lambda t: t[0]),
       st.binary(min_size=48, max_size=48), st.integers(min_value=0, max_value=149),
       st.integers(min_value=1, max_value=80), st.integers(min_value=0, max_value=2), st.data())
@settings(max_examples=60, deadline=None)
def test_create_committee_matches_protocol_sketch(provs, seed, step, credits, rnd, data):
    stakes = {pk: (dusk * DUSK + 17, es) for pk, dusk, es in provs}
    if not any(v >= 1000 * DUSK and es <= rnd for v, es in stakes.values()):
        return
    exclusion = data.draw(st.lists(st.sampled_from(sorted(stakes)), max_size=2))
    flat = [(pk, v, es) for pk, (v, es) in stakes.items()]
    got = create_committee(flat, seed, rnd, step, credits, exclusion)
    expected_members = sketch_committee(stakes, seed, step, credits, exclusion, rnd) \
        if any(pk not in exclusion for pk, (v, es) in stakes.items() if v >= 1000 * DUSK and es <= rnd) \
        or sum(1 for v, es in stakes.values() if v >= 1000 * DUSK and es <= rnd) == 1 else []
    assert list(zip(got.members, got.credits)) == expected_members


@given(st.lists(st.integers(min_value=0, max_value=1 << 62), min_size=0, max_size=30),
       st.lists(st.integers(min_value=0, max_value=(1 << 256) - 1), max_size=70),
       st.sampled_from([1, 7, DUSK, (1 << 64) - 1]))
@settings(max_examples=200, deadline=None)
def test_sortition_extract_twins_agree(weights, hashes, unit):
    from dusk_edge.core import accel
    if accel.SPEEDUPS is None:
        pytest.skip("C speedups not built (pure-twin pass)")
    outcomes = []
    for fn in (_native.sortition_extract, accel.SPEEDUPS.sortition_extract):
        w = list(weights)
        try:
            outcomes.append((fn(w, list(hashes), unit), w))
        except ValueError as exc:
            outcomes.append(("err", str(exc)))
    assert outcomes[0] == outcomes[1]


def test_sortition_extract_limits(twins):
    with pytest.raises(ValueError):
        twins.sortition_extract([1 << 63, 1 << 63], [5], DUSK)     # total beyond u64
    with pytest.raises(ValueError):
        twins.sortition_extract([-1], [5], DUSK)
    with pytest.raises(ValueError):
        twins.sortition_extract([5], [5], -1)
    with pytest.raises(TypeError):
        twins.sortition_extract([5], [b"x"], DUSK)
    w = [3, 0]
    assert twins.sortition_extract(w, [0, 0, 0, 0], 1) == [0, 0, 0]   # partial: total used up
    assert w == [0, 0]
    assert twins.sortition_extract([], [1, 2], 1) == []
