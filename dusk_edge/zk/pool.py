"""The shielded pool: note tree, recent roots, nullifier set, pool balance, and the rules for
shielded transactions (mempool check, block application, revert).

Theory of operation. One transaction shape covers all three uses: two input notes (an input of
value 0 is a dummy), two output notes, `public_in` entering the pool from a public account
(shielding), `public_out` leaving it to that account (unshielding) and a public `fee`. The proof
says in0 + in1 + public_in = out0 + out1 + public_out + fee, all 64-bit, inputs under `root`,
owned by the spender, nullifiers right. The node checks, in this order: the root is one of the
last ROOT_WINDOW roots, the two nullifiers differ and are unspent (and not pending in the
mempool), the pool can pay public_out + fee, then the proof with the public inputs

    [root, nf0, nf1, cm0, cm1, public_in, public_out, fee, binding(tx)]

where binding(tx) hashes the account and the note ciphertexts, so neither can be swapped without
a new proof. The ledger does the public side: debit public_in from `account` (under the
account's signature), credit public_out to it, and route the fee like any other fee.

`sub_root()` is what the ledger's state hash includes: SHA3-256 over the tree root, a hash chain
of nullifiers in application order, the pool balance and the leaf count — O(1) per nullifier,
O(depth) per note.

Wire format of a ShieldedTx (integers little-endian, field elements 32 B big-endian canonical):
    version u8 (=1) | root | nf0 | nf1 | cm0 | cm1 | public_in u64 | public_out u64 | fee u64
    | account_len u8 | account | ct0_len u16 | ct0 | ct1_len u16 | ct1 | proof (192 B)
"""
import hashlib

from dusk_edge.core.errors import DecodeError, RemoteProtocolError
from dusk_edge.core.wire import Buffer
from dusk_edge.zk import notes
from dusk_edge.zk.tree import NoteTree

TX_VERSION = 1
PROOF_SIZE = 192
MAX_ACCOUNT_SIZE = 97  # a ledger AccountKey encoding: scheme byte + up to 96 B of key
MAX_CIPHERTEXT_SIZE = 512
ROOT_WINDOW = 128
_BINDING_TAG = b"dusk-edge/shielded-binding/v1"
_SUB_ROOT_TAG = b"dusk-edge/shielded-pool/v1"
_NULLIFIER_CHAIN_TAG = b"dusk-edge/nullifier-chain/v1"


class ShieldedTxError(RemoteProtocolError):
    """A shielded transaction breaks a rule; the sender's fault."""


class UnknownRoot(ShieldedTxError):
    """The proof is against a root that is not among the recent ones."""


class DoubleSpend(ShieldedTxError):
    """A nullifier was already spent, is pending in the mempool, or repeats within the tx/block."""


class InvalidProof(ShieldedTxError):
    """The zero-knowledge proof does not verify for the transaction's public inputs."""


class PoolUnderflow(ShieldedTxError):
    """public_out + fee exceed what the pool holds (a sign of a broken circuit or key)."""


class ShieldedTx:
    __slots__ = ("root", "nullifiers", "commitments", "public_in", "public_out", "fee",
                 "account", "ciphertexts", "proof")

    def __init__(self, root, nullifiers, commitments, public_in, public_out, fee, account,
                 ciphertexts, proof):
        self.root = root
        self.nullifiers = tuple(nullifiers)
        self.commitments = tuple(commitments)
        self.public_in = public_in
        self.public_out = public_out
        self.fee = fee
        self.account = bytes(account)
        self.ciphertexts = tuple(bytes(c) for c in ciphertexts)
        self.proof = bytes(proof)

    def binding(self):
        """The field element that ties the proof to account and ciphertexts."""
        digest = hashlib.sha256(_BINDING_TAG)
        for part in (self.account,) + self.ciphertexts:
            digest.update(len(part).to_bytes(4, "little") + part)
        return int.from_bytes(digest.digest(), "big") % notes.R

    def public_inputs(self):
        return [self.root, self.nullifiers[0], self.nullifiers[1], self.commitments[0],
                self.commitments[1], self.public_in, self.public_out, self.fee, self.binding()]

    def to_bytes(self):
        buf = Buffer()
        push_shielded_tx(buf, self)
        return buf.data

    @classmethod
    def from_bytes(cls, data):
        buf = Buffer(bytes(data))
        tx = pull_shielded_tx(buf)
        buf.expect_eof()
        return tx

    def __eq__(self, other):
        return isinstance(other, ShieldedTx) and self.to_bytes() == other.to_bytes()

    def __hash__(self):
        return hash(self.to_bytes())


