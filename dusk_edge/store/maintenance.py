"""The slow paths of BlockStore: snapshots, pruning, compaction, full check, repair, statistics.

Kept apart from block_store.py so that the hot path (stage, commit, read) reads on one screen.
Everything here works through the same stage/commit path, so a crash in the middle of any of it
recovers like a crash during an append.
"""
import logging
import os

import cbor2

from dusk_edge.core import accel
from dusk_edge.core.errors import LocalProtocolError
from dusk_edge.core.storage import log_format as lf
from dusk_edge.store import segments as sg
from dusk_edge.store.chain_index import MISSING, PRUNED, pack_loc
from dusk_edge.store.errors import StoreCorruptError, StoreError

LOG = logging.getLogger("dusk_edge.store")
SNAPSHOT_DIR = "snapshots"


class MaintenanceMixin:
    # --- snapshots ---------------------------------------------------------------------------
    def snapshot_due(self, height):
        """True when the board profile's ``snapshot_every`` asks for a snapshot at ``height``."""
        every = self.caps.get("snapshot_every", 2000)
        return height > 0 and height % every == 0

    def write_snapshot(self, height, state_bytes):
        """Store an opaque state snapshot taken at ``height`` (file + committed log record)."""
        self._ensure_open()
        if not self.index.has(height):
            raise LocalProtocolError("no block at height %d to snapshot" % height)
        folder = os.path.join(self.path, SNAPSHOT_DIR)
        os.makedirs(folder, exist_ok=True)
        name = "snap-%012d.bin" % height
        try:
            self.io.write_file(os.path.join(folder, name), bytes(state_bytes))
        except OSError as exc:
            if sg.is_enospc(exc):
                raise sg.full_error("writing a snapshot", exc) from None
            raise
        meta = {"h": height, "file": name, "size": len(state_bytes), "crc": accel.crc32c(state_bytes)}
        self._stage_and_apply([(lf.T_SNAPSHOT, cbor2.dumps(meta))])
        self._write_commit()
        keep = set(m["file"] for _, _, m in self.index.snapshots)
        for stale in os.listdir(folder):
            if stale.endswith(".bin") and stale not in keep:
                os.unlink(os.path.join(folder, stale))

    def latest_snapshot(self):
        """(height, state_bytes) of the newest intact snapshot, or None. A damaged snapshot file
        is reported in ``warnings`` and the next older one is tried."""
        for height, _, meta in reversed(self.index.snapshots):
            try:
                with open(os.path.join(self.path, SNAPSHOT_DIR, meta["file"]), "rb") as f:
                    data = f.read()
            except OSError as exc:
                self.warnings.append("snapshot at height %d unreadable: %s" % (height, exc))
                continue
            if len(data) != meta["size"] or accel.crc32c(data) != meta["crc"]:
                self.warnings.append("snapshot at height %d fails its checksum" % height)
                continue
            return height, data
        return None

    # --- pruning and compaction ----------------------------------------------------------------
    def prune(self, below_height):
        """Drop the bodies of heights below ``below_height`` (headers, attestations and labels
        stay). Opt-in: refused when the board profile says ``prune = false``. Returns how many
        bodies were dropped; their space comes back with `compact()`."""
        self._ensure_open()
        if self.caps and not self.caps.get("prune", False):
            raise StoreError("pruning is off in this board profile (caps.prune = false)")
        index = self.index
        if index.tip is None or below_height <= max(index.prune_below, index.base):
            return 0
        if below_height > index.tip + 1:
            raise LocalProtocolError("cannot prune above the tip (%d)" % index.tip)
        dropped = sum(1 for h in range(max(index.prune_below, index.base), below_height)
                      if index.body_loc[index.slot(h)] != PRUNED)
        self._stage_and_apply([(lf.T_PRUNE, cbor2.dumps({"below": below_height}))])
        self._write_commit()
        return dropped

    def _segment_offsets(self, seg):
        """Offsets of the records of a sealed segment (from its sidecar, else by a scan)."""
        side = sg.read_sidecar(self.path, seg)
        if side is not None:
            return [entry[0] for entry in side[0]]
        image = sg.read_segment(self.io, seg)
        return [o for o, _, _ in lf.scan_segment(memoryview(image), lf.PAGE, 0).records]

    def compact(self, live_ratio=0.5):
        """Remove sealed segments holding little live data: their live records are copied to the
        tail first (one commit), then the files go. Returns a summary dict."""
        self._ensure_open()
        self._write_commit()
        removed = copied = 0
        for seg in list(self.segments[:-1]):
            live = self.index.live_locations()
            keep = [o for o in self._segment_offsets(seg) if pack_loc(seg.number, o) in live]
            if sum(self._record_size(seg, o) for o in keep) > live_ratio * seg.size:
                continue
            try:
                records = [self._copy_of(pack_loc(seg.number, o)) for o in keep]
            except StoreCorruptError as exc:
                LOG.error("store: segment %d not compacted: %s", seg.number, exc)
                continue
            for record in records:
                self._stage_and_apply([record])
            self._write_commit()
            self._drop_segment(seg)
            removed += 1
            copied += len(records)
        return {"segments_removed": removed, "records_copied": copied,
                "segments": len(self.segments)}

    def _record_size(self, seg, offset):
        head = self.io.read(seg.fd, lf.RECORD_HEADER, offset)
        return lf.RECORD_HEADER + int.from_bytes(head[:4], "little")

    def _copy_of(self, loc):
        rtype, payload = self.read_record(loc)
        if rtype != lf.T_HEADER:
            return rtype, bytes(payload)
        height, flags, block_hash, tx_ids, _, header, _ = lf.decode_header_record(payload)
        # the copy lands after any LABEL record of this height: carry the current label
        return rtype, lf.encode_header_record(height, flags | lf.FLAG_REPLACE, block_hash, tx_ids,
                                              self.index.labels.get(height), header)

    def _drop_segment(self, seg):
        seg.close()
        self.segments.remove(seg)
        os.unlink(seg.path)
        try:
            os.unlink(os.path.join(self.path, sg.SIDECAR_NAME % seg.number))
        except OSError:
            pass
        self.io.sync_dir(self.path)

    # --- check and repair ----------------------------------------------------------------------
    def check(self):
        """Read every segment and verify every record; quarantine live records that fail.
        Returns a report dict: ``ok`` false while a height or snapshot is damaged, ``clean``
        false while any damaged bytes remain, ``damaged``/``torn`` regions, ``quarantined``."""
        self._ensure_open()
        self._write_commit()
        verified = set()
        report = {"segments": len(self.segments), "records": 0, "damaged": [], "torn": []}
        for seg in self.segments:
            if seg.header_damaged:
                report["damaged"].append({"segment": seg.number, "offset": 0,
                                          "end": lf.SEGMENT_HEADER})
            result = lf.scan_segment(memoryview(sg.read_segment(self.io, seg)), lf.PAGE, 0)
            report["records"] += len(result.records)
            verified.update(pack_loc(seg.number, o) for o, _, _ in result.records)
            for start, end in result.damaged:
                report["damaged"].append({"segment": seg.number, "offset": start, "end": end})
            if result.torn is not None:
                report["torn"].append({"segment": seg.number, "offset": result.torn[0],
                                       "end": result.torn[1]})
        bad_locs = self._quarantine_unverified(verified)
        report["quarantined"] = sorted(self.quarantine)
        report["bad_records"] = sorted(bad_locs.items())
        report["snapshots_bad"] = self._bad_snapshots()
        # ok: every live height and snapshot is intact (damage may remain in dead records until
        # compaction drops them); clean: nothing damaged at all
        report["ok"] = not (self.quarantine or report["snapshots_bad"])
        report["clean"] = report["ok"] and not (report["damaged"] or report["torn"])
        if bad_locs:
            self.save_quarantine(bad_locs)
        return report

    def _quarantine_unverified(self, verified):
        index = self.index
        bad = {}
        if index.tip is None:
            return bad
        for i in range(len(index.header_loc)):
            for loc in (index.header_loc[i], index.body_loc[i]):
                if loc >= 0 and loc not in verified:
                    bad[index.base + i] = loc
                    self.quarantine[index.base + i] = "record fails its checksum"
                elif loc == MISSING:
                    self.quarantine[index.base + i] = "record lost in a damaged region"
        for height, loc in list(index.label_loc.items()):
            if loc not in verified:
                self.warnings.append("label record of height %d is damaged" % height)
        return bad

    def _bad_snapshots(self):
        bad = []
        for height, _, meta in self.index.snapshots:
            path = os.path.join(self.path, SNAPSHOT_DIR, meta["file"])
            try:
                with open(path, "rb") as f:
                    data = f.read()
                intact = len(data) == meta["size"] and accel.crc32c(data) == meta["crc"]
            except OSError:
                intact = False
            if not intact:
                bad.append(height)
        return bad

    def repair(self, height, header_bytes, body_bytes, block_hash=None, tx_ids=None, label=None):
        """Replace a damaged height with a good copy (from a peer or another store). The hash
        and tx ids default to what the index still knows; a mismatching hash is refused."""
        self._ensure_open()
        index = self.index
        if not index.has(height):
            raise LocalProtocolError("no height %d in this store" % height)
        known = index.hashes[index.slot(height)]
        if block_hash is None:
            block_hash = known
        elif known is not None and bytes(block_hash) != known:
            raise StoreError("repair of height %d: hash %s is not the stored %s"
                             % (height, bytes(block_hash).hex(), known.hex()))
        if block_hash is None or (tx_ids is None and index.header_loc[index.slot(height)] == MISSING):
            raise StoreError("height %d was lost entirely: pass block_hash and tx_ids" % height)
        if tx_ids is None:
            try:
                tx_ids = self._header_fields(height)[3]
            except StoreCorruptError:
                raise StoreError("header of height %d is damaged: pass tx_ids" % height) from None
        self._stage_block(height, lf.FLAG_REPLACE, block_hash, header_bytes, body_bytes, tx_ids,
                          label or index.labels.get(height))
        self._write_commit()
        self.quarantine.pop(height, None)
        self.save_quarantine()

    # --- write accounting ----------------------------------------------------------------------
    def _budget_bytes(self):
        mb = self.caps.get("write_budget_mb_per_day")
        return None if mb is None else mb * 1024 * 1024

    def _estimate_per_day(self):
        if not self.blocks_appended:
            return 0, 0
        per_block = self.io.page_bytes_written / self.blocks_appended
        return per_block, per_block * 86400000 / self.block_time_ms

    def _check_budget(self):
        budget = self._budget_bytes()
        if budget is None or self.budget_warned or self.blocks_appended < 10:
            return
        _, per_day = self._estimate_per_day()
        if per_day > budget:
            self.budget_warned = True
            message = ("store writes an estimated %.0f MB/day, over the board budget of %d MB/day"
                       % (per_day / 1048576, budget // 1048576))
            self.warnings.append(message)
            LOG.warning("store: %s", message)

    def stats(self):
        """Status numbers: sizes, write accounting and its budget, quarantine, warnings."""
        index = self.index
        per_block, per_day = self._estimate_per_day()
        elapsed = max(self.clock() - self.opened_at, 1e-6)
        budget = self._budget_bytes()
        return {
            "tip": index.tip, "base": index.base,
            "blocks": 0 if index.tip is None else index.tip - index.base + 1,
            "segments": len(self.segments), "segment_size": self.segment_size,
            "bytes_in_log": sum(s.end for s in self.segments),
            "bytes_written": self.io.bytes_written,
            "device_bytes_written": self.io.page_bytes_written,
            "syncs": self.io.syncs,
            "blocks_appended": self.blocks_appended,
            "bytes_written_per_block": round(per_block),
            "est_bytes_per_day": round(per_day),
            "observed_bytes_per_day": round(self.io.page_bytes_written * 86400 / elapsed),
            "write_budget_bytes_per_day": budget,
            "write_budget_exceeded": budget is not None and per_day > budget,
            "body_compression_ratio": (round(self.body_bytes_stored / self.body_bytes_in, 3)
                                       if self.body_bytes_in else None),
            "pruned_below": index.prune_below,
            "snapshots": [h for h, _, _ in index.snapshots],
            "quarantined": sorted(self.quarantine),
            "recovery": list(self.recovery),
            "full": self.full,
            "opened_from": self.opened_from,
            "warnings": list(self.warnings),
        }
