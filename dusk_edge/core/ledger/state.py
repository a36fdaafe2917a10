# Theory of operation: the ledger state (DESIGN.md §5) and its incremental state_hash.
#
#   accounts   account_id (SHA3 of the tagged key) -> Account(key, balance, nonce)
#   stakes     consensus public key (96 B)         -> Stake (stakes.py)
#   notes      append-only list of 32-byte note commitments (shielded pool placeholder)
#   nullifiers set of spent 32-byte nullifiers
#   totals     genesis supply, emission so far, burned, shielded pool
#   zk_keys    SHA3 of the genesis zk verifying keys (None on networks without shielded transfers)
#
# Each table is an IncrementalMerkleTree; state_hash = SHA3(accounts_root | stakes_root |
# notes_root | nullifiers_root | SHA3(totals) [| zk_keys]): the keys are fixed in genesis and
# committed by every state hash, so nodes with another key part ways at the genesis hash. Writes go through `_put_*`, which journal the old
# value; `begin()` / `commit()` / `rollback()` bracket a block so it either fully applies or leaves
# no trace (dicts and trees alike). Objects in the tables are never mutated in place.
from dusk_edge.core.errors import LocalProtocolError
from dusk_edge.core.hashes import sha3_256
from dusk_edge.core.ledger.stakes import Stake
from dusk_edge.core.ledger.state_tree import IncrementalMerkleTree
from dusk_edge.core.wire import Buffer

_ABSENT = object()
U64_MAX = (1 << 64) - 1


class Account:
    __slots__ = ("key", "balance", "nonce")

    def __init__(self, key, balance=0, nonce=0):
        self.key = key
        self.balance = balance
        self.nonce = nonce

    def __repr__(self):
        return "Account(%r, balance=%d, nonce=%d)" % (self.key, self.balance, self.nonce)

    def leaf(self):
        buf = Buffer()
        buf.push_u8(0)
        buf.push_bytes(self.key.encode())
        buf.push_u64(self.balance)
        buf.push_u64(self.nonce)
        return sha3_256(buf.data)