def pull_shielded_tx(buf):
    version = buf.pull_u8()
    if version != TX_VERSION:
        raise DecodeError("unknown shielded tx version %d" % version)
    fields = [notes.field_from_bytes(buf.pull_bytes(32)) for _ in range(5)]
    public_in, public_out, fee = buf.pull_u64(), buf.pull_u64(), buf.pull_u64()
    account_len = buf.pull_u8()
    if account_len > MAX_ACCOUNT_SIZE:
        raise DecodeError("account field too long: %d" % account_len)
    account = buf.pull_bytes(account_len)
    ciphertexts = []
    for _ in range(2):
        length = buf.pull_u16()
        if length > MAX_CIPHERTEXT_SIZE:
            raise DecodeError("note ciphertext too long: %d" % length)
        ciphertexts.append(buf.pull_bytes(length))
    proof = buf.pull_bytes(PROOF_SIZE)
    return ShieldedTx(fields[0], fields[1:3], fields[3:5], public_in, public_out, fee, account,
                      ciphertexts, proof)


def push_shielded_tx(buf, tx):
    buf.push_u8(TX_VERSION)
    for value in (tx.root,) + tx.nullifiers + tx.commitments:
        buf.push_bytes(notes.field_to_bytes(value))
    buf.push_u64(tx.public_in)
    buf.push_u64(tx.public_out)
    buf.push_u64(tx.fee)
    buf.push_u8(len(tx.account))
    buf.push_bytes(tx.account)
    for ciphertext in tx.ciphertexts:
        buf.push_u16(len(ciphertext))
        buf.push_bytes(ciphertext)
    if len(tx.proof) != PROOF_SIZE:
        raise DecodeError("proof must be %d bytes" % PROOF_SIZE)
    buf.push_bytes(tx.proof)


class ShieldedPool:
    """State of the shielded pool; mutate only through apply/revert below."""

    __slots__ = ("tree", "recent_roots", "nullifiers", "nullifier_chain", "balance")

    def __init__(self):
        self.tree = NoteTree()
        self.recent_roots = [self.tree.root]
        self.nullifiers = set()
        self.nullifier_chain = hashlib.sha3_256(_NULLIFIER_CHAIN_TAG).digest()
        self.balance = 0

    def sub_root(self):
        """32-byte commitment to the whole pool state, for the ledger's state hash."""
        return hashlib.sha3_256(
            _SUB_ROOT_TAG + notes.field_to_bytes(self.tree.root) + self.nullifier_chain
            + self.balance.to_bytes(8, "little") + len(self.tree).to_bytes(8, "little")).digest()

    def is_recent_root(self, root):
        return root in self.recent_roots

    @classmethod
    def rebuild(cls, commitments, nullifiers_in_order, balance):
        """The pool from stored state (e.g. the ledger's note list and nullifiers in the order
        they were applied). Every transaction appends exactly two commitments, so the recent
        roots are the roots at leaf counts n, n - 2, ..., reproduced here."""
        pool = cls()
        commitments = list(commitments)
        first = max(0, len(commitments) - 2 * (ROOT_WINDOW - 1))
        first -= first % 2
        pool.tree.extend(commitments[:first])
        roots = [pool.tree.root]
        for start in range(first, len(commitments), 2):
            pool.tree.extend(commitments[start:start + 2])
            roots.append(pool.tree.root)
        pool.recent_roots = roots[-ROOT_WINDOW:]
        for nullifier in nullifiers_in_order:
            pool.nullifiers.add(nullifier)
            pool.nullifier_chain = chain_nullifier(pool.nullifier_chain, nullifier)
        pool.balance = balance
        return pool


def check_shielded_tx(pool, tx, verifier, pending_nullifiers=()):
    """Raise a ShieldedTxError unless ``tx`` is valid on ``pool``; verifies the proof.

    ``verifier`` has verify(public_inputs, proof_bytes) -> bool (see dusk_edge.zk.verifier).
    """
    check_shielded_tx_rules(pool, tx, pending_nullifiers)
    if not verifier.verify(tx.public_inputs(), tx.proof):
        raise InvalidProof("shielded proof does not verify")


def check_shielded_tx_rules(pool, tx, pending_nullifiers=()):
    """Every rule except the proof (cheap checks first, so junk costs no pairing)."""
    if not pool.is_recent_root(tx.root):
        raise UnknownRoot("root is not among the last %d note-tree roots" % ROOT_WINDOW)
    first, second = tx.nullifiers
    if first == second:
        raise DoubleSpend("the two nullifiers of the transaction are equal")
    for nullifier in tx.nullifiers:
        if nullifier in pool.nullifiers:
            raise DoubleSpend("nullifier already spent")
        if nullifier in pending_nullifiers:
            raise DoubleSpend("nullifier already pending in the mempool")
    if tx.public_out + tx.fee > pool.balance + tx.public_in:
        raise PoolUnderflow("the pool cannot pay public_out + fee")


