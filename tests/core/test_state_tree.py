# The ledger's incremental merkle tree, including rollback (runs under MicroPython too).
from dusk_edge.core.hashes import sha3_256
from dusk_edge.core.ledger.state_tree import IncrementalMerkleTree
from expect import equal


def leaf(i):
    return sha3_256(b"leaf" + bytes([i]))


def test_rollback_restores_the_root():
    tree = IncrementalMerkleTree()
    for i in range(5):
        tree.set(b"k%d" % i, leaf(i))
    root = tree.root()
    tree.checkpoint()
    tree.set(b"k1", leaf(100))
    for i in range(5, 9):
        tree.set(b"k%d" % i, leaf(i))
    tree.root()
    tree.rollback()
    equal(tree.root(), root)
    equal(len(tree), 5)


def test_rollback_to_empty():
    tree = IncrementalMerkleTree()
    empty = tree.root()
    tree.checkpoint()
    tree.set(b"a", leaf(1))
    tree.rollback()
    equal(tree.root(), empty)
