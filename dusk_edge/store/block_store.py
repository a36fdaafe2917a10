"""BlockStore: the chain on flash as an append-only segment log (DESIGN.md §6, docs/storage.md).

Blocks are opaque to the store: (height, hash, header bytes, body bytes, tx ids, label). Appends
and label changes are staged in memory and written by `commit()` as one page-aligned write plus
one fdatasync; during catch-up, commit once per batch. Open replays the log into a ChainIndex,
truncates a torn tail and quarantines damage; appends are refused while a height is quarantined.
"""
import fcntl
import logging
import os
import time
import zlib

import cbor2

from dusk_edge.core.errors import DecodeError, LocalProtocolError
from dusk_edge.core.storage import log_format as lf
from dusk_edge.store import index_checkpoint as ic
from dusk_edge.store import segments as sg
from dusk_edge.store.chain_index import (MISSING, PRUNED, ChainIndex, entry_of, pack_loc,
                                         unpack_loc)
from dusk_edge.store.errors import (StoreCorruptError, StoreError, StoreFormatError,
                                    StoreFullError, StoreLockedError, StoreQuarantinedError)
from dusk_edge.store.maintenance import MaintenanceMixin

LOG = logging.getLogger("dusk_edge.store")
DEFAULT_SEGMENT_SIZE = 16 * 1024 * 1024
MIN_SEGMENT_SIZE = 4 * lf.PAGE
META_NAME = "store.cbor"
QUARANTINE_NAME = "quarantine.cbor"
COMMIT_OVERHEAD = lf.COMMIT_SIZE + lf.PAGE + lf.RECORD_HEADER  # commit record + worst pad
BLOCK_TIME_MS = 10000
DEFLATE_WBITS = 12
CHECKPOINT_MIN_BLOCKS = 20000


class StoredBlock:
    """A block read back: ``body`` is None once pruned."""

    __slots__ = ("height", "block_hash", "header", "body", "tx_ids", "label")

    def __init__(self, height, block_hash, header, body, tx_ids, label):
        self.height = height
        self.block_hash = block_hash
        self.header = header
        self.body = body
        self.tx_ids = tx_ids
        self.label = label

    def __repr__(self):
        return "StoredBlock(height=%d, hash=%s, body=%s)" % (
            self.height, self.block_hash.hex()[:16], "pruned" if self.body is None else len(self.body))