def chain_nullifier(chain, nullifier):
    """The nullifier hash chain after ``nullifier`` (part of sub_root)."""
    return hashlib.sha3_256(chain + notes.field_to_bytes(nullifier)).digest()


class ShieldedUndo:
    """What `revert_shielded_tx` needs to undo one application."""

    __slots__ = ("nullifiers", "nullifier_chain", "roots", "balance", "leaves")

    def __init__(self, pool, tx):
        self.nullifiers = tx.nullifiers
        self.nullifier_chain = pool.nullifier_chain
        self.roots = list(pool.recent_roots)
        self.balance = pool.balance
        self.leaves = len(tx.commitments)


def apply_shielded_tx(pool, tx, verifier=None):
    """Check (with the proof unless ``verifier`` is None: already batch-verified) and apply.

    Returns a ShieldedUndo for `revert_shielded_tx`; the pool is unchanged when it raises.
    """
    if verifier is None:
        check_shielded_tx_rules(pool, tx)
    else:
        check_shielded_tx(pool, tx, verifier)
    undo = ShieldedUndo(pool, tx)
    pool.tree.extend(tx.commitments)
    for nullifier in tx.nullifiers:
        pool.nullifiers.add(nullifier)
        pool.nullifier_chain = chain_nullifier(pool.nullifier_chain, nullifier)
    pool.balance = pool.balance + tx.public_in - tx.public_out - tx.fee
    pool.recent_roots = (pool.recent_roots + [pool.tree.root])[-ROOT_WINDOW:]
    return undo


def revert_shielded_tx(pool, undo):
    """Undo an application (the last one applied first)."""
    pool.tree.pop(undo.leaves)
    for nullifier in undo.nullifiers:
        pool.nullifiers.discard(nullifier)
    pool.nullifier_chain = undo.nullifier_chain
    pool.recent_roots = undo.roots
    pool.balance = undo.balance


def refuse_repeated_nullifiers(txs):
    """DoubleSpend when two of one block's transactions (or one of them twice) spend a nullifier."""
    seen = set()
    for tx in txs:
        for nullifier in tx.nullifiers:
            if nullifier in seen:
                raise DoubleSpend("nullifier spent twice in one block")
            seen.add(nullifier)


def verify_proofs(verifier, numbered):
    """``numbered`` = [(index in the block, tx)]: one batch verification; when it fails,
    one-by-one verification names the bad transaction (InvalidProof)."""
    if not verifier.batch_verify([(tx.public_inputs(), tx.proof) for _, tx in numbered]):
        for index, tx in numbered:
            if not verifier.verify(tx.public_inputs(), tx.proof):
                raise InvalidProof("shielded proof of transaction %d does not verify" % index)


def apply_shielded_block(pool, txs, verifier):
    """Apply a block's shielded transactions all or nothing; returns the undo list.

    Proofs are checked with one batch verification (verifier.batch_verify); when the batch fails,
    one-by-one verification names the bad transaction. Nullifiers repeated across the block raise
    DoubleSpend.
    """
    refuse_repeated_nullifiers(txs)
    verify_proofs(verifier, list(enumerate(txs)))
    undos = []
    try:
        for tx in txs:
            undos.append(apply_shielded_tx(pool, tx, None))
    except ShieldedTxError:
        for undo in reversed(undos):
            revert_shielded_tx(pool, undo)
        raise
    return undos


class ShieldedMempool:
    """Pending shielded transactions and the nullifiers they reserve."""

    __slots__ = ("pending", "reserved")

    def __init__(self):
        self.pending = []
        self.reserved = set()

    def admit(self, pool, tx, verifier):
        """Check ``tx`` against the pool and the pending set, then hold it; raises ShieldedTxError."""
        check_shielded_tx(pool, tx, verifier, self.reserved)
        self.pending.append(tx)
        self.reserved.update(tx.nullifiers)

    def take(self, limit=None):
        """Remove and return up to ``limit`` pending transactions, oldest first."""
        count = len(self.pending) if limit is None else min(limit, len(self.pending))
        taken, self.pending = self.pending[:count], self.pending[count:]
        for tx in taken:
            self.reserved.difference_update(tx.nullifiers)
        return taken

    def evict_spent(self, pool):
        """Drop pending transactions whose nullifiers a block has spent."""
        keep = [tx for tx in self.pending if not any(nf in pool.nullifiers for nf in tx.nullifiers)]
        self.pending = keep
        self.reserved = set(nf for tx in keep for nf in tx.nullifiers)
