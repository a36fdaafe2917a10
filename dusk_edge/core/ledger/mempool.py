# Theory of operation: the pool of transactions waiting for a block (PROTOCOL.md §7).
#
# Entries are indexed three ways: by tx id (duplicates), by (sender, nonce) (replacement and nonce
# chains) and in a lazy min-heap of (gas_price, gas_limit, -arrival) (capacity eviction of the
# lowest fee; among equals the newest goes first). Future nonces are accepted up to
# `max_nonce_ahead` past the account nonce and held until the gap is filled: `select` only hands
# out, per sender, the unbroken run that starts at account nonce + 1, highest gas price first
# across senders. Time is an argument (`now`, ms). Signature checks use the injected verifier.
# Shielded transactions go through the injected `shielded` hook (pool rules + proof, see
# execution.py); the nullifiers they spend are reserved so a second spend is refused while the
# first is pending, and dropped again when a block makes a pending one stale.
import heapq

from dusk_edge.core.errors import RemoteProtocolError
from dusk_edge.core.ledger.execution import (
    BadSignature,
    InsufficientBalance,
    NonceMismatch,
    ShieldedNotEnabled,
    check_transaction_static,
)
from dusk_edge.core.ledger.transactions import KIND_SHIELDED, signature_checks

MAX_NONCE_AHEAD = 64


class MempoolRejection(RemoteProtocolError):
    """The mempool refuses a transaction (the peer that sent it is told nothing; we count it)."""


class DuplicateTransaction(MempoolRejection):
    pass


class AlreadyInLedger(MempoolRejection):
    pass


class ReplacementUnderpriced(MempoolRejection):
    pass


class MempoolFull(MempoolRejection):
    pass


class _Entry:
    __slots__ = ("tx", "tx_id", "sender", "added_at", "seq", "nullifiers")

    def __init__(self, tx, tx_id, sender, added_at, seq, nullifiers=()):
        self.tx = tx
        self.tx_id = tx_id
        self.sender = sender
        self.added_at = added_at
        self.seq = seq
        self.nullifiers = nullifiers  # reserved by a shielded transaction


