# Theory of operation: an append-only, incrementally updated SHA3 merkle tree.
#
# Every key (an account, a stake, a note, a nullifier) gets a slot the first time it is written;
# slots are handed out in the order the chain writes them, so replaying the same blocks gives the
# same slots and the same root. The tree keeps every level as one flat bytearray of 32-byte nodes
# (1M leaves ~ 64 MB, no per-node objects). Changing k leaves and calling `root()` rehashes only
# the dirty paths: O(k * log n) SHA3 calls, never a full rehash.
#
# The root follows the shape of PROTOCOL.md §8's merkle roots (a missing right child is replaced
# by the left, at least one level, empty -> 32 zero bytes), so `compute_merkle_root(leaves)` is an
# independent check of this class.
from dusk_edge.core.errors import LocalProtocolError
from dusk_edge.core.hashes import sha3_256

EMPTY_ROOT = bytes(32)


class IncrementalMerkleTree:
    __slots__ = ("_levels", "_slots", "_dirty", "_root", "hash_count", "_undo")

    def __init__(self):
        self._levels = [bytearray()]
        self._slots = {}
        self._dirty = set()
        self._root = EMPTY_ROOT
        self.hash_count = 0  # SHA3 calls spent on interior nodes (the benchmark reads it)
        self._undo = None  # (slot count, {slot: old leaf}, [new keys]) while a checkpoint is open

    def __len__(self):
        return len(self._slots)

    def __contains__(self, key):
        return key in self._slots

    def set(self, key, leaf):
        """Set the 32-byte leaf digest of `key`, appending a new slot for an unseen key."""
        if len(leaf) != 32:
            raise LocalProtocolError("leaf digest must be 32 bytes")
        slot = self._slots.get(key)
        leaves = self._levels[0]
        if slot is None:
            slot = len(self._slots)
            self._slots[key] = slot
            leaves.extend(leaf)
            if self._undo is not None:
                self._undo[2].append(key)
        else:
            if self._undo is not None and slot < self._undo[0] and slot not in self._undo[1]:
                self._undo[1][slot] = bytes(leaves[slot * 32:slot * 32 + 32])
            leaves[slot * 32:slot * 32 + 32] = leaf
        self._dirty.add(slot)

    def leaf(self, key):
        slot = self._slots[key]
        return bytes(self._levels[0][slot * 32:slot * 32 + 32])

    def leaves(self):
        data = self._levels[0]
        return [bytes(data[i:i + 32]) for i in range(0, len(data), 32)]

    def root(self):
        """The current root; rehashes only the paths of leaves set since the last call."""
        if not self._dirty:
            return self._root
        count = len(self._slots)
        dirty = self._dirty
        self._dirty = set()
        level = 0
        while True:
            width = count
            count = (count + 1) // 2
            if len(self._levels) == level + 1:
                self._levels.append(bytearray())
            below = self._levels[level]
            above = self._levels[level + 1]
            if len(above) < count * 32:
                above.extend(bytes(count * 32 - len(above)))
            parents = set()
            for index in dirty:
                parents.add(index >> 1)
            for parent in parents:
                start = parent * 64
                if 2 * parent + 1 < width:
                    pair = bytes(below[start:start + 64])  # left and right children are adjacent
                else:
                    node = bytes(below[start:start + 32])
                    pair = node + node
                above[parent * 32:parent * 32 + 32] = sha3_256(pair)
            self.hash_count += len(parents)
            dirty = parents
            level += 1
            if count == 1:
                break
        self._root = bytes(self._levels[level][0:32])
        return self._root

    def checkpoint(self):
        """Start recording changes so `rollback()` can undo them (one level deep)."""
        self._undo = (len(self._slots), {}, [])

    def commit(self):
        self._undo = None

    def rollback(self):
        """Undo every set() since checkpoint(): old leaves back, new slots dropped."""
        if self._undo is None:
            raise LocalProtocolError("rollback without a checkpoint")
        count, old_leaves, new_keys = self._undo
        self._undo = None
        for key in new_keys:
            del self._slots[key]
        # a fresh truncated copy: MicroPython's bytearray has no slice deletion
        leaves = self._levels[0][:count * 32]
        self._levels[0] = leaves
        for slot, leaf in old_leaves.items():
            leaves[slot * 32:slot * 32 + 32] = leaf
        self._dirty = set(slot for slot in self._dirty if slot < count)
        self._dirty.update(old_leaves)
        if count:
            # nodes straddling the old end were hashed with dropped slots; the last slot's path
            # covers exactly those nodes
            self._dirty.add(count - 1)
        else:
            self._root = EMPTY_ROOT
            self._dirty = set()

    def copy(self):
        other = IncrementalMerkleTree()
        other._levels = [bytearray(level) for level in self._levels]
        other._slots = dict(self._slots)
        other._dirty = set(self._dirty)
        other._root = self._root
        return other
