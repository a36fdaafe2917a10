"""BlockStore behaviour: queries, reverts, labels, indexes rebuilt, pruning, snapshots, compaction,
format versions, locking, compression and write accounting."""
import os

import cbor2
import pytest

from dusk_edge.boards import load_board
from dusk_edge.core.errors import LocalProtocolError
from dusk_edge.store import (BlockStore, StoreError, StoreFormatError, StoreLockedError)
from dusk_edge.store.segments import SIDECAR_NAME
from tests.store_child import make_block, make_state

SEG = 64 * 1024


def append(store, heights, commit_each=True, label=b"accepted"):
    for h in heights:
        block_hash, header, body, tx_ids = make_block(h)
        store.append_block(h, block_hash, header, body, tx_ids, label=label)
        if commit_each:
            store.commit()
    store.commit()


def assert_block(store, h, pruned=False):
    block_hash, header, body, tx_ids = make_block(h)
    got = store.block_by_height(h)
    assert (got.height, got.block_hash, got.header, got.tx_ids) == (h, block_hash, header, tx_ids)
    assert got.body == (None if pruned else body)
    assert store.block_by_hash(block_hash).height == h
    assert store.header_by_height(h) == header
    for i, tx_id in enumerate(tx_ids):
        assert store.tx_location(tx_id) == (h, i)


@pytest.fixture
def store_dir(tmp_path):
    return str(tmp_path / "store")


def test_blocks_survive_reopen_and_indexes_are_rebuilt(store_dir):
    with BlockStore.open(store_dir, segment_size=SEG) as store:
        assert store.tip() is None and store.block_by_height(0) is None
        append(store, range(150))
        assert len(store.segments) > 3
    # drop every sidecar and the checkpoint: the index must come back from the log alone
    for name in os.listdir(store_dir):
        if name.endswith(".idx") or name == "index.ckpt":
            os.unlink(os.path.join(store_dir, name))
    with BlockStore.open(store_dir) as store:
        assert store.opened_from == "log"
        assert store.tip() == (149, make_block(149)[0])
        for h in range(150):
            assert_block(store, h)
        assert store.block_by_height(150) is None and store.tx_location(b"\x00" * 32) is None
        assert store.block_by_hash(b"\x01" * 32) is None
    assert any(n.endswith(".idx") for n in os.listdir(store_dir))  # sidecars written again


def test_stale_sidecar_is_ignored(store_dir):
    with BlockStore.open(store_dir, segment_size=SEG) as store:
        append(store, range(60))
    # a sidecar from another segment's generation (wrong uid) must not be trusted
    os.replace(os.path.join(store_dir, SIDECAR_NAME % 1), os.path.join(store_dir, SIDECAR_NAME % 0))
    with BlockStore.open(store_dir) as store:
        for h in range(60):
            assert_block(store, h)


def test_uncommitted_blocks_are_readable_but_not_durable(store_dir):
    store = BlockStore.open(store_dir, segment_size=SEG)
    append(store, range(3))
    block_hash, header, body, tx_ids = make_block(3)
    store.append_block(3, block_hash, header, body, tx_ids)
    assert store.block_by_height(3).body == body  # read-your-writes from the staging buffer
    store._release()  # simulate a crash: no commit, no close
    with BlockStore.open(store_dir) as store:
        assert store.tip()[0] == 2


def test_revert_drops_the_heights_above(store_dir):
    with BlockStore.open(store_dir, segment_size=SEG) as store:
        append(store, range(10))
        old_tx = make_block(8)[3]
        new = (b"\xaa" * 32, b"other header", b"other body", [b"\xbb" * 32])
        store.append_block(7, *new)
        store.commit()
        assert store.tip() == (7, b"\xaa" * 32)
        assert store.block_by_height(8) is None and store.block_by_hash(make_block(8)[0]) is None
        assert all(store.tx_location(t) is None for t in old_tx)
        with pytest.raises(LocalProtocolError):
            store.append_block(9, *make_block(9))  # a gap
    with BlockStore.open(store_dir) as store:
        assert store.tip() == (7, b"\xaa" * 32)
        assert store.block_by_height(7).body == b"other body"
        assert store.tx_location(b"\xbb" * 32) == (7, 0)
        assert store.block_by_height(8) is None


def test_labels_are_committed_and_replayed(store_dir):
    with BlockStore.open(store_dir, segment_size=SEG) as store:
        append(store, range(5))
        store.set_label(2, b"final")
        store.commit()
        with pytest.raises(LocalProtocolError):
            store.set_label(99, b"final")
    with BlockStore.open(store_dir) as store:
        assert [store.label(h) for h in range(5)] == [b"accepted"] * 2 + [b"final"] + [b"accepted"] * 2


