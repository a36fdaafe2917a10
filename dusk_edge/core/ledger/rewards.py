# Theory of operation: block emission and the split of a block's reward (PROTOCOL.md §6), in
# exact integer LUX. R = emission(height) + fees; the Dusk fund takes R // 10, the voters' pool is
# R // 10 paid per credit of the block's prev_block_cert at (R // 10) // total_credits, the
# generator's extra pool R // 10 pays in full with every credit, else (pool // extra_span) per
# credit beyond the two quorums; the generator keeps the remainder (~70 %). Whatever the voters'
# and extra pools do not pay out is burned, so the split always sums to R.
from dusk_edge.core.consensus.quorum import get_supermajority
from dusk_edge.core.errors import LocalProtocolError

# (last height of the range, emission per block in LUX); ranges are inclusive, starting at 1.
EMISSION_SCHEDULE = (
    (12614400, 19857400000),
    (25228800, 9928700000),
    (37843200, 4964350000),
    (50457600, 2482180000),
    (63072000, 1241090000),
    (75686400, 620540000),
    (88300800, 310270000),
    (100915200, 155140000),
    (113529596, 77570000),
    (113529597, 54280000),
)


def emission(height):
    """Newly minted LUX in the block at `height`: 0 at genesis and after the schedule ends."""
    if not isinstance(height, int) or height < 0:
        raise LocalProtocolError("height must be a non-negative integer")
    if height == 0:
        return 0
    for last, amount in EMISSION_SCHEDULE:
        if height <= last:
            return amount
    return 0


class RewardSplit:
    """Who gets what out of one block's reward R (all integers, sum == total)."""

    __slots__ = ("total", "dusk_fund", "generator", "generator_extra", "voters", "burned")

    def __init__(self, total, dusk_fund, generator, generator_extra, voters, burned):
        self.total = total
        self.dusk_fund = dusk_fund
        self.generator = generator
        self.generator_extra = generator_extra
        self.voters = voters  # list of (public_key96, lux) in the order given
        self.burned = burned

    def paid(self):
        s = self.dusk_fund + self.generator + self.generator_extra + self.burned
        for _, lux in self.voters:
            s += lux
        return s


def compute_reward_split(height, fees, voter_credits, validation_credits=64, ratification_credits=64):
    """Split emission(height) + fees. `voter_credits` = [(pk96, credits)] from prev_block_cert.

    Raises LocalProtocolError for more credits than committees hold.
    """
    total = emission(height) + fees
    tenth = total // 10
    total_credits = validation_credits + ratification_credits
    quorum_credits = get_supermajority(validation_credits) + get_supermajority(ratification_credits)
    extra_span = total_credits - quorum_credits
    credits = 0
    for _, c in voter_credits:
        credits += c
    if credits > total_credits:
        raise LocalProtocolError("%d voter credits exceed the %d committees hold" % (credits, total_credits))
    per_credit = tenth // total_credits
    voters = [(pk, per_credit * c) for pk, c in voter_credits]
    if credits == total_credits:
        extra = tenth
    else:
        extra = (tenth // extra_span) * max(0, credits - quorum_credits)
    generator = total - 3 * tenth
    burned = (tenth - per_credit * credits) + (tenth - extra)
    return RewardSplit(total, tenth, generator, extra, voters, burned)
