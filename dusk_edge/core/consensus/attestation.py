# Theory of operation: the consensus wire types that both the ledger (block headers carry
# attestations) and the consensus engine (votes, quorums) use, encoded exactly as PROTOCOL.md §2/§8:
#
#   ConsensusHeader    = prev_block_hash[32] | round:u64le | iteration:u8           (41 B)
#   Vote               = 0 NoCandidate | 1 Valid(hash32) | 2 Invalid(hash32) | 3 NoQuorum
#   StepVotes          = bitset:u64le | aggregate_signature[48]                      (56 B)
#   RatificationResult = 0 Fail(Vote) | 1 Success(Vote)
#   Attestation        = RatificationResult | validation:StepVotes | ratification:StepVotes
#   failed_iterations  = count:u8 (<= 8) | { 0x00 | 0x01 Attestation generator_pk[96] } * count
#
# Objects are small immutable-by-convention __slots__ classes with value equality.
from dusk_edge.core.errors import DecodeError, LocalProtocolError

VOTE_NO_CANDIDATE = 0
VOTE_VALID = 1
VOTE_INVALID = 2
VOTE_NO_QUORUM = 3
VOTE_NAMES = ("no_candidate", "valid", "invalid", "no_quorum")

RESULT_FAIL = 0
RESULT_SUCCESS = 1

MAX_FAILED_ITERATIONS = 8
EMPTY_SIGNATURE = bytes(48)
BLS_PUBLIC_KEY_SIZE = 96


class ConsensusHeader:
    __slots__ = ("prev_block_hash", "round", "iteration")

    def __init__(self, prev_block_hash, round, iteration):
        if len(prev_block_hash) != 32:
            raise LocalProtocolError("prev_block_hash must be 32 bytes")
        self.prev_block_hash = bytes(prev_block_hash)
        self.round = round
        self.iteration = iteration

    def __eq__(self, other):
        return isinstance(other, ConsensusHeader) and self.encode() == other.encode()

    def __hash__(self):
        return hash(self.encode())

    def __repr__(self):
        return "ConsensusHeader(round=%d, iteration=%d)" % (self.round, self.iteration)

    def encode(self):
        buf_bytes = bytearray(self.prev_block_hash)
        buf_bytes.extend(self.round.to_bytes(8, "little"))
        buf_bytes.append(self.iteration)
        return bytes(buf_bytes)


def pull_consensus_header(buf):
    prev = buf.pull_bytes(32)
    return ConsensusHeader(prev, buf.pull_u64(), buf.pull_u8())


def push_consensus_header(buf, header):
    buf.push_bytes(header.prev_block_hash)
    buf.push_u64(header.round)
    buf.push_u8(header.iteration)


class Vote:
    __slots__ = ("kind", "block_hash")

    def __init__(self, kind, block_hash=None):
        needs_hash = kind in (VOTE_VALID, VOTE_INVALID)
        if kind not in (VOTE_NO_CANDIDATE, VOTE_VALID, VOTE_INVALID, VOTE_NO_QUORUM):
            raise LocalProtocolError("unknown vote kind %r" % (kind,))
        if needs_hash != (block_hash is not None) or (needs_hash and len(block_hash) != 32):
            raise LocalProtocolError("vote %s needs %s" % (VOTE_NAMES[kind], "a 32-byte hash" if needs_hash else "no hash"))
        self.kind = kind
        self.block_hash = bytes(block_hash) if block_hash is not None else None

    def __eq__(self, other):
        return isinstance(other, Vote) and self.kind == other.kind and self.block_hash == other.block_hash

    def __hash__(self):
        return hash((self.kind, self.block_hash))

    def __repr__(self):
        if self.block_hash is None:
            return "Vote(%s)" % VOTE_NAMES[self.kind]
        return "Vote(%s, %s)" % (VOTE_NAMES[self.kind], self.block_hash.hex()[:16])

    @property
    def name(self):
        return VOTE_NAMES[self.kind]

    def encode(self):
        if self.block_hash is None:
            return bytes([self.kind])
        return bytes([self.kind]) + self.block_hash


def pull_vote(buf):
    kind = buf.pull_u8()
    if kind in (VOTE_VALID, VOTE_INVALID):
        return Vote(kind, buf.pull_bytes(32))
    if kind in (VOTE_NO_CANDIDATE, VOTE_NO_QUORUM):
        return Vote(kind)
    raise DecodeError("unknown vote tag %d" % kind)


