"""Disk full: the store raises StoreFullError, loses nothing committed, keeps what was staged, and
accepts blocks again once space returns. Once with an injected write function, once with a real
tiny tmpfs (this machine runs tests as root; skipped only where mount is not permitted)."""
import errno
import os
import subprocess

import pytest

from dusk_edge.store import BlockStore, StoreFullError
from dusk_edge.store.segments import FileIO
from tests.store_child import make_block

SEG = 64 * 1024


class FullDiskIO(FileIO):
    """Writes half of what it is given, then fails with ENOSPC, while ``full`` is set."""

    def __init__(self):
        super().__init__()
        self.full = False

    def write(self, fd, data, offset):
        if self.full:
            super().write(fd, bytes(data)[:len(data) // 2], offset)
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        super().write(fd, data, offset)

    def allocate(self, fd, size):
        if self.full:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        super().allocate(fd, size)


def append(store, heights):
    for h in heights:
        store.append_block(h, *make_block(h), label=b"accepted")
        store.commit()


def assert_intact(store, heights):
    for h in heights:
        got = store.block_by_height(h)
        assert got is not None, "height %d lost" % h
        assert (got.block_hash, got.header, got.body) == make_block(h)[:3]


def test_enospc_on_commit_keeps_committed_and_staged_blocks(tmp_path):
    path = str(tmp_path / "store")
    io = FullDiskIO()
    store = BlockStore.open(path, segment_size=SEG, io=io)
    append(store, range(10))
    io.full = True
    store.append_block(10, *make_block(10))
    with pytest.raises(StoreFullError, match="disk full"):
        store.commit()
    assert store.stats()["full"] is True
    with pytest.raises(StoreFullError):  # not accepted while full
        store.append_block(11, *make_block(11))
    assert store.tip()[0] == 10  # staged, readable, not durable
    io.full = False
    append(store, range(11, 13))  # the probe commits block 10 first
    store.close()
    with BlockStore.open(path) as store:
        assert store.tip()[0] == 12 and not store.recovery
        assert_intact(store, range(13))


def test_enospc_then_crash_loses_nothing_committed(tmp_path):
    path = str(tmp_path / "store")
    io = FullDiskIO()
    store = BlockStore.open(path, segment_size=SEG, io=io)
    append(store, range(10))
    io.full = True
    store.append_block(10, *make_block(10))
    with pytest.raises(StoreFullError):
        store.commit()
    store._release()  # the node dies while the disk is full
    with BlockStore.open(path) as store:
        assert store.tip()[0] == 9
        assert [r["kind"] for r in store.recovery] == ["torn_tail"]  # the half write, dropped
        assert_intact(store, range(10))
        append(store, range(10, 12))


def test_enospc_when_a_new_segment_is_needed(tmp_path):
    path = str(tmp_path / "store")
    io = FullDiskIO()
    store = BlockStore.open(path, segment_size=SEG, io=io)
    h = 0
    while len(store.segments) == 1:
        append(store, [h])
        h += 1
    io.full = True
    refused = 0
    for _ in range(40):  # fill the segment until the next block needs a new one
        try:
            append(store, [h])
            h += 1
        except StoreFullError:
            refused += 1
            break
    assert refused == 1 and store.stats()["full"]
    io.full = False
    append(store, range(h, h + 5))
    store.close()
    with BlockStore.open(path) as store:
        assert store.tip()[0] == h + 4
        assert_intact(store, range(h + 5))


@pytest.fixture
def tiny_tmpfs(tmp_path):
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(mount_point)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip("mounting a tmpfs is not permitted here: %s" % done.stderr.strip())
    try:
        yield str(mount_point)
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


@pytest.mark.integration
def test_real_full_tmpfs(tiny_tmpfs):
    path = os.path.join(tiny_tmpfs, "store")
    filler = os.path.join(tiny_tmpfs, "filler")
    with open(filler, "wb") as f:
        f.write(bytes(256 * 1024))
    store = BlockStore.open(path, segment_size=SEG)
    h = 0
    with pytest.raises(StoreFullError):
        for h in range(1000):
            store.append_block(h, *make_block(h), label=b"accepted")
            store.commit()
    refused_at = h
    assert 20 < refused_at < 1000
    with pytest.raises(StoreFullError):
        store.append_block(refused_at, *make_block(refused_at))
    store.close()
    with BlockStore.open(path) as store:  # everything committed is there
        assert store.tip()[0] == refused_at - 1
        assert_intact(store, range(refused_at))
        os.unlink(filler)  # space returns
        append(store, range(refused_at, refused_at + 40))
    with BlockStore.open(path) as store:
        assert store.tip()[0] == refused_at + 39
        assert_intact(store, range(refused_at + 40))
        assert store.check()["clean"]
