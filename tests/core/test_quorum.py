# core/consensus/quorum.py: PROTOCOL.md §3.1 thresholds (64 credits: majority 33, supermajority 43).
import expect
from dusk_edge.core.consensus.quorum import get_majority, get_supermajority
from dusk_edge.core.errors import LocalProtocolError


def test_thresholds_of_a_full_committee():
    expect.equal(get_majority(64), 33, "majority(64)")
    expect.equal(get_supermajority(64), 43, "supermajority(64)")


def test_thresholds_follow_their_definitions():
    for credits in range(0, 200):
        expect.equal(get_majority(credits), credits // 2 + 1, "majority(%d)" % credits)
        # ceil(2n / 3) without floats
        expect.equal(get_supermajority(credits), -(-2 * credits // 3), "supermajority(%d)" % credits)


def test_small_committees():
    expect.equal((get_majority(1), get_supermajority(1)), (1, 1))
    expect.equal((get_majority(3), get_supermajority(3)), (2, 2))
    expect.equal((get_majority(4), get_supermajority(4)), (3, 3))


def test_negative_credits_are_a_local_error():
    expect.raises(LocalProtocolError, get_majority, -1)
    expect.raises(LocalProtocolError, get_supermajority, -1)