def push_vote(buf, vote):
    buf.push_bytes(vote.encode())


class StepVotes:
    __slots__ = ("bitset", "aggregate_signature")

    def __init__(self, bitset=0, aggregate_signature=EMPTY_SIGNATURE):
        if not 0 <= bitset < (1 << 64):
            raise LocalProtocolError("bitset must fit 64 bits")
        if len(aggregate_signature) != 48:
            raise LocalProtocolError("aggregate signature must be 48 bytes")
        self.bitset = bitset
        self.aggregate_signature = bytes(aggregate_signature)

    def __eq__(self, other):
        return (isinstance(other, StepVotes) and self.bitset == other.bitset
                and self.aggregate_signature == other.aggregate_signature)

    def __hash__(self):
        return hash((self.bitset, self.aggregate_signature))

    def __repr__(self):
        return "StepVotes(bitset=%#x)" % self.bitset

    def is_empty(self):
        return self.bitset == 0 and self.aggregate_signature == EMPTY_SIGNATURE


def pull_step_votes(buf):
    return StepVotes(buf.pull_u64(), buf.pull_bytes(48))


def push_step_votes(buf, sv):
    buf.push_u64(sv.bitset)
    buf.push_bytes(sv.aggregate_signature)


class Attestation:
    __slots__ = ("result", "vote", "validation", "ratification")

    def __init__(self, result, vote, validation=None, ratification=None):
        if result not in (RESULT_FAIL, RESULT_SUCCESS):
            raise LocalProtocolError("unknown ratification result %r" % (result,))
        self.result = result
        self.vote = vote
        self.validation = validation if validation is not None else StepVotes()
        self.ratification = ratification if ratification is not None else StepVotes()

    def __eq__(self, other):
        return (isinstance(other, Attestation) and self.result == other.result and self.vote == other.vote
                and self.validation == other.validation and self.ratification == other.ratification)

    def __hash__(self):
        return hash((self.result, self.vote, self.validation, self.ratification))

    def __repr__(self):
        return "Attestation(%s, %r)" % ("success" if self.result else "fail", self.vote)

    def is_success(self):
        return self.result == RESULT_SUCCESS


def pull_attestation(buf):
    result = buf.pull_u8()
    if result not in (RESULT_FAIL, RESULT_SUCCESS):
        raise DecodeError("unknown ratification result tag %d" % result)
    vote = pull_vote(buf)
    return Attestation(result, vote, pull_step_votes(buf), pull_step_votes(buf))


def push_attestation(buf, att):
    buf.push_u8(att.result)
    push_vote(buf, att.vote)
    push_step_votes(buf, att.validation)
    push_step_votes(buf, att.ratification)


class FailedIteration:
    """One entry of a header's failed_iterations: the Fail attestation and the generator."""

    __slots__ = ("attestation", "generator")

    def __init__(self, attestation, generator):
        if len(generator) != BLS_PUBLIC_KEY_SIZE:
            raise LocalProtocolError("generator must be a 96-byte public key")
        self.attestation = attestation
        self.generator = bytes(generator)

    def __eq__(self, other):
        return (isinstance(other, FailedIteration) and self.attestation == other.attestation
                and self.generator == other.generator)

    def __hash__(self):
        return hash((self.attestation, self.generator))


def pull_failed_iterations(buf):
    """A list whose entries are FailedIteration or None (an iteration without an attestation)."""
    count = buf.pull_u8()
    if count > MAX_FAILED_ITERATIONS:
        raise DecodeError("failed_iterations: %d entries, at most %d" % (count, MAX_FAILED_ITERATIONS))
    out = []
    for _ in range(count):
        tag = buf.pull_u8()
        if tag == 0:
            out.append(None)
        elif tag == 1:
            att = pull_attestation(buf)
            out.append(FailedIteration(att, buf.pull_bytes(BLS_PUBLIC_KEY_SIZE)))
        else:
            raise DecodeError("failed_iterations: bad option tag %d" % tag)
    return out


def push_failed_iterations(buf, entries):
    if len(entries) > MAX_FAILED_ITERATIONS:
        raise LocalProtocolError("at most %d failed iterations" % MAX_FAILED_ITERATIONS)
    buf.push_u8(len(entries))
    for entry in entries:
        if entry is None:
            buf.push_u8(0)
        else:
            buf.push_u8(1)
            push_attestation(buf, entry.attestation)
            buf.push_bytes(entry.generator)
