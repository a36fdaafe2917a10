"""Torn writes and bit flips injected at random offsets: each is detected and reported (a torn
tail truncated, damage in the middle quarantined by height/offset), appends are refused on top of
a damaged height, and `repair` from a good copy clears it."""
import os
import random
import shutil

import pytest

from dusk_edge.core.storage import log_format as lf
from dusk_edge.store import (BlockStore, StoreCorruptError, StoreQuarantinedError)
from dusk_edge.store.chain_index import unpack_loc
from dusk_edge.store.segments import SEGMENT_NAME, SIDECAR_NAME, FileIO
from tests.store_child import make_block

SEG = 64 * 1024


class SimulatedCrash(Exception):
    pass


class TornIO(FileIO):
    """Writes only part of the next commit: ``keep(blob) -> bytes actually on disk``."""

    def __init__(self, keep):
        super().__init__()
        self.keep = keep

    def write(self, fd, data, offset):
        if len(data) >= lf.PAGE and self.keep is not None:  # a commit, not a header page
            super().write(fd, self.keep(bytes(data)), offset)
            raise SimulatedCrash()
        super().write(fd, data, offset)


def append(store, heights):
    for h in heights:
        store.append_block(h, *make_block(h), label=b"accepted")
        store.commit()


def assert_intact(store, heights):
    for h in heights:
        block_hash, header, body, tx_ids = make_block(h)
        got = store.block_by_height(h)
        assert (got.block_hash, got.header, got.body, got.tx_ids) == (block_hash, header, body, tx_ids)


@pytest.fixture(scope="module")
def golden(tmp_path_factory):
    """A closed store with 90 blocks over several segments (sidecars for the sealed ones)."""
    path = str(tmp_path_factory.mktemp("golden") / "store")
    with BlockStore.open(path, segment_size=SEG, checkpoint_min_blocks=0) as store:
        append(store, range(90))
        store.set_label(5, b"final")
        store.commit()
    return path


def copy_of(golden, tmp_path, name="store"):
    target = str(tmp_path / name)
    shutil.copytree(golden, target)
    os.unlink(os.path.join(target, "LOCK"))
    return target


