# core/merkle.py against the PROTOCOL.md §8 vectors (source: Dusk consensus/src/merkle.rs tests,
# leaves = SHA3-256 of the ASCII word) and the tree shape the section describes.
import expect
from dusk_edge.core.errors import LocalProtocolError
from dusk_edge.core.hashes import sha3_256
from dusk_edge.core.merkle import EMPTY_ROOT, compute_merkle_level, compute_merkle_root

HELLO_ROOT = bytes([32, 188, 172, 153, 245, 171, 51, 156, 161, 201, 80, 58, 155, 97, 1, 79, 86, 175,
                    244, 91, 137, 105, 238, 155, 233, 126, 112, 151, 195, 101, 37, 220])
BELLA_ROOT = bytes([21, 37, 141, 144, 92, 108, 151, 168, 167, 108, 172, 79, 204, 99, 154, 196, 242,
                    247, 38, 145, 254, 228, 141, 104, 75, 210, 148, 101, 74, 166, 1, 65])


def leaves(*words):
    return [sha3_256(word.encode()) for word in words]


def test_protocol_vector_four_leaves():
    expect.equal(compute_merkle_root(leaves("Hello", "Hi", "Hey", "Hola")), HELLO_ROOT, "4 leaves")


def test_protocol_vector_one_leaf_has_one_level():
    (leaf,) = leaves("Bella")
    expect.equal(compute_merkle_root([leaf]), BELLA_ROOT, "1 leaf")
    expect.equal(BELLA_ROOT, sha3_256(leaf + leaf), "single leaf is SHA3(l || l)")


def test_empty_tree_is_zero():
    expect.equal(compute_merkle_root([]), bytes(32))
    expect.equal(EMPTY_ROOT, bytes(32))


def test_odd_levels_pair_the_last_node_with_itself():
    a, b, c = leaves("a", "b", "c")
    ab = sha3_256(a + b)
    cc = sha3_256(c + c)
    expect.equal(compute_merkle_level([a, b, c]), [ab, cc])
    expect.equal(compute_merkle_root([a, b, c]), sha3_256(ab + cc))


def test_two_leaves():
    a, b = leaves("x", "y")
    expect.equal(compute_merkle_root([a, b]), sha3_256(a + b))


def test_order_matters():
    words = leaves("Hello", "Hi", "Hey", "Hola")
    expect.true(compute_merkle_root(list(reversed(words))) != HELLO_ROOT, "reversed leaves differ")


def test_bad_leaf_length_is_a_local_error():
    expect.raises(LocalProtocolError, compute_merkle_root, [bytes(31)])
    expect.raises(LocalProtocolError, compute_merkle_root, [bytes(32), bytes(33)])