def test_prune_snapshots_and_compaction_keep_queries_correct(store_dir):
    caps = {"prune": True, "snapshot_every": 50}
    with BlockStore.open(store_dir, board_caps=caps, segment_size=SEG) as store:
        append(store, range(200))
        for h in (50, 100, 150, 200):
            if h < 200:
                assert store.snapshot_due(h)
                store.write_snapshot(h, make_state(h))
        assert store.latest_snapshot() == (150, make_state(150))
        segments_before = len(store.segments)
        assert store.prune(120) == 120
        assert store.prune(100) == 0  # already below the line
        summary = store.compact()
        assert summary["segments_removed"] > 0 and len(store.segments) < segments_before
        for h in range(200):
            assert_block(store, h, pruned=h < 120)
        assert store.latest_snapshot() == (150, make_state(150))
        assert len(os.listdir(os.path.join(store_dir, "snapshots"))) == 3  # oldest deleted
        store.set_label(10, b"final")
        store.commit()
    with BlockStore.open(store_dir, board_caps=caps) as store:
        for h in range(200):
            assert_block(store, h, pruned=h < 120)
        assert store.label(10) == b"final" and store.label(11) == b"accepted"
        assert store.latest_snapshot() == (150, make_state(150))
        assert store.check()["ok"]
        append(store, range(200, 210))
        assert_block(store, 209)


def test_damaged_snapshot_falls_back_to_the_previous_one(store_dir):
    with BlockStore.open(store_dir, segment_size=SEG) as store:
        append(store, range(30))
        store.write_snapshot(10, make_state(10))
        store.write_snapshot(20, make_state(20))
    with open(os.path.join(store_dir, "snapshots", "snap-%012d.bin" % 20), "r+b") as f:
        f.write(b"\xff")
    with BlockStore.open(store_dir) as store:
        assert store.latest_snapshot() == (10, make_state(10))
        assert "snapshot at height 20 fails its checksum" in store.warnings
        assert store.check()["snapshots_bad"] == [20]


def test_pruning_is_opt_in_per_board_profile(store_dir):
    caps = load_board("pi4")["caps"]
    assert caps["prune"] is False
    with BlockStore.open(store_dir, board_caps=caps, segment_size=SEG) as store:
        append(store, range(5))
        with pytest.raises(StoreError, match="pruning is off"):
            store.prune(3)


def test_newer_format_is_refused(store_dir):
    BlockStore.open(store_dir, segment_size=SEG).close()
    with open(os.path.join(store_dir, "store.cbor"), "wb") as f:
        f.write(cbor2.dumps({"format": 2, "segment_size": SEG}))
    with pytest.raises(StoreFormatError, match="format 2"):
        BlockStore.open(store_dir)


def test_newer_segment_format_is_refused(store_dir):
    with BlockStore.open(store_dir, segment_size=SEG) as store:
        append(store, range(3))
    from dusk_edge.core.storage import log_format as lf

    path = os.path.join(store_dir, "seg-00000000.log")
    with open(path, "r+b") as f:
        head = bytearray(f.read(lf.PAGE))
        fmt, number, uid, size = lf.decode_segment_header(head)
        newer = bytearray(lf.encode_segment_header(number, uid, size))
        newer[8] = 9  # format 9, crc recomputed below
        from dusk_edge.core import accel

        newer[26:30] = accel.crc32c(bytes(newer[:26])).to_bytes(4, "little")
        f.seek(0)
        f.write(newer)
    with pytest.raises(StoreFormatError, match="format 9"):
        BlockStore.open(store_dir)


def test_second_opener_is_locked_out(store_dir):
    with BlockStore.open(store_dir, segment_size=SEG):
        with pytest.raises(StoreLockedError):
            BlockStore.open(store_dir)


def test_limits_are_enforced(store_dir):
    with BlockStore.open(store_dir, segment_size=SEG) as store:
        with pytest.raises(StoreError, match="exceed a segment"):
            store.append_block(0, b"h" * 32, b"", os.urandom(SEG), [])
        with pytest.raises(LocalProtocolError):
            store.append_block(0, b"h" * 65, b"", b"", [])
        with pytest.raises(LocalProtocolError):
            store.append_block(0, b"h" * 32, b"", b"", [b"t" * 256])
        with pytest.raises(LocalProtocolError):
            BlockStore.open(store_dir + "2", segment_size=5000)
        assert store.tip() is None


@pytest.mark.parametrize("compress, low, high", [(True, 0.3, 0.35), ("auto", 0.65, 0.7),
                                                  (False, 1.0, 1.0)])