class Mempool:
    def __init__(self, profile, verifier, capacity=None, is_in_ledger=None, max_nonce_ahead=MAX_NONCE_AHEAD,
                 shielded=None):
        """`capacity` defaults to profile.mempool_max_txs (take the board's caps.mempool_max_txs);
        `is_in_ledger(tx_id) -> bool` rejects transactions the chain already holds; `shielded` has
        check_pending(state, payload, reserved) -> nullifiers and is_stale(state, payload) -> bool."""
        self.profile = profile
        self.shielded = shielded
        self.reserved = set()  # nullifiers of pending shielded transactions
        self.verifier = verifier
        self.capacity = capacity if capacity is not None else profile.mempool_max_txs
        self.is_in_ledger = is_in_ledger
        self.max_nonce_ahead = max_nonce_ahead
        self._by_id = {}
        self._by_sender = {}  # account_id -> {nonce: _Entry}
        self._heap = []
        self._seq = 0

    @classmethod
    def for_board(cls, profile, verifier, board, is_in_ledger=None):
        """A mempool sized by a board profile's caps.mempool_max_txs (dusk_edge.boards)."""
        return cls(profile, verifier, board["caps"]["mempool_max_txs"], is_in_ledger)

    def __len__(self):
        return len(self._by_id)

    def __contains__(self, tx_id):
        return tx_id in self._by_id

    def get(self, tx_id):
        entry = self._by_id.get(tx_id)
        return entry.tx if entry is not None else None

    def transactions(self):
        return [e.tx for e in self._by_id.values()]

    def add(self, tx, state, now):
        """Admit `tx` or raise a named rejection. Returns the list of transactions it displaced
        (a replaced one and/or the lowest-fee one evicted for room)."""
        check_transaction_static(tx, self.profile)
        if tx.kind == KIND_SHIELDED and self.shielded is None:
            raise ShieldedNotEnabled("shielded transactions are not enabled on this network")
        tx_id = tx.tx_id()
        if tx_id in self._by_id:
            raise DuplicateTransaction("already in the mempool")
        if self.is_in_ledger is not None and self.is_in_ledger(tx_id):
            raise AlreadyInLedger("already in the ledger")
        acct = state.account(tx.sender)
        if tx.nonce <= acct.nonce:
            raise NonceMismatch("nonce %d already used (account nonce %d)" % (tx.nonce, acct.nonce))
        if tx.nonce > acct.nonce + self.max_nonce_ahead:
            raise NonceMismatch("nonce %d is more than %d ahead" % (tx.nonce, self.max_nonce_ahead))
        if tx.spend_limit() > acct.balance:
            raise InsufficientBalance("needs %d LUX, holds %d" % (tx.spend_limit(), acct.balance))
        sender = tx.sender.account_id()
        old = self._by_sender.get(sender, {}).get(tx.nonce)
        if old is not None and not _is_better(tx, old.tx):
            raise ReplacementUnderpriced("replacement needs a higher gas price, or the same price and a higher limit")
        if self.verifier.verify_batch(signature_checks(tx)) >= 0:
            raise BadSignature("bad signature")
        nullifiers = ()
        if tx.kind == KIND_SHIELDED:
            reserved = self.reserved
            if old is not None and old.nullifiers:
                reserved = reserved - set(old.nullifiers)  # a replacement may spend the same notes
            nullifiers = tuple(self.shielded.check_pending(state, tx.payload, reserved))
        displaced = []
        if old is not None:
            self._remove(old)
            displaced.append(old.tx)
        elif len(self._by_id) >= self.capacity:
            lowest = self._lowest()
            if lowest is None or _fee_key(lowest.tx) >= _fee_key(tx):
                raise MempoolFull("mempool full (%d) and the fee is not above the lowest" % self.capacity)
            self._remove(lowest)
            displaced.append(lowest.tx)
        self._insert(_Entry(tx, tx_id, sender, now, self._seq, nullifiers))
        self._seq += 1
        return displaced

    def _insert(self, entry):
        self._by_id[entry.tx_id] = entry
        self.reserved.update(entry.nullifiers)
        nonces = self._by_sender.get(entry.sender)
        if nonces is None:
            nonces = self._by_sender[entry.sender] = {}
        nonces[entry.tx.nonce] = entry
        heapq.heappush(self._heap, (entry.tx.gas_price, entry.tx.gas_limit, -entry.seq, entry.tx_id))

    def _remove(self, entry):
        del self._by_id[entry.tx_id]
        self.reserved.difference_update(entry.nullifiers)
        nonces = self._by_sender[entry.sender]
        del nonces[entry.tx.nonce]
        if not nonces:
            del self._by_sender[entry.sender]
        # the heap entry is dropped lazily; compact when it is mostly stale
        if len(self._heap) > 2 * len(self._by_id) + 64:
            self._heap = [item for item in self._heap if item[3] in self._by_id and
                          self._by_id[item[3]].seq == -item[2]]
            heapq.heapify(self._heap)

    def _lowest(self):
        while self._heap:
            _, _, neg_seq, tx_id = self._heap[0]
            entry = self._by_id.get(tx_id)
            if entry is not None and entry.seq == -neg_seq:
                return entry
            heapq.heappop(self._heap)
        return None

    def remove(self, tx_id):
        entry = self._by_id.get(tx_id)
        if entry is not None:
            self._remove(entry)

    def expire(self, now):
        """Drop transactions older than profile.mempool_expiry_ms; returns them."""
        limit = self.profile.mempool_expiry_ms
        old = [e for e in self._by_id.values() if now - e.added_at >= limit]
        for entry in old:
            self._remove(entry)
        return [e.tx for e in old]

    def on_block(self, block, state):
        """After `block` is accepted on `state`: drop what it included and what became stale."""
        for tx in block.transactions:
            self.remove(tx.tx_id())
        touched = set(tx.sender.account_id() for tx in block.transactions)
        for sender in touched:
            nonces = self._by_sender.get(sender)
            if not nonces:
                continue
            any_entry = next(iter(nonces.values()))
            account_nonce = state.account(any_entry.tx.sender).nonce
            for entry in [e for n, e in nonces.items() if n <= account_nonce]:
                self._remove(entry)
        if self.shielded is not None and self.reserved:  # a spent nullifier or an expired root
            for entry in [e for e in self._by_id.values() if e.nullifiers]:
                if self.shielded.is_stale(state, entry.tx.payload):
                    self._remove(entry)

    def select(self, state, max_txs=None, gas_budget=None):
        """Ready transactions for a candidate block: per sender the unbroken nonce run from the
        account nonce + 1 that the balance covers, merged highest gas price first."""
        max_txs = self.profile.max_transactions if max_txs is None else max_txs
        gas_budget = self.profile.block_gas_limit if gas_budget is None else gas_budget
        heads = []
        plans = {}
        for sender, nonces in self._by_sender.items():
            any_tx = next(iter(nonces.values())).tx
            acct = state.account(any_tx.sender)
            plans[sender] = [acct.nonce + 1, acct.balance]
            entry = nonces.get(acct.nonce + 1)
            if entry is not None:
                heads.append((-entry.tx.gas_price, entry.seq, sender, entry))
        heapq.heapify(heads)
        out = []
        while heads and len(out) < max_txs:
            _, _, sender, entry = heapq.heappop(heads)
            tx = entry.tx
            plan = plans[sender]
            if tx.spend_limit() > plan[1] or tx.gas_limit > gas_budget:
                continue  # this sender's run stops here
            out.append(tx)
            gas_budget -= tx.gas_limit
            plan[1] -= tx.spend_limit()
            plan[0] += 1
            nxt = self._by_sender[sender].get(plan[0])
            if nxt is not None:
                heapq.heappush(heads, (-nxt.tx.gas_price, nxt.seq, sender, nxt))
        return out


def _fee_key(tx):
    return (tx.gas_price, tx.gas_limit)


def _is_better(new, old):
    """§7 replacement: a higher gas price, or the same price with a higher gas limit."""
    return new.gas_price > old.gas_price or (new.gas_price == old.gas_price and new.gas_limit > old.gas_limit)