def torn_cuts(rng):
    """Ways a commit reaches the disk only in part: prefixes, and pages lost out of order. Each
    loses at least one non-zero byte (losing only zeros would leave the commit whole)."""
    def prefix(n):
        return lambda blob: blob[:min(n, len(blob.rstrip(b"\x00")) - 1)]

    def lose_page(i):
        def keep(blob):
            pages = [p for p in range(len(blob) // lf.PAGE)
                     if blob[p * lf.PAGE:(p + 1) * lf.PAGE] != bytes(lf.PAGE)]
            page = pages[i % len(pages)]
            out = bytearray(blob)
            out[page * lf.PAGE:(page + 1) * lf.PAGE] = bytes(lf.PAGE)
            return bytes(out)
        return keep

    cuts = [prefix(n) for n in (1, 8, 9, 10, 100, lf.PAGE - 1, lf.PAGE, lf.PAGE + 1)]
    cuts += [prefix(rng.randrange(1, 3 * lf.PAGE)) for _ in range(12)]
    cuts += [lose_page(rng.randrange(0, 8)) for _ in range(8)]
    return cuts


def test_torn_commits_are_truncated_and_reported(golden, tmp_path):
    rng = random.Random(11)
    for n, keep in enumerate(torn_cuts(rng)):
        path = copy_of(golden, tmp_path, "torn%d" % n)
        store = BlockStore.open(path, io=TornIO(keep))
        end_before = (store.active.number, store.active.end)
        for h in range(90, 93):  # a three-block commit of incompressible bodies, 3 pages
            store.append_block(h, b"%032d" % h, b"header", rng.randbytes(3000), [b"%032d" % -h])
        with pytest.raises(SimulatedCrash):
            store.commit()
        store._release()
        with BlockStore.open(path) as store:
            assert store.tip()[0] == 89 and not store.quarantine
            torn = [r for r in store.recovery if r["kind"] == "torn_tail"]
            assert len(torn) == 1 and (torn[0]["segment"], torn[0]["offset"]) == end_before
            assert_intact(store, range(80, 90))
            append(store, range(90, 92))  # writes again over the truncated tail
        with BlockStore.open(path) as store:
            assert store.tip()[0] == 91 and store.recovery == []
            assert_intact(store, range(85, 92))


def record_spans(path):
    """(segment, start, end, height-or-None) of every record in every segment of a store."""
    spans = []
    for name in sorted(os.listdir(path)):
        if not name.endswith(".log"):
            continue
        with open(os.path.join(path, name), "rb") as f:
            image = f.read()
        for off, rtype, payload in lf.scan_segment(image).records:
            n = int.from_bytes(image[off:off + 4], "little") + lf.RECORD_HEADER
            height = None
            if rtype in (lf.T_HEADER, lf.T_BODY):
                height = int.from_bytes(payload[:8], "little")
            spans.append((int(name[4:12]), off, off + n, height, rtype))
    return spans


def flip_bit(path, segment, offset, bit):
    with open(os.path.join(path, SEGMENT_NAME % segment), "r+b") as f:
        f.seek(offset)
        byte = f.read(1)[0]
        f.seek(offset)
        f.write(bytes((byte ^ (1 << bit),)))


def covered(report_regions, segment, offset):
    return any(r["segment"] == segment and r["offset"] <= offset < r["end"] for r in report_regions)


def test_bit_flips_at_random_offsets_are_detected_and_reported(golden, tmp_path):
    rng = random.Random(5)
    spans = record_spans(golden)
    for n in range(40):
        seg, start, end, height, rtype = rng.choice(spans)
        offset = rng.randrange(start, end)
        path = copy_of(golden, tmp_path, "flip%d" % n)
        flip_bit(path, seg, offset, rng.randrange(8))
        with BlockStore.open(path) as store:
            report = store.check()
            found = (covered(report["damaged"], seg, offset) or covered(report["torn"], seg, offset)
                     or covered(store.recovery, seg, offset)
                     or any(unpack_loc(loc)[0] == seg and unpack_loc(loc)[1] == start
                            for _, loc in report["bad_records"]))
            assert found, "flip at segment %d offset %d (type %d) went unreported" % (seg, offset, rtype)
            lost_tail = any(r["kind"] == "torn_tail" for r in store.recovery)
            if height is not None and not lost_tail:
                assert height in store.quarantine  # the damaged height is named
                with pytest.raises(StoreQuarantinedError):
                    store.append_block(90, *make_block(90))
                with pytest.raises(StoreCorruptError):
                    store.block_by_height(height)


def test_repair_from_a_good_copy_clears_the_quarantine(golden, tmp_path):
    path = copy_of(golden, tmp_path)
    spans = [s for s in record_spans(golden) if s[4] == lf.T_BODY and s[0] == 0]
    seg, start, end, height, _ = spans[3]
    flip_bit(path, seg, start + 20, 3)
    with BlockStore.open(path) as store:
        assert store.block_by_height(height - 1) is not None
        with pytest.raises(StoreCorruptError, match="height %d" % height):
            store.block_by_height(height)
        assert height in store.quarantine
    with BlockStore.open(path) as store:  # the quarantine persists across a restart
        assert list(store.quarantine) == [height]
        with pytest.raises(StoreQuarantinedError):
            store.append_block(90, *make_block(90))
        block_hash, header, body, tx_ids = make_block(height)
        store.repair(height, header, body)
        assert not store.quarantine
        assert_intact(store, [height])
        append(store, range(90, 95))
    with BlockStore.open(path) as store:
        assert not store.quarantine and store.tip()[0] == 94
        assert_intact(store, range(95))
        report = store.check()
        assert report["ok"] and report["damaged"]  # the dead bad record is still reported
        store.compact(live_ratio=1.0)
        assert store.check()["damaged"] == []
        assert_intact(store, range(95))


def test_damage_in_the_active_segment_is_found_at_open(golden, tmp_path):
    path = copy_of(golden, tmp_path)
    spans = [s for s in record_spans(golden) if s[4] == lf.T_BODY]
    last_seg = spans[-1][0]
    seg, start, end, height, _ = [s for s in spans if s[0] == last_seg][-3]
    flip_bit(path, seg, start + 12, 0)
    store = BlockStore.open(path)
    # after a clean close the saved index is used and segments are not rescanned: the damage is
    # found by a read or by check()
    assert store.opened_from == "checkpoint"
    report = store.check()
    assert not report["ok"] and report["quarantined"] == [height]
    assert [(d["segment"], d["offset"]) for d in report["damaged"]] == [(seg, start)]
    store._release()  # then a crash: the next open replays and scans the active segment
    with BlockStore.open(path) as store:
        damaged = [r for r in store.recovery if r["kind"] == "damaged"]
        assert len(damaged) == 1 and damaged[0]["offset"] == start
        assert list(store.quarantine) == [height] and store.tip()[0] == 89
        store.repair(height, *make_block(height)[1:3])
        assert_intact(store, range(80, 90))


def test_bad_sidecar_is_rebuilt(golden, tmp_path):
    path = copy_of(golden, tmp_path)
    side = os.path.join(path, SIDECAR_NAME % 1)
    with open(side, "r+b") as f:
        f.seek(40)
        f.write(b"\xee")
    with BlockStore.open(path) as store:
        assert_intact(store, range(90))
        assert store.label(5) == b"final"


def test_damaged_segment_headers_are_reported_and_survived(golden, tmp_path):
    path = copy_of(golden, tmp_path)
    last = max(int(n[4:12]) for n in os.listdir(path) if n.endswith(".log"))
    flip_bit(path, 0, 12, 1)     # a sealed segment
    flip_bit(path, last, 20, 5)  # the active one
    with BlockStore.open(path) as store:
        kinds = [(r["kind"], r["segment"]) for r in store.recovery]
        assert ("segment_header_damaged", 0) in kinds and ("segment_header_damaged", last) in kinds
        assert_intact(store, range(90))
        report = store.check()
        assert report["ok"] and {"segment": 0, "offset": 0, "end": lf.SEGMENT_HEADER} in report["damaged"]
        append(store, range(90, 93))
    with BlockStore.open(path) as store:  # the active segment got a fresh header
        assert [(r["kind"], r["segment"]) for r in store.recovery] == [("segment_header_damaged", 0)]
        assert_intact(store, range(93))
