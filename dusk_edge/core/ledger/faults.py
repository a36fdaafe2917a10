# Theory of operation: provable misbehaviour of a provisioner (PROTOCOL.md §3.10).
#
#   Fault     = tag:u8 (0 DoubleCandidate, 1 DoubleRatificationVote, 2 DoubleValidationVote) |
#               FaultData | FaultData
#   FaultData = ConsensusHeader(41) | SignInfo(pk[96] | sig[48]) | data
#   data      = hash[32] for DoubleCandidate, a Vote for the two vote faults
#
# fault id = SHA3-256(serialized fault). `check_fault` applies the structural rules and checks
# both signatures through an injected `verify(pk96, message, sig48) -> bool` (a single-key
# multisig check on CPython). The signed message of a vote is ConsensusHeader || step tag || Vote
# (§3.3). For DoubleCandidate we check what candidate signatures really cover, the 32-byte block
# hash (§3.3, §3.10 [INF]); the reference's header||hash message would make such faults unprovable.
from dusk_edge.core.consensus.attestation import (
    ConsensusHeader,
    Vote,
    pull_consensus_header,
    pull_vote,
    push_consensus_header,
)
from dusk_edge.core.errors import DecodeError, LocalProtocolError, RemoteProtocolError
from dusk_edge.core.hashes import sha3_256
from dusk_edge.core.wire import Buffer

FAULT_DOUBLE_CANDIDATE = 0
FAULT_DOUBLE_RATIFICATION_VOTE = 1
FAULT_DOUBLE_VALIDATION_VOTE = 2
FAULT_NAMES = ("double_candidate", "double_ratification_vote", "double_validation_vote")
SIGN_SEED_VALIDATION = 1
SIGN_SEED_RATIFICATION = 2
EMERGENCY_ITERATION_THRESHOLD = 16


class InvalidFault(RemoteProtocolError):
    """A fault in a block breaks a §3.10 rule."""


class FaultData:
    __slots__ = ("header", "signer", "signature", "data")

    def __init__(self, header, signer, signature, data):
        if len(signer) != 96 or len(signature) != 48:
            raise LocalProtocolError("SignInfo needs a 96-byte key and a 48-byte signature")
        self.header = header
        self.signer = bytes(signer)
        self.signature = bytes(signature)
        self.data = data  # bytes (hash32) or Vote

    def data_bytes(self):
        return self.data.encode() if isinstance(self.data, Vote) else self.data


class Fault:
    __slots__ = ("kind", "first", "second")

    def __init__(self, kind, first, second):
        if kind not in (FAULT_DOUBLE_CANDIDATE, FAULT_DOUBLE_RATIFICATION_VOTE, FAULT_DOUBLE_VALIDATION_VOTE):
            raise LocalProtocolError("unknown fault kind %r" % (kind,))
        self.kind = kind
        self.first = first
        self.second = second

    def __eq__(self, other):
        return isinstance(other, Fault) and self.encode() == other.encode()

    def __hash__(self):
        return hash(self.encode())

    def __repr__(self):
        return "Fault(%s, round=%d)" % (FAULT_NAMES[self.kind], self.first.header.round)

    def encode(self):
        buf = Buffer()
        push_fault(buf, self)
        return buf.data

    def fault_id(self):
        return sha3_256(self.encode())

    def digest(self):
        """Merkle leaf digest (faultroot) = the fault id."""
        return self.fault_id()

    def signer(self):
        return self.first.signer

    def round(self):
        return self.first.header.round


def _push_fault_data(buf, fd, kind):
    push_consensus_header(buf, fd.header)
    buf.push_bytes(fd.signer)
    buf.push_bytes(fd.signature)
    if kind == FAULT_DOUBLE_CANDIDATE:
        if isinstance(fd.data, Vote) or len(fd.data) != 32:
            raise LocalProtocolError("DoubleCandidate data must be a 32-byte hash")
        buf.push_bytes(fd.data)
    else:
        if not isinstance(fd.data, Vote):
            raise LocalProtocolError("vote fault data must be a Vote")
        buf.push_bytes(fd.data.encode())


def _pull_fault_data(buf, kind):
    header = pull_consensus_header(buf)
    signer = buf.pull_bytes(96)
    signature = buf.pull_bytes(48)
    data = buf.pull_bytes(32) if kind == FAULT_DOUBLE_CANDIDATE else pull_vote(buf)
    return FaultData(header, signer, signature, data)


def push_fault(buf, fault):
    buf.push_u8(fault.kind)
    _push_fault_data(buf, fault.first, fault.kind)
    _push_fault_data(buf, fault.second, fault.kind)


def pull_fault(buf):
    kind = buf.pull_u8()
    if kind > FAULT_DOUBLE_VALIDATION_VOTE:
        raise DecodeError("unknown fault tag %d" % kind)
    return Fault(kind, _pull_fault_data(buf, kind), _pull_fault_data(buf, kind))


def decode_fault(data):
    buf = Buffer(bytes(data))
    fault = pull_fault(buf)
    buf.expect_eof()
    return fault


def signed_message(kind, fd):
    """The bytes the signer of `fd` signed (see the module comment)."""
    if kind == FAULT_DOUBLE_CANDIDATE:
        return fd.data
    seed = SIGN_SEED_RATIFICATION if kind == FAULT_DOUBLE_RATIFICATION_VOTE else SIGN_SEED_VALIDATION
    return fd.header.encode() + bytes([seed]) + fd.data.encode()


def check_fault(fault, height, epoch_blocks, verify, parent_hash_at=None, is_known_fault=None):
    """Raise InvalidFault unless `fault` may be included in the block at `height` (§3.10).

    `verify(pk, msg, sig) -> bool` checks one signature. `parent_hash_at(h)` returns the hash of the
    block at height h (or None), used to require that the fault's round builds on our chain;
    `is_known_fault(fault_id)` says whether the last epoch already included it. Both are optional.
    """
    a, b = fault.first, fault.second
    if a.header.round != b.header.round or a.header.iteration != b.header.iteration:
        raise InvalidFault("fault: round/iteration differ")
    if a.header.prev_block_hash != b.header.prev_block_hash:
        raise InvalidFault("fault: prev_block_hash differs")
    if a.signer != b.signer:
        raise InvalidFault("fault: signers differ")
    if a.data_bytes() == b.data_bytes():
        raise InvalidFault("fault: both messages sign the same data")
    rnd = a.header.round
    if rnd == 0 or rnd > height or rnd + epoch_blocks < height:
        raise InvalidFault("fault: round %d outside [max(1, %d - %d), %d]" % (rnd, height, epoch_blocks, height))
    if a.header.iteration >= EMERGENCY_ITERATION_THRESHOLD:
        raise InvalidFault("fault: emergency iteration %d" % a.header.iteration)
    if parent_hash_at is not None and parent_hash_at(rnd - 1) != a.header.prev_block_hash:
        raise InvalidFault("fault: round %d does not build on our block %d" % (rnd, rnd - 1))
    if is_known_fault is not None and is_known_fault(fault.fault_id()):
        raise InvalidFault("fault: already included in the last epoch")
    for fd in (a, b):
        if not verify(fd.signer, signed_message(fault.kind, fd), fd.signature):
            raise InvalidFault("fault: bad signature")


def make_fault_data(header, signer, signature, data):
    """Convenience for builders: ConsensusHeader, 96-byte key, 48-byte signature, hash or Vote."""
    if not isinstance(header, ConsensusHeader):
        raise LocalProtocolError("header must be a ConsensusHeader")
    return FaultData(header, signer, signature, data)
