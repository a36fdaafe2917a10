# Theory of operation: the consensus messages of PROTOCOL.md §2 and what each signs (§3.3).
#
#   Message          = Version(maj:u8 | min:u16le | patch:u16le = 1.0.0) | topic:u8 | payload
#   SignInfo         = signer_pk[96] | signature[48]
#   ValidationResult = StepVotes | Vote | QuorumType:u8 (Valid 0, Invalid 1, NoCandidate 2, NoQuorum 255)
#   Candidate        = Block                                   (signature in header.signature)
#   Validation       = ConsensusHeader | Vote | SignInfo                               (224 B if Valid)
#   Ratification     = ConsensusHeader | Vote | timestamp:u64le | ValidationResult | SignInfo (322 B)
#   Quorum           = ConsensusHeader | Attestation                                   (193 B if Success)
#   ValidationQuorum = ConsensusHeader | ValidationResult
#
# Signed bytes: Validation = header(41) || 0x01 || vote, Ratification = header(41) || 0x02 || vote,
# Candidate = block hash, Seed = previous seed. The block codec is injected (the ledger's Block),
# so this module only knows consensus framing. Decoders raise DecodeError (a RemoteProtocolError).
from dusk_edge.core.consensus.attestation import (
    VOTE_INVALID,
    VOTE_NO_CANDIDATE,
    VOTE_NO_QUORUM,
    VOTE_VALID,
    ConsensusHeader,
    pull_attestation,
    pull_consensus_header,
    pull_step_votes,
    pull_vote,
    push_attestation,
    push_consensus_header,
    push_step_votes,
    push_vote,
)
from dusk_edge.core.errors import DecodeError, LocalProtocolError
from dusk_edge.core.wire import Buffer

VERSION = (1, 0, 0)
TOPIC_GET_RESOURCE = 8
TOPIC_GET_BLOCKS = 9
TOPIC_TX = 10
TOPIC_BLOCK = 11
TOPIC_GET_MEMPOOL = 13
TOPIC_INV = 14
TOPIC_CANDIDATE = 16
TOPIC_VALIDATION = 17
TOPIC_RATIFICATION = 18
TOPIC_QUORUM = 19
TOPIC_VALIDATION_QUORUM = 20
TOPIC_FIELD_POS = 5
CONSENSUS_TOPICS = (TOPIC_CANDIDATE, TOPIC_VALIDATION, TOPIC_RATIFICATION, TOPIC_QUORUM,
                    TOPIC_VALIDATION_QUORUM)

QUORUM_VALID = 0
QUORUM_INVALID = 1
QUORUM_NO_CANDIDATE = 2
QUORUM_NO_QUORUM = 255
_QUORUM_OF_VOTE = {VOTE_VALID: QUORUM_VALID, VOTE_INVALID: QUORUM_INVALID,
                   VOTE_NO_CANDIDATE: QUORUM_NO_CANDIDATE, VOTE_NO_QUORUM: QUORUM_NO_QUORUM}

SIGN_SEED_VALIDATION = 1
SIGN_SEED_RATIFICATION = 2
MAX_BLOCK_SIZE = 1048576


def compute_vote_signable(header, sign_seed, vote):
    """header(41) || step byte || vote: the bytes a Validation (1) / Ratification (2) vote signs."""
    return header.encode() + bytes([sign_seed]) + vote.encode()


def get_quorum_type(vote):
    return _QUORUM_OF_VOTE[vote.kind]


class SignInfo:
    __slots__ = ("signer", "signature")

    def __init__(self, signer, signature):
        if len(signer) != 96 or len(signature) != 48:
            raise LocalProtocolError("SignInfo needs a 96-byte key and a 48-byte signature")
        self.signer = bytes(signer)
        self.signature = bytes(signature)

    def __eq__(self, other):
        return isinstance(other, SignInfo) and self.signer == other.signer and self.signature == other.signature


def pull_sign_info(buf):
    return SignInfo(buf.pull_bytes(96), buf.pull_bytes(48))


def push_sign_info(buf, info):
    buf.push_bytes(info.signer)
    buf.push_bytes(info.signature)


class ValidationResult:
    __slots__ = ("step_votes", "vote", "quorum")

    def __init__(self, step_votes, vote, quorum):
        if quorum not in (QUORUM_VALID, QUORUM_INVALID, QUORUM_NO_CANDIDATE, QUORUM_NO_QUORUM):
            raise LocalProtocolError("unknown quorum type %r" % (quorum,))
        self.step_votes = step_votes
        self.vote = vote
        self.quorum = quorum

    def __eq__(self, other):
        return (isinstance(other, ValidationResult) and self.step_votes == other.step_votes
                and self.vote == other.vote and self.quorum == other.quorum)

    def __repr__(self):
        return "ValidationResult(%r, quorum=%d)" % (self.vote, self.quorum)


def pull_validation_result(buf):
    sv = pull_step_votes(buf)
    vote = pull_vote(buf)
    quorum = buf.pull_u8()
    if quorum not in (QUORUM_VALID, QUORUM_INVALID, QUORUM_NO_CANDIDATE, QUORUM_NO_QUORUM):
        raise DecodeError("unknown quorum type %d" % quorum)
    return ValidationResult(sv, vote, quorum)


