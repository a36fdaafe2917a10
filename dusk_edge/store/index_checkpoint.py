"""The index saved at a clean close, so that a normal restart loads it in one read instead of
replaying every sidecar.

It is only a shortcut: written by `close()` (never during operation, so it costs no wear per
block), deleted as soon as an open has read it (so a later crash can never meet a stale one), and
used only when every segment it names is still there with the same uid and end, and the active
segment holds nothing past its recorded end. Anything else falls back to replaying the log. Since
opening deletes it, a checkpoint on disk means nothing was written after that clean close, so the
active segment is not rescanned (like sealed ones, its records are verified on read and by check).
"""
import marshal
import os
import sys
from array import array

from dusk_edge.core import accel
from dusk_edge.store.chain_index import ChainIndex

CHECKPOINT_NAME = "index.ckpt"
# marshal, not CBOR: this file never leaves the machine and is read at every restart, and marshal
# loads the big dicts several times faster; the magic pins the Python version that wrote it
CHECKPOINT_MAGIC = b"DUSKCKP\x01" + bytes(sys.version_info[:2])


def encode_checkpoint(index, segments, active_entries):
    doc = {
        "active_entries": active_entries,
        "segments": [[s.number, s.uid, s.end] for s in segments],
        "base": index.base, "tip": index.tip,
        "header_loc": index.header_loc.tobytes(), "body_loc": index.body_loc.tobytes(),
        "hashes": b"".join(h or bytes(32) for h in index.hashes),
        "hash_len": len(index.hashes[0]) if index.hashes and index.hashes[0] else 32,
        "labels": index.labels, "label_loc": index.label_loc, "by_hash": index.by_hash,
        "by_tx": index.by_tx, "prune_below": index.prune_below, "prune_loc": index.prune_loc,
        "snapshots": [list(s) for s in index.snapshots], "last_seq": index.last_seq,
    }
    body = marshal.dumps(doc, 4)
    return CHECKPOINT_MAGIC + accel.crc32c(body).to_bytes(4, "little") + body


def write_checkpoint(io, path, index, segments, active_entries):
    """Save the index (clean close only). Every hash must have the same length to be packed."""
    if any(h is None for h in index.hashes) or len(set(len(h) for h in index.hashes)) > 1:
        return False
    io.write_file(os.path.join(path, CHECKPOINT_NAME),
                  encode_checkpoint(index, segments, active_entries))
    return True


def take_checkpoint(path):
    """Read and delete the checkpoint; returns its document or None."""
    file_path = os.path.join(path, CHECKPOINT_NAME)
    try:
        with open(file_path, "rb") as f:
            data = f.read()
        os.unlink(file_path)
    except OSError:
        return None
    head = len(CHECKPOINT_MAGIC) + 4
    if not data.startswith(CHECKPOINT_MAGIC) or len(data) < head:
        return None
    body = memoryview(data)[head:]
    if accel.crc32c(body) != int.from_bytes(data[head - 4:head], "little"):
        return None
    try:
        doc = marshal.loads(body)
    except (ValueError, EOFError, TypeError):
        return None
    return doc if isinstance(doc, dict) and isinstance(doc.get("segments"), list) else None


def index_from_checkpoint(doc):
    index = ChainIndex()
    index.base, index.tip = doc["base"], doc["tip"]
    index.header_loc = array("q", doc["header_loc"])
    index.body_loc = array("q", doc["body_loc"])
    blob, n = doc["hashes"], doc["hash_len"]
    index.hashes = [blob[i:i + n] for i in range(0, len(blob), n)]
    index.labels, index.label_loc = doc["labels"], doc["label_loc"]
    index.by_hash, index.by_tx = doc["by_hash"], doc["by_tx"]
    index.prune_below, index.prune_loc = doc["prune_below"], doc["prune_loc"]
    index.snapshots = [tuple(s) for s in doc["snapshots"]]
    index.last_seq = doc["last_seq"]
    if len(index.header_loc) != len(index.hashes) or len(index.body_loc) != len(index.hashes):
        return None
    return index
