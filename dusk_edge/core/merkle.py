# Binary SHA3-256 merkle tree over 32-byte leaf digests (PROTOCOL.md §8; txroot, faultroot).
# Empty -> 32 zero bytes. Otherwise hash pairs level by level, a missing right child replaced by
# the left one, with at least one level: a single leaf l gives SHA3(l || l).
from dusk_edge.core.errors import LocalProtocolError
from dusk_edge.core.hashes import sha3_256

EMPTY_ROOT = bytes(32)


def compute_merkle_root(leaves):
    """Root of ``leaves`` (a list of 32-byte digests). Raises LocalProtocolError on a bad leaf."""
    level = list(leaves)
    for leaf in level:
        if len(leaf) != 32:
            raise LocalProtocolError("merkle leaf must be 32 bytes")
    if not level:
        return EMPTY_ROOT
    while True:
        level = compute_merkle_level(level)
        if len(level) == 1:
            return level[0]


def compute_merkle_level(level):
    """One level up: SHA3(l || r) per pair, SHA3(l || l) for an odd last node."""
    out = []
    for i in range(0, len(level), 2):
        left = level[i]
        right = level[i + 1] if i + 1 < len(level) else left
        out.append(sha3_256(left + right))
    return out
