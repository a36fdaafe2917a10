"""A block writer meant to be killed: the child side of the crash tests and the kill-and-reopen
bench. It appends deterministic blocks (and label changes, snapshots, prunes, compactions) to a
store and, after each commit returns, writes the committed height to a pipe, so the parent knows
exactly which heights must survive a SIGKILL.

Run as a script: ``python tests/store_child.py STORE_DIR REPORT_FD SEGMENT_SIZE``.
"""
import hashlib
import os
import random
import struct
import sys

SEGMENT_SIZE = 64 * 1024
CAPS = {"prune": True, "snapshot_every": 25, "write_budget_mb_per_day": 2048}


def make_block(height):
    """(block_hash, header, body, tx_ids) for a height: the same bytes in every process."""
    seed = hashlib.sha256(b"block %d" % height).digest()
    rng = random.Random(seed)
    n_tx = rng.randrange(0, 6)
    tx_ids = [hashlib.sha256(seed + b"tx %d" % i).digest() for i in range(n_tx)]
    header = seed * 4 + struct.pack("<Q", height)
    body = b"".join(rng.randbytes(96) + bytes(rng.randrange(0, 600)) for _ in range(n_tx + 1))
    return seed, header, body, tx_ids


def make_state(height):
    return hashlib.sha256(b"state %d" % height).digest() * 8


def write_forever(path, report_fd, segment_size=SEGMENT_SIZE, limit=None):
    """Append blocks from the store's tip onwards; report each committed height (u64 le)."""
    from dusk_edge.store import BlockStore

    store = BlockStore.open(path, board_caps=CAPS, segment_size=segment_size)
    tip = store.tip()
    height = 0 if tip is None else tip[0] + 1
    written = 0
    while limit is None or written < limit:
        block_hash, header, body, tx_ids = make_block(height)
        store.append_block(height, block_hash, header, body, tx_ids, label=b"accepted")
        if height > 0:
            store.set_label(height - 1, b"final")
        store.commit()
        os.write(report_fd, struct.pack("<Q", height))
        if store.snapshot_due(height):
            store.write_snapshot(height, make_state(height))
        if height % 60 == 59:
            store.prune(height - 40)
            store.compact()
        height += 1
        written += 1
    store.close()


if __name__ == "__main__":
    write_forever(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
