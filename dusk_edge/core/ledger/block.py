# Theory of operation: a block is its header plus the transactions and faults it carries
# (PROTOCOL.md §8): header | tx_count:u32 | Transaction* | fault_count:u32 | Fault*.
# txroot / faultroot are SHA3 merkle roots over the items' digests; the header hash does not cover
# the body, so a receiver checks the roots (`check_roots`) before trusting the body. Limits are
# enforced while decoding (counts before allocating, total size before anything else).
from dusk_edge.core.errors import DecodeError, LocalProtocolError, RemoteProtocolError
from dusk_edge.core.ledger.faults import pull_fault, push_fault
from dusk_edge.core.ledger.header import Header, pull_header, push_header
from dusk_edge.core.ledger.transactions import pull_transaction, push_transaction
from dusk_edge.core.merkle import compute_merkle_root
from dusk_edge.core.wire import Buffer

MAX_TRANSACTIONS = 1000
MAX_FAULTS = 100
MAX_BLOCK_SIZE = 1048576


class InvalidBlockRoots(RemoteProtocolError):
    """txroot or faultroot does not match the block body."""


class Block:
    __slots__ = ("header", "transactions", "faults")

    def __init__(self, header, transactions=None, faults=None):
        if not isinstance(header, Header):
            raise LocalProtocolError("block header must be a Header")
        self.header = header
        self.transactions = list(transactions) if transactions is not None else []
        self.faults = list(faults) if faults is not None else []

    def __eq__(self, other):
        return isinstance(other, Block) and self.encode() == other.encode()

    def __hash__(self):
        return hash(self.encode())

    def __repr__(self):
        return "Block(height=%d, txs=%d, faults=%d)" % (self.header.height, len(self.transactions), len(self.faults))

    @property
    def hash(self):
        return self.header.hash

    @property
    def height(self):
        return self.header.height

    def encode(self):
        buf = Buffer()
        push_block(buf, self)
        return buf.data

    def compute_txroot(self):
        return compute_txroot(self.transactions)

    def compute_faultroot(self):
        return compute_faultroot(self.faults)

    def fill_roots(self):
        """Set txroot/faultroot from the body and re-seal the header hash; returns self."""
        self.header.txroot = self.compute_txroot()
        self.header.faultroot = self.compute_faultroot()
        self.header.seal()
        return self

    def check_roots(self):
        """Raise InvalidBlockRoots unless both roots match the body."""
        if self.header.txroot != self.compute_txroot():
            raise InvalidBlockRoots("txroot does not match the transactions")
        if self.header.faultroot != self.compute_faultroot():
            raise InvalidBlockRoots("faultroot does not match the faults")


def compute_txroot(transactions):
    return compute_merkle_root([tx.digest() for tx in transactions])


def compute_faultroot(faults):
    return compute_merkle_root([f.digest() for f in faults])


def push_block(buf, block):
    if len(block.transactions) > MAX_TRANSACTIONS:
        raise LocalProtocolError("a block holds at most %d transactions" % MAX_TRANSACTIONS)
    if len(block.faults) > MAX_FAULTS:
        raise LocalProtocolError("a block holds at most %d faults" % MAX_FAULTS)
    push_header(buf, block.header)
    buf.push_u32(len(block.transactions))
    for tx in block.transactions:
        push_transaction(buf, tx)
    buf.push_u32(len(block.faults))
    for fault in block.faults:
        push_fault(buf, fault)


def pull_block(buf):
    """Decode a block; raises DecodeError on malformed bytes or a broken count limit."""
    header = pull_header(buf)
    count = buf.pull_u32()
    if count > MAX_TRANSACTIONS:
        raise DecodeError("block has %d transactions, at most %d" % (count, MAX_TRANSACTIONS))
    txs = [pull_transaction(buf) for _ in range(count)]
    count = buf.pull_u32()
    if count > MAX_FAULTS:
        raise DecodeError("block has %d faults, at most %d" % (count, MAX_FAULTS))
    faults = [pull_fault(buf) for _ in range(count)]
    return Block(header, txs, faults)


def decode_block(data):
    """A whole block from bytes: at most MAX_BLOCK_SIZE, no trailing bytes."""
    if len(data) > MAX_BLOCK_SIZE:
        raise DecodeError("block of %d bytes exceeds %d" % (len(data), MAX_BLOCK_SIZE))
    buf = Buffer(bytes(data))
    block = pull_block(buf)
    buf.expect_eof()
    return block


def encode_block(block):
    """Encode, refusing a block over MAX_BLOCK_SIZE (LocalProtocolError: we built it)."""
    data = block.encode()
    if len(data) > MAX_BLOCK_SIZE:
        raise LocalProtocolError("block of %d bytes exceeds %d" % (len(data), MAX_BLOCK_SIZE))
    return data
