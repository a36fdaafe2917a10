"""Crash safety with real OS processes: a forked child writes blocks, labels, snapshots, prunes and
compactions while the parent SIGKILLs it at random moments; every committed height must survive,
nothing past the last commit may appear, and the indexes must be rebuilt each time."""
import os
import random
import signal
import struct
import time

import pytest

from dusk_edge.store import BlockStore
from tests import store_child
from tests.store_child import CAPS, make_block, make_state

ROUNDS = 220


def spawn_writer(path):
    """Fork a child running store_child.write_forever; returns (pid, read end of its pipe)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: write until killed
        code = 0
        try:
            os.close(r)
            store_child.write_forever(path, w)
        except BaseException:  # noqa: BLE001 - the parent sees the exit code
            code = 3
        os._exit(code)
    os.close(w)
    return pid, r


def read_reports(fd):
    data = b""
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        data += chunk
    os.close(fd)
    return [struct.unpack_from("<Q", data, i)[0] for i in range(0, len(data) - len(data) % 8, 8)]


def check_height(store, height, tip):
    block_hash, header, body, tx_ids = make_block(height)
    got = store.block_by_height(height)
    assert got is not None, "committed height %d lost" % height
    assert got.block_hash == block_hash and got.header == header and got.tx_ids == tx_ids
    if got.body is None:
        assert height < store.index.prune_below, "body of unpruned height %d lost" % height
    else:
        assert got.body == body
    assert got.label == (b"final" if height < tip else b"accepted")
    assert store.block_by_hash(block_hash).height == height
    for i, tx_id in enumerate(tx_ids):
        assert store.tx_location(tx_id) == (height, i)


def verify_after_kill(path, committed, rng):
    """Reopen, then check the newly committed heights, a sample of older ones and the tip.
    ``committed`` also holds heights seen at earlier reopens (committed but killed before the
    child could report them)."""
    store = BlockStore.open(path, board_caps=CAPS, segment_size=store_child.SEGMENT_SIZE)
    try:
        assert not store.quarantine, store.stats()
        tip = store.tip()
        if not committed:
            assert tip is None or tip[0] == 0
            return store.stats()
        top = max(committed)
        # the child may commit once more before the kill lands, never twice
        assert tip is not None and top <= tip[0] <= top + 1, (top, tip)
        sample = set(committed[-20:]) | {tip[0]} | set(rng.sample(range(top + 1), min(5, top + 1)))
        for height in sorted(sample):
            check_height(store, height, tip[0])
        snapshot = store.latest_snapshot()
        if snapshot is not None:
            assert snapshot[1] == make_state(snapshot[0])
        return store.stats()
    finally:
        store.close()


@pytest.mark.integration
@pytest.mark.timeout(240)
def test_sigkill_at_random_moments_loses_no_committed_block(tmp_path):
    path = str(tmp_path / "store")
    rng = random.Random(20261124)
    committed = []
    torn = 0
    for _ in range(ROUNDS):
        pid, fd = spawn_writer(path)
        time.sleep(rng.choice((0.0, rng.uniform(0.0, 0.005), rng.uniform(0.005, 0.06))))
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status), "writer exited by itself (status %r)" % status
        committed.extend(read_reports(fd))
        stats = verify_after_kill(path, committed, rng)
        if stats["tip"] is not None:
            committed.append(stats["tip"])  # durable now, whether reported or not
        torn += sum(1 for r in stats["recovery"] if r["kind"] == "torn_tail")
        assert not [r for r in stats["recovery"] if r["kind"] == "damaged"]
    print("crash test: %d rounds, tip %d, %d torn tails truncated" % (ROUNDS, max(committed), torn))
    assert committed and max(committed) > 100, "the writer made too little progress to test much"
    store = BlockStore.open(path, board_caps=CAPS)
    try:
        tip = store.tip()[0]
        for height in range(tip + 1):
            check_height(store, height, tip)
        report = store.check()
        assert report["ok"], report
        assert store.index.prune_below > 0 and len(store.segments) < tip  # prune + compact ran
    finally:
        store.close()