def push_validation_result(buf, result):
    push_step_votes(buf, result.step_votes)
    push_vote(buf, result.vote)
    buf.push_u8(result.quorum)


class Candidate:
    topic = TOPIC_CANDIDATE
    __slots__ = ("block",)

    def __init__(self, block):
        self.block = block

    @property
    def header(self):
        return self.block.header

    def consensus_header(self):
        h = self.block.header
        return ConsensusHeader(h.prev_block_hash, h.height, h.iteration)

    @property
    def signer(self):
        return self.block.header.generator_bls_pubkey


class Validation:
    topic = TOPIC_VALIDATION
    __slots__ = ("header", "vote", "sign_info")

    def __init__(self, header, vote, sign_info):
        self.header = header
        self.vote = vote
        self.sign_info = sign_info

    @property
    def signer(self):
        return self.sign_info.signer

    def signable(self):
        return compute_vote_signable(self.header, SIGN_SEED_VALIDATION, self.vote)

    def consensus_header(self):
        return self.header


class Ratification:
    topic = TOPIC_RATIFICATION
    __slots__ = ("header", "vote", "timestamp", "validation_result", "sign_info")

    def __init__(self, header, vote, timestamp, validation_result, sign_info):
        self.header = header
        self.vote = vote
        self.timestamp = timestamp
        self.validation_result = validation_result
        self.sign_info = sign_info

    @property
    def signer(self):
        return self.sign_info.signer

    def signable(self):
        return compute_vote_signable(self.header, SIGN_SEED_RATIFICATION, self.vote)

    def consensus_header(self):
        return self.header


class Quorum:
    topic = TOPIC_QUORUM
    __slots__ = ("header", "attestation")

    def __init__(self, header, attestation):
        self.header = header
        self.attestation = attestation

    def consensus_header(self):
        return self.header


class ValidationQuorum:
    topic = TOPIC_VALIDATION_QUORUM
    __slots__ = ("header", "result")

    def __init__(self, header, result):
        self.header = header
        self.result = result

    def consensus_header(self):
        return self.header


def _push_payload(buf, msg, push_block):
    if msg.topic == TOPIC_CANDIDATE:
        push_block(buf, msg.block)
        return
    push_consensus_header(buf, msg.header)
    if msg.topic == TOPIC_VALIDATION:
        push_vote(buf, msg.vote)
        push_sign_info(buf, msg.sign_info)
    elif msg.topic == TOPIC_RATIFICATION:
        push_vote(buf, msg.vote)
        buf.push_u64(msg.timestamp)
        push_validation_result(buf, msg.validation_result)
        push_sign_info(buf, msg.sign_info)
    elif msg.topic == TOPIC_QUORUM:
        push_attestation(buf, msg.attestation)
    else:
        push_validation_result(buf, msg.result)


def _pull_payload(buf, topic, pull_block):
    if topic == TOPIC_CANDIDATE:
        return Candidate(pull_block(buf))
    header = pull_consensus_header(buf)
    if topic == TOPIC_VALIDATION:
        return Validation(header, pull_vote(buf), pull_sign_info(buf))
    if topic == TOPIC_RATIFICATION:
        vote = pull_vote(buf)
        timestamp = buf.pull_u64()
        result = pull_validation_result(buf)
        return Ratification(header, vote, timestamp, result, pull_sign_info(buf))
    if topic == TOPIC_QUORUM:
        return Quorum(header, pull_attestation(buf))
    return ValidationQuorum(header, pull_validation_result(buf))


def encode_message(msg, push_block=None):
    """Envelope + payload bytes of a consensus message."""
    buf = Buffer()
    buf.push_u8(VERSION[0])
    buf.push_u16(VERSION[1])
    buf.push_u16(VERSION[2])
    buf.push_u8(msg.topic)
    if msg.topic == TOPIC_CANDIDATE and push_block is None:
        raise LocalProtocolError("encoding a Candidate needs the block codec")
    _push_payload(buf, msg, push_block)
    return bytes(buf.data)


def peek_topic(data):
    """The topic byte of an encoded message (DecodeError when too short)."""
    if len(data) <= TOPIC_FIELD_POS:
        raise DecodeError("message shorter than its envelope")
    return data[TOPIC_FIELD_POS]


def decode_message(data, pull_block=None):
    """A consensus message from envelope bytes. Unknown or non-consensus topics, a truncated or
    over-long payload, or a Candidate above MAX_BLOCK_SIZE raise DecodeError."""
    topic = peek_topic(data)
    if topic not in CONSENSUS_TOPICS:
        raise DecodeError("not a consensus topic: %d" % topic)
    if topic == TOPIC_CANDIDATE:
        if pull_block is None:
            raise LocalProtocolError("decoding a Candidate needs the block codec")
        if len(data) - TOPIC_FIELD_POS - 1 > MAX_BLOCK_SIZE:
            raise DecodeError("candidate above the 1 MiB block limit")
    buf = Buffer(data)
    buf.pull_bytes(TOPIC_FIELD_POS + 1)
    try:
        msg = _pull_payload(buf, topic, pull_block)
    except LocalProtocolError as exc:  # a field that decoded but cannot form a valid object
        raise DecodeError(str(exc)) from None
    buf.expect_eof()
    return msg