class State:
    __slots__ = ("profile", "height", "tip_hash", "accounts", "stakes", "notes", "nullifiers", "genesis_supply",
                 "total_emission", "burned", "shielded_pool", "dusk_fund", "zk_keys", "_trees", "_journal", "_dirty")

    def __init__(self, profile, dusk_fund):
        self.profile = profile
        self.height = 0
        self.tip_hash = bytes(32)
        self.accounts = {}
        self.stakes = {}
        self.notes = []
        self.nullifiers = set()
        self.genesis_supply = 0
        self.total_emission = 0
        self.burned = 0
        self.shielded_pool = 0
        self.dusk_fund = dusk_fund  # AccountKey receiving the fund's 10 %
        self.zk_keys = None
        self._trees = (IncrementalMerkleTree(), IncrementalMerkleTree(), IncrementalMerkleTree(),
                       IncrementalMerkleTree())
        self._journal = None
        self._dirty = (set(), set())  # account ids, stake keys whose leaves need recomputing

    # reading ---------------------------------------------------------------------------
    def account(self, key):
        """The Account of an AccountKey (a zero account when never seen)."""
        acct = self.accounts.get(key.account_id())
        return acct if acct is not None else Account(key)

    def balance(self, key):
        return self.account(key).balance

    def nonce(self, key):
        return self.account(key).nonce

    def stake(self, account_pk):
        return self.stakes.get(bytes(account_pk))

    def get_provisioners(self, round):
        """[(public_key96, value, eligible_since)] that sortition may draw at `round`: eligible by
        then and staking at least the minimum; ascending key order (PROTOCOL.md §4)."""
        out = []
        for pk in sorted(self.stakes):
            s = self.stakes[pk]
            if s.value >= self.profile.minimum_stake and s.eligibility <= round:
                out.append((pk, s.value, s.eligibility))
        return out

    def all_stakes(self):
        """[(public_key96, Stake)] in key order, whatever their eligibility."""
        return [(pk, self.stakes[pk]) for pk in sorted(self.stakes)]

    def total_supply_held(self):
        """Left side of the supply invariant (DESIGN.md §5)."""
        total = self.shielded_pool + self.burned
        for acct in self.accounts.values():
            total += acct.balance
        for s in self.stakes.values():
            total += s.total()
        return total

    def check_supply(self):
        """True when held + burned == genesis supply + emission."""
        return self.total_supply_held() == self.genesis_supply + self.total_emission

    def state_hash(self):
        """SHA3 root over the sub-roots; costs O(changed entries * log n)."""
        self._flush_leaves()
        roots = b"".join(tree.root() for tree in self._trees)
        buf = Buffer()
        buf.push_u8(self.profile.chain_id)  # two networks never share a state_hash (or a genesis hash)
        for v in (self.height, self.genesis_supply, self.total_emission, self.burned, self.shielded_pool):
            buf.push_u64(v)
        return sha3_256(roots + sha3_256(buf.data) + (self.zk_keys or b""))

    def _flush_leaves(self):
        # sorted: new keys get tree slots in this order, and set order differs between processes
        # (hash randomization) and interpreters; the state_hash must not
        accounts, stakes = self._dirty
        for acct_id in sorted(accounts):
            self._trees[0].set(acct_id, self.accounts[acct_id].leaf())
        for pk in sorted(stakes):
            self._trees[1].set(pk, self.stakes[pk].leaf(pk))
        self._dirty = (set(), set())

    # writing (journaled) -----------------------------------------------------------------
    def begin(self):
        if self._journal is not None:
            raise LocalProtocolError("state: a change set is already open")
        self._flush_leaves()
        self._journal = []
        for tree in self._trees:
            tree.checkpoint()

    def commit(self):
        self._journal = None
        for tree in self._trees:
            tree.commit()

    def rollback(self):
        journal = self._journal
        self._journal = None
        if journal is None:
            raise LocalProtocolError("state: rollback without begin")
        for table, key, old in reversed(journal):
            if table is None:
                setattr(self, key, old)
            elif old is _ABSENT:
                if isinstance(table, list):
                    table.pop()
                elif isinstance(table, set):
                    table.discard(key)
                else:
                    del table[key]
            else:
                table[key] = old
        self._dirty = (set(), set())
        for tree in self._trees:
            tree.rollback()

    def _record(self, table, key, old):
        if self._journal is not None:
            self._journal.append((table, key, old))

    def set_total(self, name, value):
        if not 0 <= value <= U64_MAX:
            raise LocalProtocolError("%s out of u64 range" % name)
        self._record(None, name, getattr(self, name))
        setattr(self, name, value)

    def set_field(self, name, value):
        self._record(None, name, getattr(self, name))
        setattr(self, name, value)

    def put_account(self, acct):
        if not 0 <= acct.balance <= U64_MAX or not 0 <= acct.nonce <= U64_MAX:
            raise LocalProtocolError("account balance or nonce out of u64 range")
        acct_id = acct.key.account_id()
        self._record(self.accounts, acct_id, self.accounts.get(acct_id, _ABSENT))
        self.accounts[acct_id] = acct
        self._dirty[0].add(acct_id)

    def put_stake(self, account_pk, stake):
        account_pk = bytes(account_pk)
        self._record(self.stakes, account_pk, self.stakes.get(account_pk, _ABSENT))
        self.stakes[account_pk] = stake
        self._dirty[1].add(account_pk)

    def add_note(self, commitment):
        """Append a note commitment to the note tree (shielded transfers build on this)."""
        self._record(self.notes, None, _ABSENT)
        self._trees[2].set(len(self.notes), bytes(commitment))
        self.notes.append(bytes(commitment))

    def add_nullifier(self, nullifier):
        nullifier = bytes(nullifier)
        if nullifier in self.nullifiers:
            raise LocalProtocolError("nullifier already spent")
        self._record(self.nullifiers, nullifier, _ABSENT)
        self.nullifiers.add(nullifier)
        self._trees[3].set(nullifier, sha3_256(nullifier))

    def credit(self, key, amount):
        acct = self.account(key)
        self.put_account(Account(key, acct.balance + amount, acct.nonce))

    # blocks ------------------------------------------------------------------------------
    def apply_block(self, block, verifier, voter_credits=None, check_state_hash=True, parent_hash_at=None,
                    is_known_fault=None, shielded=None):
        """Apply `block` fully or not at all (see execution.apply_block). Returns a BlockReceipt."""
        from dusk_edge.core.ledger.execution import apply_block

        return apply_block(self, block, verifier, voter_credits, check_state_hash, parent_hash_at, is_known_fault,
                           False, shielded)

    def preview_block(self, block, verifier, voter_credits=None, parent_hash_at=None, is_known_fault=None,
                      shielded=None):
        """Run `block` without keeping it; the receipt's state_hash is what its header must carry."""
        from dusk_edge.core.ledger.execution import apply_block

        return apply_block(self, block, verifier, voter_credits, False, parent_hash_at, is_known_fault, True,
                           shielded)


def new_state_from_genesis(spec, profile):
    """The height-0 State of a genesis spec (genesis_spec.GenesisSpec)."""
    state = State(profile, spec.dusk_fund)
    supply = 0
    for key, amount in spec.balances:
        if amount:
            state.credit(key, amount)
        supply += amount
    for account_pk, owner, value, eligible_since in spec.provisioners:
        if account_pk in state.stakes:
            raise LocalProtocolError("duplicate provisioner in genesis")
        state.put_stake(account_pk, Stake(owner, value=value, eligibility=eligible_since))
        supply += value
    state.genesis_supply = supply
    if spec.zk_verifying_keys:
        state.zk_keys = zk_keys_digest(spec.zk_verifying_keys)
    return state


def zk_keys_digest(keys):
    """SHA3-256 over the genesis verifying keys {name: bytes}, in name order."""
    buf = Buffer()
    for name in sorted(keys):
        raw = name.encode()
        buf.push_u8(len(raw))
        buf.push_bytes(raw)
        buf.push_u32(len(keys[name]))
        buf.push_bytes(keys[name])
    return sha3_256(buf.data)