def test_compression_only_when_it_pays(store_dir, compress, low, high):
    with BlockStore.open(store_dir, segment_size=SEG, compress=compress) as store:
        store.append_block(0, b"a" * 32, b"h", bytes(4000), [])
        store.append_block(1, b"b" * 32, b"h", bytes(4000), [])  # "auto": a batch, not compressed
        store.append_block(2, b"c" * 32, b"h", os.urandom(4000), [])  # never pays
        store.commit()
        ratio = store.stats()["body_compression_ratio"]
        assert low <= ratio <= high
        assert store.block_by_height(0).body == bytes(4000)
    with BlockStore.open(store_dir) as store:
        assert store.block_by_height(1).body == bytes(4000)


def test_write_accounting_and_budget_warning(store_dir):
    clock = [0.0]
    caps = {"write_budget_mb_per_day": 1, "prune": False}
    with BlockStore.open(store_dir, board_caps=caps, segment_size=SEG, clock=lambda: clock[0],
                         block_time_ms=1000) as store:
        append(store, range(20))
        clock[0] = 200.0
        stats = store.stats()
        # one commit per block: at least one page per block reaches the disk
        assert stats["bytes_written_per_block"] >= 4096
        assert abs(stats["est_bytes_per_day"] - stats["bytes_written_per_block"] * 86400) <= 86400
        assert stats["write_budget_exceeded"] is True
        assert stats["warnings"] and "over the board budget" in stats["warnings"][0]
    with BlockStore.open(store_dir, board_caps={"write_budget_mb_per_day": 2048}) as store:
        append(store, range(20, 40))
        assert store.stats()["write_budget_exceeded"] is False and not store.warnings


def test_batched_commits_write_fewer_pages(store_dir):
    with BlockStore.open(store_dir + "a", segment_size=1 << 20) as one_by_one:
        append(one_by_one, range(100))
        steady = one_by_one.stats()["device_bytes_written"]
    with BlockStore.open(store_dir + "b", segment_size=1 << 20) as batched:
        for start in range(0, 100, 25):
            append(batched, range(start, start + 25), commit_each=False)
        catch_up = batched.stats()
    assert catch_up["device_bytes_written"] < steady / 2
    assert catch_up["syncs"] < 20


def index_state(store):
    i = store.index
    return (i.base, i.tip, list(i.header_loc), list(i.body_loc), i.hashes, i.labels, i.label_loc,
            i.by_hash, i.by_tx, i.prune_below, i.prune_loc, [list(x) for x in i.snapshots],
            i.last_seq)


def test_clean_close_checkpoint_gives_the_same_index(store_dir):
    caps = {"prune": True}
    with BlockStore.open(store_dir, board_caps=caps, segment_size=SEG,
                         checkpoint_min_blocks=100) as store:
        append(store, range(120))
        store.write_snapshot(100, make_state(100))
        store.prune(50)
        store.set_label(7, b"final")
        store.commit()
    store = BlockStore.open(store_dir, board_caps=caps)
    assert store.opened_from == "checkpoint"
    fast = index_state(store)
    assert not os.path.exists(os.path.join(store_dir, "index.ckpt"))  # taken, not reused
    store._release()  # a crash: no checkpoint written
    with BlockStore.open(store_dir, board_caps=caps, checkpoint_min_blocks=100) as store:
        assert store.opened_from == "log"
        assert index_state(store) == fast
        append(store, range(120, 125))
    with BlockStore.open(store_dir, board_caps=caps) as store:
        assert store.opened_from == "checkpoint"
        for h in range(125):
            assert_block(store, h, pruned=h < 50)


def test_checkpoint_is_ignored_when_the_log_moved_on(store_dir):
    with BlockStore.open(store_dir, segment_size=SEG, checkpoint_min_blocks=0) as store:
        append(store, range(30))
    saved = open(os.path.join(store_dir, "index.ckpt"), "rb").read()
    store = BlockStore.open(store_dir)
    append(store, range(30, 35))
    store._release()  # crash after more commits
    with open(os.path.join(store_dir, "index.ckpt"), "wb") as f:
        f.write(saved)  # an old checkpoint put back
    with BlockStore.open(store_dir) as store:
        assert store.opened_from == "log" and store.tip()[0] == 34
        assert_block(store, 34)


def test_short_chains_write_no_checkpoint(store_dir):
    with BlockStore.open(store_dir, segment_size=SEG, checkpoint_min_blocks=50) as store:
        append(store, range(49))
    assert not os.path.exists(os.path.join(store_dir, "index.ckpt"))
    with BlockStore.open(store_dir, checkpoint_min_blocks=50) as store:
        append(store, range(49, 50))
    assert os.path.exists(os.path.join(store_dir, "index.ckpt"))
