"""Step timeouts (§3.5) and rolling finality (§3.9) beyond the vectors; conformance vectors."""
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dusk_edge.conformance import run_paths
from dusk_edge.core.consensus import finality, timeouts
from dusk_edge.core.errors import DecodeError, LocalProtocolError
from dusk_edge.core.wire import Buffer

pytestmark = pytest.mark.twin
VECTORS = os.path.join(os.path.dirname(__file__), "vectors")
SUITES = ("sortition_hash", "sortition_score", "committee", "generator", "step_timeout", "rolling_finality")


def test_conformance_vectors_pass():
    lines = []
    passed, failed = run_paths([os.path.join(VECTORS, s) for s in SUITES], lines.append)
    assert failed == 0, [line for line in lines if line.startswith("FAIL")]
    assert passed >= 100


def test_base_timeout_rounding_and_clamp():
    t = timeouts.DUSK_TIMING
    assert timeouts.compute_base_timeout([], t) == 40000
    assert timeouts.compute_base_timeout([8000, 8001], t) == 8000
    assert timeouts.compute_base_timeout([8001], t) == 9000
    assert timeouts.compute_base_timeout([1], t) == 7000
    assert timeouts.compute_base_timeout([10 ** 9], t) == 40000
    dev = timeouts.devnet_timing(5)
    assert (dev.min_step_timeout, dev.max_step_timeout, dev.timeout_increase, dev.minimum_block_time) == \
        (1400, 8000, 400, 2000)
    assert timeouts.compute_base_timeout([1601], dev) == 1800   # rounds up to 0.2 s
    assert timeouts.compute_base_timeout([1600], dev) == 1600
    with pytest.raises(LocalProtocolError):
        timeouts.compute_base_timeout([-1], t)


def test_timing_follows_the_profile_and_its_genesis_overrides():
    from dusk_edge.core.ledger.profile import NetworkProfile

    for profile in (NetworkProfile.dusk(), NetworkProfile.devnet()):
        scaled = timeouts.Timing(profile.time_scale)
        assert [getattr(timeouts.timing_from_profile(profile), f) for f in timeouts.Timing.__slots__] == \
            [getattr(scaled, f) for f in timeouts.Timing.__slots__]
    custom = NetworkProfile("devnet", chain_id=0x41, fec="rs", time_scale=5,
                            overrides={"max_step_timeout_ms": 6000})
    timing = timeouts.timing_from_profile(custom)
    assert timing.max_step_timeout == 6000 and timing.min_step_timeout == 1400
    assert timeouts.compute_base_timeout([], timing) == 6000


def test_step_timeouts_grow_by_increase_up_to_max():
    st = timeouts.StepTimeouts(timeouts.DUSK_TIMING)
    for v in (9000, 9000, 9000):
        st.on_step_success(1, v)
    st.on_round_start()
    assert st.get(1) == 9000 and st.get(0) == 40000
    st.on_step_timeout(1)
    assert st.get(1) == 11000
    for _ in range(30):
        st.on_step_timeout(1)
    assert st.get(1) == 40000
    for v in range(10):
        st.on_step_success(2, 7000 + v)
    assert len(st.history[2]) == 5


def test_rolling_finality_iteration_zero_chain():
    rf = finality.RollingFinality(0)
    assert rf.on_block_accepted(1, 0, 0) == []
    assert rf.get_label(1) == finality.Label(finality.ATTESTED, 1)
    assert [h for h, _ in rf.on_block_accepted(2, 0, 0)] == [1]
    assert rf.last_final == 1


def test_rolling_finality_accepted_needs_stable_successors():
    rf = finality.RollingFinality(0)
    rf.on_block_accepted(1, 0, 0)
    rf.on_block_accepted(2, 2, 0)          # PNI 2 -> Accepted(4), no finality update
    assert rf.get_label(2) == finality.Label(finality.ACCEPTED, 4)
    assert rf.last_final == 0
    for h in (3, 4, 5):
        rf.on_block_accepted(h, 0, 0)
    # block 2 (Accepted(4)) holds back the walk, so even block 1 waits
    assert rf.last_final == 0 and rf.get_label(2).kind == finality.ACCEPTED
    assert rf.get_label(3).kind == finality.CONFIRMED
    rf.on_block_accepted(6, 0, 0)
    assert rf.last_final == 5
    with pytest.raises(LocalProtocolError):
        rf.on_block_reverted(5)
    with pytest.raises(LocalProtocolError):
        rf.on_block_accepted(8, 0, 0)
    with pytest.raises(LocalProtocolError):
        finality.compute_pni(1, 2)


def test_label_round_trip_and_fuzz():
    for kind in range(4):
        buf = Buffer()
        finality.push_label(buf, finality.Label(kind, 2 ** 64 - 1))
        data = bytes(buf.data)
        assert len(data) == 9
        assert finality.pull_label(Buffer(data)) == finality.Label(kind, 2 ** 64 - 1)
        for cut in range(len(data)):
            with pytest.raises(DecodeError):
                finality.pull_label(Buffer(data[:cut]))
    with pytest.raises(DecodeError):
        finality.pull_label(Buffer(bytes([4]) + bytes(8)))


def model_labels(blocks):
    """PROTOCOL.md §3.9 written out again, plainly, as a differential oracle."""
    labels = {0: ("final", 0)}
    for h, (iteration, attested) in enumerate(blocks, 1):
        pni = min(iteration, 50) - attested
        if pni:
            labels[h] = ("accepted", 2 * pni)
            continue
        labels[h] = ("attested", 1)
        stable, k = 1, h - 1
        while labels[k][0] != "final":
            kind, c = labels[k]
            if kind == "confirmed":
                stable += 1
            elif stable >= c:
                labels[k] = ("confirmed", h - k)
                stable += 1
            else:
                break
            k -= 1
        k = max(x for x in labels if labels[x][0] == "final") + 1
        while k < h and labels[k][0] == "confirmed":
            labels[k] = ("final", h - k)
            k += 1
    return labels


@given(st.lists(st.tuples(st.integers(min_value=0, max_value=60), st.integers(min_value=0, max_value=8)),
                max_size=60))
@settings(max_examples=150, deadline=None)
def test_rolling_finality_matches_model(raw):
    blocks = [(it, min(att, it, 8)) for it, att in raw]
    rf = finality.RollingFinality(0)
    finals = {}
    for h, (it, att) in enumerate(blocks, 1):
        for height, label in rf.on_block_accepted(h, it, att):
            finals[height] = label
    expected = model_labels(blocks)
    for h in range(1, len(blocks) + 1):
        label = rf.get_label(h) or finals[h]
        assert (label.name, label.value) == expected[h]
    assert rf.last_final == max([0] + [h for h in expected if expected[h][0] == "final"])
