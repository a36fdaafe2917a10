"""The in-memory index of the chain log: height -> record locations, hash -> height,
tx id -> (height, position), labels, prune line and snapshots.

It is rebuilt by replaying records in log order (from sidecars for sealed segments, from a scan for
the active one), so it is never written on its own and can never go stale. Replay rules:
- a HEADER at a height <= tip without FLAG_REPLACE is a revert: heights above it are dropped;
- a HEADER with FLAG_REPLACE (repair, compaction) swaps the record of a stored height in place;
- a COMMIT's tip beyond the known tip means heights were lost in damage: they stay MISSING.
Locations pack (segment << 32 | offset). Memory: 16 bytes per height in arrays, plus dict entries
for hashes and tx ids (~100 bytes each).
"""
from array import array

import cbor2

from dusk_edge.core.storage import log_format as lf

MISSING = -2
PRUNED = -1
SNAPSHOTS_KEPT = 3


def pack_loc(segment, offset):
    return (segment << 32) | offset


def unpack_loc(loc):
    return loc >> 32, loc & 0xFFFFFFFF


def entry_of(rtype, payload, offset):
    """The compact replay entry of a record: a list starting [offset, type, ...] holding what the
    index needs (never the header or body bytes). Sidecars store these as CBOR. None for PAD."""
    if rtype == lf.T_HEADER:
        height, flags, block_hash, tx_ids, label, _, _ = lf.decode_header_record(payload)
        return [offset, rtype, height, flags, block_hash, label, tx_ids]
    if rtype == lf.T_BODY:
        return [offset, rtype, lf.decode_body_record(payload[:9])[0]]
    if rtype == lf.T_COMMIT:
        seq, _, tip = lf.decode_commit(payload)
        return [offset, rtype, seq, tip]
    if rtype == lf.T_LABEL:
        height, label = cbor2.loads(bytes(payload))
        return [offset, rtype, height, label]
    if rtype == lf.T_PRUNE:
        return [offset, rtype, cbor2.loads(bytes(payload))["below"]]
    if rtype == lf.T_SNAPSHOT:
        return [offset, rtype, cbor2.loads(bytes(payload))]
    return None


