"""The append-only note-commitment tree: fixed depth, Poseidon nodes, O(depth) per append.

Theory of operation. Leaves are note commitments at positions 0, 1, 2, ...; an empty subtree of
height h has the constant root ZERO[h] (ZERO[0] = 0, ZERO[h+1] = H_merkle(ZERO[h], ZERO[h])), so
only nodes with at least one real leaf below them are stored, level by level. Appending a batch
recomputes each touched parent once (two outputs of one transaction share all but the lowest
node). `pop` undoes the last append for block reverts. `path(position)` gives the siblings the
circuit needs. The node values are ints < r; H_merkle is poseidon.hash2 under TAG_MERKLE.
"""
from dusk_edge.core.errors import LocalProtocolError, RemoteProtocolError
from dusk_edge.zk import poseidon

DEPTH = 16


def _merkle(left, right):
    return poseidon.hash2(poseidon.TAG_MERKLE, left, right)


def _zeros(depth):
    zeros = [0]
    for _ in range(depth):
        zeros.append(_merkle(zeros[-1], zeros[-1]))
    return zeros


ZEROS = _zeros(DEPTH)


class TreeFull(RemoteProtocolError):
    """The note tree has no room for more leaves."""


class NoteTree:
    """Stored levels: ``levels[0]`` are the leaves, ``levels[DEPTH]`` holds at most the root."""

    __slots__ = ("levels",)

    def __init__(self, leaves=()):
        self.levels = [[] for _ in range(DEPTH + 1)]
        if leaves:
            self.extend(leaves)

    def __len__(self):
        return len(self.levels[0])

    @property
    def capacity(self):
        return 1 << DEPTH

    def _node(self, level, index):
        row = self.levels[level]
        return row[index] if index < len(row) else ZEROS[level]

    @property
    def root(self):
        return self._node(DEPTH, 0)

    def extend(self, leaves):
        """Append the commitments in order; returns the position of the first."""
        leaves = list(leaves)
        first = len(self)
        if first + len(leaves) > self.capacity:
            raise TreeFull("note tree full (%d leaves)" % self.capacity)
        self.levels[0].extend(leaves)
        dirty = sorted(set(range(first, first + len(leaves))))
        for level in range(1, DEPTH + 1):
            dirty = sorted(set(i // 2 for i in dirty))
            row = self.levels[level]
            for index in dirty:
                value = _merkle(self._node(level - 1, 2 * index), self._node(level - 1, 2 * index + 1))
                if index < len(row):
                    row[index] = value
                else:
                    row.append(value)
        return first

    def pop(self, count=1):
        """Remove the last ``count`` leaves (block revert)."""
        if count > len(self):
            raise LocalProtocolError("cannot pop %d of %d leaves" % (count, len(self)))
        for _ in range(count):
            index = len(self) - 1
            self.levels[0].pop()
            for level in range(1, DEPTH + 1):
                index //= 2
                row = self.levels[level]
                if 2 * index >= len(self.levels[level - 1]):
                    row.pop()
                else:
                    row[index] = _merkle(self._node(level - 1, 2 * index),
                                         self._node(level - 1, 2 * index + 1))

    def path(self, position):
        """Siblings from the leaf up (DEPTH ints) for the leaf at ``position``."""
        if not 0 <= position < len(self):
            raise LocalProtocolError("no leaf at position %d" % position)
        siblings = []
        index = position
        for level in range(DEPTH):
            siblings.append(self._node(level, index ^ 1))
            index //= 2
        return siblings


def root_from_path(leaf, position, siblings):
    """The root implied by a leaf, its position and its siblings (what the circuit computes)."""
    node = leaf
    for level, sibling in enumerate(siblings):
        if (position >> level) & 1:
            node = _merkle(sibling, node)
        else:
            node = _merkle(node, sibling)
    return node
