# Theory of operation: deterministic sortition (PROTOCOL.md §4), exactly as the reference.
#
# Every provisioner eligible for a round (eligible_since <= round, stake >= 1000 DUSK) starts with a
# weight equal to its stake in LUX. To extract one credit we hash (seed, step, counter), reduce the
# big-endian hash modulo the total weight W, and walk the provisioners in ascending public-key order
# subtracting weights until one covers the score. The picked one loses min(weight, 1 DUSK) of weight
# and W shrinks by the same amount (the reference's `Stake::subtract` returns the amount taken,
# §10.4); when W would reach zero the committee stays partial. The round itself is NOT hashed.
#
# The extraction loop (`accel.sortition_extract`, with the walk `sortition_pick` as its reference
# step) is the hot leaf; everything else is policy here.
from dusk_edge.core import accel
from dusk_edge.core.errors import LocalProtocolError
from dusk_edge.core.hashes import sha3_256

DUSK = 1000000000
MINIMUM_STAKE = 1000 * DUSK
MAX_ITERATIONS = 50
PROPOSAL_CREDITS = 1
VALIDATION_CREDITS = 64
RATIFICATION_CREDITS = 64
STEP_PROPOSAL = 0
STEP_VALIDATION = 1
STEP_RATIFICATION = 2


def compute_sortition_hash(seed, step, counter):
    """SHA3-256(seed[48] || step:u8 || counter:u32le)."""
    if len(seed) != 48:
        raise LocalProtocolError("seed must be 48 bytes")
    if not 0 <= step <= 255 or not 0 <= counter < (1 << 32):
        raise LocalProtocolError("step or counter out of range")
    return sha3_256(bytes(seed) + bytes([step]) + counter.to_bytes(4, "little"))


def compute_sortition_score(hash32, total_weight):
    """int.from_bytes(hash, 'big') % total_weight."""
    if total_weight <= 0:
        raise LocalProtocolError("total weight must be positive")
    return int.from_bytes(hash32, "big") % total_weight


def compute_step(iteration, step_index):
    """step = iteration * 3 + {0 proposal, 1 validation, 2 ratification}."""
    return iteration * 3 + step_index


def get_eligible(provisioners, round, exclusion=()):
    """Sorted (pk, weight) of provisioners eligible at ``round``; the exclusion list applies only when
    more than one is eligible. ``provisioners`` is an iterable of (pk96, stake, eligible_since)."""
    eligible = {}
    for pk, stake, eligible_since in provisioners:
        if eligible_since <= round and stake >= MINIMUM_STAKE:
            eligible[bytes(pk)] = stake
    if len(eligible) > 1 and exclusion:
        for pk in exclusion:
            eligible.pop(bytes(pk), None)
    keys = sorted(eligible)
    return keys, [eligible[pk] for pk in keys]


def compute_extraction(keys, weights, seed, step, credits):
    """Indices into ``keys`` extracted one credit at a time (weights are consumed in place).
    The hashes do not depend on the picks, so they are computed first and the loop itself runs
    in the leaf ``accel.sortition_extract`` (C, or its pure twin)."""
    hashes = [int.from_bytes(compute_sortition_hash(seed, step, k), "big") for k in range(credits)]
    return accel.sortition_extract(weights, hashes, DUSK)


class Committee:
    """Members of one step in ascending public-key order with their credits; bit i of a StepVotes
    bitset names member i (PROTOCOL.md §3.4)."""

    __slots__ = ("members", "credits", "index", "total_credits")

    def __init__(self, members, credits):
        self.members = members          # [pk96] ascending
        self.credits = credits          # [int] parallel to members
        self.index = {}
        for i in range(len(members)):
            self.index[members[i]] = i
        self.total_credits = sum(credits)

    def __len__(self):
        return len(self.members)

    def __contains__(self, pk):
        return pk in self.index

    def __repr__(self):
        return "Committee(%d members, %d credits)" % (len(self.members), self.total_credits)

    def get_credits(self, pk):
        """Credits of ``pk`` (0 when not a member)."""
        i = self.index.get(pk)
        return 0 if i is None else self.credits[i]

    def get_bit(self, pk):
        i = self.index.get(pk)
        if i is None:
            raise LocalProtocolError("not a committee member")
        return 1 << i

    def get_bitset(self, pks):
        bits = 0
        for pk in pks:
            bits |= self.get_bit(pk)
        return bits

    def get_members_of(self, bitset):
        """Public keys named by ``bitset`` (bits beyond the committee are ignored, as intersect())."""
        size = len(self.members)
        mask = (1 << size) - 1
        return [self.members[i] for i in accel.bitset_indices(bitset & mask, size)]

    def get_credits_of(self, bitset):
        total = 0
        for i in accel.bitset_indices(bitset & ((1 << len(self.members)) - 1), len(self.members)):
            total += self.credits[i]
        return total

    def intersect(self, bitset):
        """The bitset restricted to existing members (the reference's `intersect` + `bits`)."""
        return bitset & ((1 << len(self.members)) - 1)