class BlockStore(MaintenanceMixin):
    def __init__(self, path, io, caps, compress, clock, block_time_ms,
                 checkpoint_min_blocks=CHECKPOINT_MIN_BLOCKS):
        self.path = path
        self.io = io
        self.caps = caps or {}
        self.compress = compress
        self.clock = clock
        self.block_time_ms = block_time_ms
        self.index = ChainIndex()
        self.segments = []
        self.segment_size = DEFAULT_SEGMENT_SIZE
        self.pending = []
        self.pending_len = 0
        self.active_entries = []   # replay entries of the active segment (its future sidecar)
        self.quarantine = {}       # height -> reason
        self.recovery = []         # what open found: torn tails, damaged regions
        self.full = False
        self.closed = False
        self.blocks_appended = 0
        self.body_bytes_in = 0
        self.body_bytes_stored = 0
        self.opened_at = clock()
        self.budget_warned = False
        self.warnings = []
        self.checkpoint_min_blocks = checkpoint_min_blocks
        self.opened_from = "log"   # or "checkpoint": the index saved at the last clean close
        self._lock_fd = None

    # --- opening ---------------------------------------------------------------------------
    @classmethod
    def open(cls, path, board_caps=None, segment_size=DEFAULT_SEGMENT_SIZE, compress="auto",
             io=None, clock=time.monotonic, block_time_ms=BLOCK_TIME_MS,
             checkpoint_min_blocks=CHECKPOINT_MIN_BLOCKS):
        """Open (creating if needed) the store in directory ``path``.

        ``board_caps``: the ``caps`` table of a board profile (write budget, prune). ``compress``:
        True/False, or "auto" (only blocks committed one by one); a body is stored deflated
        (level 1) only when that saves at least 1/8. ``checkpoint_min_blocks``: a clean close
        saves the index (~100 bytes per block) only for chains at least this long; shorter ones
        replay from the log in well under a second, which is cheaper than the bytes. Raises StoreFormatError for a
        newer on-disk format, StoreLockedError when another process has it open."""
        store = cls(path, io or sg.FileIO(), board_caps, compress, clock, block_time_ms,
                    checkpoint_min_blocks)
        os.makedirs(path, exist_ok=True)
        store._lock()
        try:
            store._load_meta(segment_size)
            store._replay_segments()
            store._load_quarantine()
        except BaseException:
            store._release()
            raise
        return store

    def _lock(self):
        self._lock_fd = os.open(os.path.join(self.path, "LOCK"), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(self._lock_fd)
            self._lock_fd = None
            raise StoreLockedError("store %s is open in another process" % self.path) from None

    def _release(self):
        for seg in self.segments:
            seg.close()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def _load_meta(self, segment_size):
        meta_path = os.path.join(self.path, META_NAME)
        if os.path.exists(meta_path):
            with open(meta_path, "rb") as f:
                try:
                    meta = cbor2.loads(f.read())
                except (ValueError, cbor2.CBORDecodeError):
                    raise StoreError("%s is not readable CBOR" % meta_path) from None
            if not isinstance(meta, dict) or not isinstance(meta.get("format"), int):
                raise StoreError("%s lacks a format version" % meta_path)
            if meta["format"] > lf.FORMAT_VERSION:
                raise StoreFormatError(
                    "store %s has on-disk format %d; this dusk-edge reads format %d and refuses to "
                    "open it (upgrade dusk-edge)" % (self.path, meta["format"], lf.FORMAT_VERSION))
            self.segment_size = meta["segment_size"]
            return
        if segment_size < MIN_SEGMENT_SIZE or segment_size % lf.PAGE or segment_size >= 1 << 32:
            raise LocalProtocolError("segment_size must be a multiple of %d in [%d, 4 GiB)"
                                     % (lf.PAGE, MIN_SEGMENT_SIZE))
        self.segment_size = segment_size
        try:
            self.io.write_file(meta_path, cbor2.dumps({"format": lf.FORMAT_VERSION,
                                                       "segment_size": segment_size}))
        except OSError as exc:
            if sg.is_enospc(exc):
                raise sg.full_error("creating the store", exc) from None
            raise

    def _replay_segments(self):
        for name in os.listdir(self.path):
            if name.endswith(".tmp"):
                os.unlink(os.path.join(self.path, name))
        numbers = sg.list_segment_numbers(self.path)
        doc = ic.take_checkpoint(self.path)
        if doc is not None and numbers and self._open_from_checkpoint(doc, numbers):
            self.opened_from = "checkpoint"
            return
        for i, number in enumerate(numbers):
            seg = sg.open_segment(self.io, self.path, number)
            self.segments.append(seg)
            last = i == len(numbers) - 1
            if seg.header_damaged:
                self._recover_segment_header(seg, last)
            side = None if last or seg.uid is None else sg.read_sidecar(self.path, seg)
            if side is not None:
                entries, head = side
                seg.end = head["end"]
                seg.sealed = True
                self.index.replay_entries(entries, number)
                self.index.apply_commit(head["seq"], head["tip"])
                continue
            self._scan_and_replay(seg, last)
        if not self.segments:
            self.segments.append(sg.create_segment(self.io, self.path, 0, self.segment_size,
                                                   os.urandom(8)))

    def _open_from_checkpoint(self, doc, numbers):
        """Take the index saved at the last clean close, if the log is exactly as it was then."""
        segs = []
        try:
            if [entry[0] for entry in doc["segments"]] != numbers:
                return False
            for number, uid, end in doc["segments"]:
                seg = sg.open_segment(self.io, self.path, number)
                segs.append(seg)
                if seg.header_damaged or seg.uid != uid:
                    raise ValueError("segment changed")
                seg.end, seg.sealed = end, True
            active = segs[-1]
            active.sealed = False
            if active.end + lf.PAGE <= active.size and any(
                    self.io.read(active.fd, lf.PAGE, active.end)):
                raise ValueError("bytes past the recorded end of the active segment")
            index = ic.index_from_checkpoint(doc)
            entries = doc["active_entries"]
            if index is None:
                raise ValueError("inconsistent checkpoint")
        except (StoreError, KeyError, TypeError, ValueError) as exc:
            LOG.info("store: index checkpoint not used (%s); replaying the log", exc)
            for seg in segs:
                seg.close()
            return False
        self.segments, self.index, self.active_entries = segs, index, entries
        return True

    def _recover_segment_header(self, seg, last):
        self.recovery.append({"kind": "segment_header_damaged", "segment": seg.number,
                              "offset": 0, "end": lf.SEGMENT_HEADER})
        LOG.error("store: header of segment %d is damaged; scanning its records", seg.number)
        if seg.size < MIN_SEGMENT_SIZE or seg.size % lf.PAGE:
            seg.size = self.segment_size
        if last:  # it will be written again: give it a fresh, valid header
            seg.uid = os.urandom(8)
            self.io.write(seg.fd, lf.encode_segment_header(seg.number, seg.uid, seg.size), 0)
            self.io.sync(seg.fd)

    def _scan_and_replay(self, seg, last):
        image = sg.read_segment(self.io, seg)
        result = lf.scan_segment(memoryview(image), lf.PAGE, self.index.last_seq)
        seg.end = result.end
        entries = [e for e in (entry_of(t, p, o) for o, t, p in result.records) if e is not None]
        self.index.replay_entries(entries, seg.number)
        for start, end in result.damaged:
            self.recovery.append({"kind": "damaged", "segment": seg.number, "offset": start,
                                  "end": end, "heights_near": self._heights_near(result, start)})
        if result.torn is not None:
            start, end = result.torn
            self.recovery.append({"kind": "torn_tail", "segment": seg.number, "offset": start,
                                  "end": end, "bytes": end - start})
            if last:  # zero it so that no stale bytes outlive the next, shorter commit
                self.io.write(seg.fd, bytes(end - start), start)
                self.io.sync(seg.fd)
        if last:
            self.active_entries = entries
        else:
            seg.sealed = True
            self._write_sidecar_quietly(seg, entries)
        if result.damaged:
            LOG.error("store: damaged records quarantined in segment %d: %s", seg.number,
                      result.damaged)

    @staticmethod
    def _heights_near(result, offset):
        """Heights of the good HEADER records right before and after a damaged offset."""
        before = after = None
        for off, rtype, payload in result.records:
            if rtype != lf.T_HEADER:
                continue
            height = lf.decode_header_record(payload)[0]
            if off < offset:
                before = height
            elif after is None:
                after = height
        return [before, after]

    def _write_sidecar_quietly(self, seg, entries):
        try:
            sg.write_sidecar(self.io, self.path, seg, entries, self.index.last_seq, self.index.tip)
        except OSError as exc:  # a cache: the next open rebuilds it by scanning
            LOG.warning("store: could not write the sidecar of segment %d: %s", seg.number, exc)

    def _load_quarantine(self):
        for height in self.index.missing_heights():
            self.quarantine[height] = "record lost in a damaged region"
        path = os.path.join(self.path, QUARANTINE_NAME)
        if not os.path.exists(path):
            return
        with open(path, "rb") as f:
            try:
                saved = cbor2.loads(f.read())
            except (ValueError, cbor2.CBORDecodeError):
                saved = {}
        for height, entry in saved.items():
            # still quarantined only while the same bad record is the live one
            if self.index.has(height) and entry[1] in (self.index.header_loc[self.index.slot(height)],
                                                     self.index.body_loc[self.index.slot(height)]):
                self.quarantine[height] = entry[0]

    def save_quarantine(self, bad_locs=None):
        saved = {}
        for height, reason in self.quarantine.items():
            loc = (bad_locs or {}).get(height, MISSING)
            saved[height] = [reason, loc]
        try:
            self.io.write_file(os.path.join(self.path, QUARANTINE_NAME), cbor2.dumps(saved))
        except OSError as exc:
            LOG.warning("store: could not persist the quarantine list: %s", exc)

    # --- writing -----------------------------------------------------------------------------
    @property
    def active(self):
        return self.segments[-1]

    def _ensure_open(self):
        if self.closed:
            raise LocalProtocolError("store is closed")

    def append_block(self, height, block_hash, header_bytes, body_bytes, tx_ids=(), label=None):
        """Stage a block (durable at the next `commit()`). A height at or below the tip is a
        revert: the heights above it are dropped. Raises StoreQuarantinedError while a damaged
        height awaits repair, StoreFullError while the disk is full, LocalProtocolError for a
        height gap."""
        self._ensure_open()
        if self.quarantine:
            raise StoreQuarantinedError("store refuses new blocks: heights %s are damaged; run "
                                        "`dusk-edge store repair`" % sorted(self.quarantine)[:10])
        if self.full:
            self.commit()  # probe: raises StoreFullError again while the disk is still full
        index = self.index
        if index.tip is not None and not index.base <= height <= index.tip + 1:
            raise LocalProtocolError("height %d does not follow the tip %d (base %d)"
                                     % (height, index.tip, index.base))
        self._stage_block(height, 0, block_hash, header_bytes, body_bytes, tx_ids, label)
        self.blocks_appended += 1

    def _stage_block(self, height, flags, block_hash, header_bytes, body_bytes, tx_ids, label):
        body_flags, stored = 0, bytes(body_bytes)
        # "auto": compress while each commit carries one block (steady state: fsync-bound, so the
        # CPU is free and the bytes saved are wear saved); skip inside catch-up batches, which are
        # CPU-bound (bench_storage measures both)
        wanted = self.compress is True or (self.compress == "auto" and not self.pending)
        if wanted and len(stored) >= 256:
            # deflate level 1 with a 4 KiB window: blocks are small, and the default 32 KiB
            # window costs more to set up per call than it saves (measured in bench_storage)
            packer = zlib.compressobj(1, zlib.DEFLATED, -DEFLATE_WBITS, 4)
            packed = packer.compress(stored) + packer.flush()
            if len(packed) * 8 <= len(stored) * 7:
                body_flags, stored = lf.FLAG_ZLIB, packed
        block_hash = bytes(block_hash)
        tx_ids = [bytes(t) for t in tx_ids]
        header = lf.encode_header_record(height, flags, block_hash, tx_ids, label, header_bytes)
        body = lf.encode_body_record(height, body_flags, stored)
        header_loc, body_loc = self._stage([
            (lf.T_HEADER, header, [lf.T_HEADER, height, flags, block_hash, label, tx_ids]),
            (lf.T_BODY, body, [lf.T_BODY, height])])
        self.body_bytes_in += len(body_bytes)
        self.body_bytes_stored += len(stored)
        self.index.add_header(height, flags, block_hash, tx_ids, label, header_loc)
        self.index.add_body(height, body_loc)

    def set_label(self, height, label):
        """Stage a label change (e.g. Attested -> Final) for a stored height."""
        self._ensure_open()
        if not self.index.has(height):
            raise LocalProtocolError("no block at height %d" % height)
        self._stage_and_apply([(lf.T_LABEL, cbor2.dumps([height, bytes(label)]))])

    def _stage_and_apply(self, records):
        """Stage small records and index them by replaying their payloads."""
        entries = [entry_of(t, p, 0) for t, p in records]
        locs = self._stage([(t, p, e[1:]) for (t, p), e in zip(records, entries)])
        for entry, loc in zip(entries, locs):
            entry[0] = loc & 0xFFFFFFFF
            self.index.apply_entry(entry, loc >> 32)

    def _stage(self, records):
        """Stage (type, payload, entry without its offset) records in one segment; returns their
        locations. A full segment is committed and sealed first (an extra commit point)."""
        encoded = [lf.encode_record(t, p) for t, p, _ in records]
        size = sum(len(e) for e in encoded)
        if size + COMMIT_OVERHEAD > self.segment_size - lf.PAGE:
            raise StoreError("records of %d bytes exceed a segment (%d bytes)" % (size, self.segment_size))
        seg = self.active
        if seg.end + self.pending_len + size + COMMIT_OVERHEAD > seg.size:
            self._write_commit()
            try:
                self._roll_segment()
            except StoreFullError:
                self.full = True
                raise
            seg = self.active
        locs = []
        for (_, _, entry), enc in zip(records, encoded):
            offset = seg.end + self.pending_len
            self.pending.append(enc)
            self.pending_len += len(enc)
            self.active_entries.append([offset] + entry)
            locs.append(pack_loc(seg.number, offset))
        return locs

    def _roll_segment(self):
        seg = self.active
        number = seg.number + 1
        new = sg.create_segment(self.io, self.path, number, self.segment_size, os.urandom(8))
        seg.sealed = True
        self._write_sidecar_quietly(seg, self.active_entries)
        self.segments.append(new)
        self.active_entries = []

    def commit(self):
        """Make everything staged durable: one write, one fdatasync. Raises StoreFullError (the
        staged records stay staged; call again once space returns)."""
        self._ensure_open()
        self._write_commit()

    def _write_commit(self):
        if not self.pending:
            self.full = False
            return
        seg = self.active
        data = b"".join(self.pending)
        seq = self.index.last_seq + 1
        commit = lf.encode_commit(seq, seg.end, self.index.tip)
        blob = data + lf.pad_record_for(len(data)) + lf.encode_record(lf.T_COMMIT, commit)
        try:
            self.io.write(seg.fd, blob, seg.end)
            self.io.sync(seg.fd)
        except OSError as exc:
            if sg.is_enospc(exc):
                self.full = True
                raise sg.full_error("committing %d bytes" % len(blob), exc) from None
            raise StoreError("writing segment %d failed: %s" % (seg.number, exc)) from None
        self.active_entries.append([seg.end + len(blob) - lf.COMMIT_SIZE, lf.T_COMMIT, seq,
                                    self.index.tip])
        seg.end += len(blob)
        self.index.last_seq = seq
        self.pending = []
        self.pending_len = 0
        self.full = False
        self._check_budget()

    # --- reading -----------------------------------------------------------------------------
    def read_record(self, loc):
        """(type, payload) of the record at ``loc``; raises StoreCorruptError on a bad checksum."""
        number, offset = unpack_loc(loc)
        seg = self._segment(number)
        if seg is self.active and offset >= seg.end:
            data = b"".join(self.pending)
            rel = offset - seg.end
        else:
            head = self.io.read(seg.fd, lf.RECORD_HEADER, offset)
            length = int.from_bytes(head[:4], "little") if len(head) == lf.RECORD_HEADER else 0
            length = min(length, seg.size - offset - lf.RECORD_HEADER)
            data = head + self.io.read(seg.fd, length, offset + lf.RECORD_HEADER)
            rel = 0
        try:
            rtype, payload, _ = lf.decode_record(data, rel)
        except DecodeError as exc:
            raise StoreCorruptError("segment %d offset %d: %s" % (number, offset, exc)) from None
        return rtype, payload

    def _segment(self, number):
        for seg in self.segments:
            if seg.number == number:
                return seg
        raise StoreError("segment %d is gone" % number)

    def _read_checked(self, height, loc, rtype):
        try:
            found, payload = self.read_record(loc)
            if found != rtype:
                raise StoreCorruptError("record at %s is type %d, not %d" % (unpack_loc(loc), found, rtype))
            return payload
        except StoreCorruptError as exc:
            self.quarantine[height] = str(exc)
            self.save_quarantine({height: loc})
            LOG.error("store: height %d quarantined: %s", height, exc)
            raise StoreCorruptError("height %d is damaged (%s); repair it from a good copy"
                                    % (height, exc)) from None

    def _header_fields(self, height):
        index = self.index
        if not index.has(height):
            return None
        loc = index.header_loc[index.slot(height)]
        if loc == MISSING:
            raise StoreCorruptError("height %d was lost in a damaged region; repair it" % height)
        return lf.decode_header_record(self._read_checked(height, loc, lf.T_HEADER))

    def header_by_height(self, height):
        fields = self._header_fields(height)
        return None if fields is None else fields[5]

    def block_by_height(self, height):
        """The StoredBlock at ``height`` or None. Raises StoreCorruptError for a damaged one."""
        fields = self._header_fields(height)
        if fields is None:
            return None
        _, _, block_hash, tx_ids, _, header, _ = fields
        loc = self.index.body_loc[self.index.slot(height)]
        body = None
        if loc == MISSING:
            raise StoreCorruptError("body of height %d was lost in a damaged region" % height)
        if loc != PRUNED:
            _, flags, body = lf.decode_body_record(self._read_checked(height, loc, lf.T_BODY))
            if flags & lf.FLAG_ZLIB:
                try:
                    body = zlib.decompress(body, -DEFLATE_WBITS)
                except zlib.error as exc:
                    raise StoreCorruptError("body of height %d: %s" % (height, exc)) from None
        return StoredBlock(height, block_hash, header, body, tx_ids, self.index.labels.get(height))

    def block_by_hash(self, block_hash):
        height = self.height_of(block_hash)
        return None if height is None else self.block_by_height(height)

    def height_of(self, block_hash):
        height = self.index.by_hash.get(bytes(block_hash))
        if height is None or not self.index.has(height):
            return None
        return height if self.index.hashes[self.index.slot(height)] == block_hash else None

    def tx_location(self, tx_id):
        """(height, position in the block's tx ids) or None; checked against the stored header
        so that entries left over from a revert are never returned."""
        packed = self.index.by_tx.get(bytes(tx_id))
        if packed is None:
            return None
        height, position = packed >> 16, packed & 0xFFFF
        fields = self._header_fields(height)
        if fields is None or position >= len(fields[3]) or fields[3][position] != tx_id:
            return None
        return height, position

    def label(self, height):
        return self.index.labels.get(height)

    def tip(self):
        """(height, block_hash) of the highest stored block, or None when empty."""
        index = self.index
        if index.tip is None:
            return None
        return index.tip, index.hashes[index.slot(index.tip)]

    def close(self):
        """Commit what is staged and release the files. Safe to call twice."""
        if self.closed:
            return
        try:
            if self.pending:
                self._write_commit()
            blocks = 0 if self.index.tip is None else self.index.tip - self.index.base + 1
            if not self.quarantine and blocks >= self.checkpoint_min_blocks:
                ic.write_checkpoint(self.io, self.path, self.index, self.segments,
                                    self.active_entries)
        except OSError as exc:  # the checkpoint is a shortcut; the log is the truth
            LOG.warning("store: index checkpoint not written: %s", exc)
        finally:
            self.closed = True
            self._release()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def store_path(data_dir):
    """Where a node keeps its store inside its data directory."""
    return os.path.join(data_dir, "store")


__all__ = ["BlockStore", "StoredBlock", "StoreError", "StoreFullError", "StoreFormatError",
           "StoreCorruptError", "StoreQuarantinedError", "StoreLockedError", "store_path"]
