# Theory of operation: the block header of PROTOCOL.md §8, bit for bit.
#
#   hashable = version:u8 | height:u64 | timestamp:u64 | prev_block_hash[32] | seed[48] |
#              state_hash[32] | event_bloom[256] | generator_bls_pubkey[96] | txroot[32] |
#              faultroot[32] | gas_limit:u64 | iteration:u8 | prev_block_cert:Attestation |
#              failed_iterations
#   header   = hashable | att:Attestation | hash[32] | signature[48]
#
# hash = SHA3-256(hashable). The header's own attestation, hash and signature are not hashed
# (the attestation is produced after the hash is voted on). event_bloom stays 256 zero bytes until
# events exist (DESIGN.md §5). Decoding never checks `hash` against the content: that is an
# acceptance rule (`check_hash`), so a stored header round-trips byte for byte.
from dusk_edge.core.consensus.attestation import (
    RESULT_FAIL,
    VOTE_NO_CANDIDATE,
    Attestation,
    Vote,
    pull_attestation,
    pull_failed_iterations,
    push_attestation,
    push_failed_iterations,
)
from dusk_edge.core.errors import DecodeError, LocalProtocolError
from dusk_edge.core.hashes import sha3_256
from dusk_edge.core.wire import Buffer

BLOCK_HEADER_VERSION = 1
HASHABLE_FIXED_SIZE = 554
EVENT_BLOOM_SIZE = 256
SEED_SIZE = 48
SIGNATURE_SIZE = 48
_BYTE_FIELDS = (
    ("prev_block_hash", 32), ("seed", SEED_SIZE), ("state_hash", 32), ("event_bloom", EVENT_BLOOM_SIZE),
    ("generator_bls_pubkey", 96), ("txroot", 32), ("faultroot", 32), ("hash", 32), ("signature", SIGNATURE_SIZE),
)


def default_attestation():
    """The reference's Attestation::default(): Fail(NoCandidate) with empty step votes (114 B)."""
    return Attestation(RESULT_FAIL, Vote(VOTE_NO_CANDIDATE))


class Header:
    __slots__ = ("version", "height", "timestamp", "prev_block_hash", "seed", "state_hash", "event_bloom",
                 "generator_bls_pubkey", "txroot", "faultroot", "gas_limit", "iteration", "prev_block_cert",
                 "failed_iterations", "att", "hash", "signature")

    def __init__(self, version=BLOCK_HEADER_VERSION, height=0, timestamp=0, prev_block_hash=bytes(32),
                 seed=bytes(SEED_SIZE), state_hash=bytes(32), event_bloom=bytes(EVENT_BLOOM_SIZE),
                 generator_bls_pubkey=bytes(96), txroot=bytes(32), faultroot=bytes(32), gas_limit=0,
                 iteration=0, prev_block_cert=None, failed_iterations=None, att=None, hash=bytes(32),
                 signature=bytes(SIGNATURE_SIZE)):
        self.version = version
        self.height = height
        self.timestamp = timestamp
        self.prev_block_hash = prev_block_hash
        self.seed = seed
        self.state_hash = state_hash
        self.event_bloom = event_bloom
        self.generator_bls_pubkey = generator_bls_pubkey
        self.txroot = txroot
        self.faultroot = faultroot
        self.gas_limit = gas_limit
        self.iteration = iteration
        self.prev_block_cert = prev_block_cert if prev_block_cert is not None else default_attestation()
        self.failed_iterations = list(failed_iterations) if failed_iterations is not None else []
        self.att = att if att is not None else default_attestation()
        self.hash = hash
        self.signature = signature
        for name, size in _BYTE_FIELDS:
            value = getattr(self, name)
            if not isinstance(value, (bytes, bytearray)) or len(value) != size:
                raise LocalProtocolError("header.%s must be %d bytes" % (name, size))
            setattr(self, name, bytes(value))

    def __eq__(self, other):
        return isinstance(other, Header) and self.encode() == other.encode()

    def __hash__(self):
        return hash(self.encode())

    def __repr__(self):
        return "Header(height=%d, iteration=%d, hash=%s)" % (self.height, self.iteration, self.hash.hex()[:16])

    def hashable_bytes(self):
        buf = Buffer()
        push_hashable(buf, self)
        return buf.data

    def compute_hash(self):
        """SHA3-256 of the hashable part (PROTOCOL.md §8)."""
        return sha3_256(self.hashable_bytes())

    def seal(self):
        """Set `hash` from the content; returns self (for builders and tests)."""
        self.hash = self.compute_hash()
        return self

    def check_hash(self):
        """True when the carried hash matches the content."""
        return self.hash == self.compute_hash()

    def encode(self):
        buf = Buffer()
        push_header(buf, self)
        return buf.data


def push_hashable(buf, h):
    buf.push_u8(h.version)
    buf.push_u64(h.height)
    buf.push_u64(h.timestamp)
    buf.push_bytes(h.prev_block_hash)
    buf.push_bytes(h.seed)
    buf.push_bytes(h.state_hash)
    buf.push_bytes(h.event_bloom)
    buf.push_bytes(h.generator_bls_pubkey)
    buf.push_bytes(h.txroot)
    buf.push_bytes(h.faultroot)
    buf.push_u64(h.gas_limit)
    buf.push_u8(h.iteration)
    push_attestation(buf, h.prev_block_cert)
    push_failed_iterations(buf, h.failed_iterations)


def pull_header(buf):
    """Decode a full header; raises DecodeError (a RemoteProtocolError) on malformed bytes."""
    version = buf.pull_u8()
    height = buf.pull_u64()
    timestamp = buf.pull_u64()
    fields = [buf.pull_bytes(32), buf.pull_bytes(SEED_SIZE), buf.pull_bytes(32), buf.pull_bytes(EVENT_BLOOM_SIZE),
              buf.pull_bytes(96), buf.pull_bytes(32), buf.pull_bytes(32)]
    gas_limit = buf.pull_u64()
    iteration = buf.pull_u8()
    prev_cert = pull_attestation(buf)
    failed = pull_failed_iterations(buf)
    att = pull_attestation(buf)
    block_hash = buf.pull_bytes(32)
    signature = buf.pull_bytes(SIGNATURE_SIZE)
    return Header(version, height, timestamp, fields[0], fields[1], fields[2], fields[3], fields[4], fields[5],
                  fields[6], gas_limit, iteration, prev_cert, failed, att, block_hash, signature)


def push_header(buf, h):
    push_hashable(buf, h)
    push_attestation(buf, h.att)
    buf.push_bytes(h.hash)
    buf.push_bytes(h.signature)


def decode_header(data):
    """A whole header from bytes; trailing bytes are a DecodeError."""
    buf = Buffer(bytes(data))
    header = pull_header(buf)
    buf.expect_eof()
    return header


def count_attested_failures(header):
    """Entries of failed_iterations that carry an attestation (rolling finality's PNI input)."""
    n = 0
    for entry in header.failed_iterations:
        if entry is not None:
            n += 1
    return n


def check_failed_iterations_shape(header):
    """Every present entry must hold a Fail attestation; raises DecodeError otherwise."""
    for entry in header.failed_iterations:
        if entry is not None and entry.attestation.result != RESULT_FAIL:
            raise DecodeError("failed_iterations entry carries a Success attestation")