def create_committee(provisioners, seed, round, step, credits, exclusion=()):
    """The committee of ``credits`` for (seed, step) among those eligible at ``round``.
    Returns an empty Committee when nobody is eligible."""
    keys, weights = get_eligible(provisioners, round)
    return create_committee_from_eligible(keys, weights, seed, step, credits, exclusion)


def create_committee_from_eligible(keys, weights, seed, step, credits, exclusion=()):
    """create_committee over an already sorted eligible set (``weights`` is not modified), so a
    round sorts its provisioners once for all its committees."""
    if len(keys) > 1 and exclusion:
        excluded = set(bytes(pk) for pk in exclusion)
        kept = [i for i in range(len(keys)) if keys[i] not in excluded]
        keys = [keys[i] for i in kept]
        weights = [weights[i] for i in kept]
    else:
        weights = list(weights)
    counts = [0] * len(keys)
    for index in compute_extraction(keys, weights, seed, step, credits):
        counts[index] += 1
    members = []
    member_credits = []
    for i in range(len(keys)):
        if counts[i]:
            members.append(keys[i])
            member_credits.append(counts[i])
    return Committee(members, member_credits)


def get_generator(provisioners, seed, round, iteration):
    """The block generator of ``iteration``: the single member of the step-3i committee (1 credit,
    no exclusion). None when nobody is eligible."""
    if not 0 <= iteration < MAX_ITERATIONS:
        raise LocalProtocolError("iteration out of range 0..49")
    committee = create_committee(provisioners, seed, round, compute_step(iteration, STEP_PROPOSAL),
                                 PROPOSAL_CREDITS)
    return committee.members[0] if committee.members else None


def get_exclusion(provisioners, seed, round, iteration):
    """[generator(iteration), generator(iteration + 1) if iteration < 49] (PROTOCOL.md §3.2)."""
    out = []
    gen = get_generator(provisioners, seed, round, iteration)
    if gen is not None:
        out.append(gen)
    if iteration + 1 < MAX_ITERATIONS:
        nxt = get_generator(provisioners, seed, round, iteration + 1)
        if nxt is not None:
            out.append(nxt)
    return out


def create_step_committee(provisioners, seed, round, iteration, step_index):
    """Validation (1) or ratification (2) committee of ``iteration`` with the generator exclusions."""
    if step_index == STEP_PROPOSAL:
        raise LocalProtocolError("the proposal step has a generator, not a committee")
    exclusion = get_exclusion(provisioners, seed, round, iteration)
    credits = VALIDATION_CREDITS if step_index == STEP_VALIDATION else RATIFICATION_CREDITS
    return create_committee(provisioners, seed, round, compute_step(iteration, step_index), credits,
                            exclusion)


class CommitteeCache:
    """Committees of one (seed, round, provisioner set) memoised by (iteration, step). The caller
    drops it when the tip changes; a round needs at most 50 * 3 entries."""

    __slots__ = ("provisioners", "seed", "round", "keys", "weights", "_cache")

    def __init__(self, provisioners, seed, round):
        self.provisioners = list(provisioners)
        self.seed = bytes(seed)
        self.round = round
        self.keys, self.weights = get_eligible(self.provisioners, round)
        self._cache = {}

    def generator(self, iteration):
        key = (iteration, STEP_PROPOSAL)
        if key not in self._cache:
            if not 0 <= iteration < MAX_ITERATIONS:
                raise LocalProtocolError("iteration out of range 0..49")
            committee = create_committee_from_eligible(self.keys, self.weights, self.seed,
                                                       compute_step(iteration, STEP_PROPOSAL), PROPOSAL_CREDITS)
            self._cache[key] = committee.members[0] if committee.members else None
        return self._cache[key]

    def committee(self, iteration, step_index):
        key = (iteration, step_index)
        if key not in self._cache:
            exclusion = [self.generator(iteration)]
            if iteration + 1 < MAX_ITERATIONS:
                exclusion.append(self.generator(iteration + 1))
            exclusion = [pk for pk in exclusion if pk is not None]
            credits = VALIDATION_CREDITS if step_index == STEP_VALIDATION else RATIFICATION_CREDITS
            self._cache[key] = create_committee_from_eligible(self.keys, self.weights, self.seed,
                                                              compute_step(iteration, step_index), credits,
                                                              exclusion)
        return self._cache[key]