class ChainIndex:
    __slots__ = ("base", "tip", "header_loc", "body_loc", "hashes", "labels", "label_loc",
                 "by_hash", "by_tx", "prune_below", "prune_loc", "snapshots", "last_seq")

    def __init__(self):
        self.base = None
        self.tip = None
        self.header_loc = array("q")
        self.body_loc = array("q")
        self.hashes = []
        self.labels = {}
        self.label_loc = {}
        self.by_hash = {}
        self.by_tx = {}
        self.prune_below = 0
        self.prune_loc = None
        self.snapshots = []  # (height, loc, meta dict), oldest first
        self.last_seq = 0

    # --- queries -------------------------------------------------------------------------
    def has(self, height):
        return self.tip is not None and self.base <= height <= self.tip

    def slot(self, height):
        return height - self.base

    def missing_heights(self):
        """Heights whose header, or unpruned body, is not in the log (lost to damage)."""
        if self.tip is None:
            return []
        out = []
        for i in range(len(self.header_loc)):
            if self.header_loc[i] == MISSING or self.body_loc[i] == MISSING:
                out.append(self.base + i)
        return out

    def live_locations(self):
        live = set(self.header_loc)
        live.update(self.body_loc)
        live.update(self.label_loc.values())
        live.update(loc for _, loc, _ in self.snapshots)
        if self.prune_loc is not None:
            live.add(self.prune_loc)
        return live

    # --- replay --------------------------------------------------------------------------
    def apply(self, rtype, payload, loc):
        """Apply one record (full payload) found at ``loc``."""
        entry = entry_of(rtype, payload, loc & 0xFFFFFFFF)
        if entry is not None:
            self.apply_entry(entry, loc >> 32)

    def apply_entry(self, entry, segment):
        """Apply one compact entry (see entry_of) of ``segment``: the replay hot loop."""
        rtype = entry[1]
        loc = (segment << 32) | entry[0]
        if rtype == lf.T_HEADER:
            self.add_header(entry[2], entry[3], entry[4], entry[6], entry[5], loc)
        elif rtype == lf.T_BODY:
            self.add_body(entry[2], loc)
        elif rtype == lf.T_LABEL:
            if self.has(entry[2]):
                self.labels[entry[2]] = entry[3]
                self.label_loc[entry[2]] = loc
        elif rtype == lf.T_COMMIT:
            self.apply_commit(entry[2], entry[3])
        elif rtype == lf.T_PRUNE:
            self._apply_prune(entry[2], loc)
        elif rtype == lf.T_SNAPSHOT:
            self._add_snapshot(entry[2], loc)

    def replay_entries(self, entries, segment):
        """apply_entry over a sealed segment's entries, with the common cases (the next height,
        its body, a label) inlined: reopening after 100,000 blocks runs this 300,000 times."""
        seg_loc = segment << 32
        header_loc, body_loc, hashes = self.header_loc, self.body_loc, self.hashes
        by_hash, by_tx, labels, label_loc = self.by_hash, self.by_tx, self.labels, self.label_loc
        for entry in entries:
            rtype = entry[1]
            tip = self.tip
            if rtype == lf.T_HEADER and not entry[3] and tip is not None and entry[2] == tip + 1:
                height, loc, block_hash = entry[2], seg_loc | entry[0], entry[4]
                header_loc.append(loc)
                body_loc.append(MISSING if height >= self.prune_below else PRUNED)
                hashes.append(block_hash)
                self.tip = height
                by_hash[block_hash] = height
                for n, tx_id in enumerate(entry[6]):
                    by_tx[tx_id] = (height << 16) | n
                if entry[5]:
                    labels[height] = entry[5]
                    label_loc[height] = loc
            elif rtype == lf.T_BODY and tip is not None and self.base <= entry[2] <= tip:
                if entry[2] >= self.prune_below:
                    body_loc[entry[2] - self.base] = seg_loc | entry[0]
            elif rtype == lf.T_LABEL and tip is not None and self.base <= entry[2] <= tip:
                labels[entry[2]] = entry[3]
                label_loc[entry[2]] = seg_loc | entry[0]
            elif rtype == lf.T_COMMIT:
                if entry[2] > self.last_seq:
                    self.last_seq = entry[2]
                if entry[3] is not None and tip is not None and entry[3] > tip:
                    self._extend_to(entry[3])
            else:
                self.apply_entry(entry, segment)
                header_loc, body_loc, hashes = self.header_loc, self.body_loc, self.hashes

    def _add_snapshot(self, meta, loc):
        # a compaction copy of an older snapshot lands later in the log: order by height
        kept = [s for s in self.snapshots if s[0] != meta["h"]] + [(meta["h"], loc, meta)]
        kept.sort(key=lambda s: s[0])
        self.snapshots = kept[-SNAPSHOTS_KEPT:]

    def add_body(self, height, loc):
        if self.has(height) and height >= self.prune_below:
            self.body_loc[self.slot(height)] = loc

    def apply_commit(self, seq, tip):
        self.last_seq = max(self.last_seq, seq)
        if tip is not None and self.tip is not None and tip > self.tip:
            self._extend_to(tip)

    def add_header(self, height, flags, block_hash, tx_ids, label, loc):
        """Index a HEADER record (replayed, or just staged by the store)."""
        if flags & lf.FLAG_REPLACE:
            # a repair or compaction copy; replay may meet it before the heights around it
            if self.base is None:
                self.base = height
                self.tip = height - 1
            elif height < self.base:
                self._prepend_to(height)
        elif self.base is None:
            self.base = height
            self.tip = height - 1
        elif height < self.base:
            return  # the store refuses these; a damaged log must not reset the index
        elif height <= self.tip:
            self.truncate_above(height - 1)
        if height > self.tip:
            self._extend_to(height)
        i = self.slot(height)
        self.header_loc[i] = loc
        self.hashes[i] = block_hash
        self.by_hash[block_hash] = height
        for n, tx_id in enumerate(tx_ids):
            self.by_tx[tx_id] = (height << 16) | n
        if label:
            self.labels[height] = label
            self.label_loc[height] = loc

    def _extend_to(self, height):
        grow = height - self.tip
        if grow == 1:  # the append path
            self.header_loc.append(MISSING)
            self.body_loc.append(MISSING if height >= self.prune_below else PRUNED)
            self.hashes.append(None)
            self.tip = height
            return
        self.header_loc.extend([MISSING] * grow)
        self.body_loc.extend([MISSING if h >= self.prune_below else PRUNED
                              for h in range(self.tip + 1, height + 1)])
        self.hashes.extend([None] * grow)
        self.tip = height

    def _prepend_to(self, height):
        grow = self.base - height
        self.header_loc = array("q", [MISSING] * grow) + self.header_loc
        self.body_loc = array("q", [MISSING if h >= self.prune_below else PRUNED
                                    for h in range(height, self.base)]) + self.body_loc
        self.hashes = [None] * grow + self.hashes
        self.base = height

    def truncate_above(self, height):
        """Drop every height above ``height`` (a revert). Stale hash/tx entries are left in the
        dicts and rejected at lookup, which checks them against the kept records."""
        keep = height + 1 - self.base
        for h in range(height + 1, self.tip + 1):
            self.labels.pop(h, None)
            self.label_loc.pop(h, None)
        del self.header_loc[keep:]
        del self.body_loc[keep:]
        del self.hashes[keep:]
        self.snapshots = [s for s in self.snapshots if s[0] <= height]
        self.tip = height

    def _apply_prune(self, below, loc):
        if self.tip is not None:
            for h in range(max(self.base, self.prune_below), min(below, self.tip + 1)):
                self.body_loc[self.slot(h)] = PRUNED
        self.prune_below = max(self.prune_below, below)
        self.prune_loc = loc
