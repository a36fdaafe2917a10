"""The block store against SQLite (WAL, synchronous=FULL) on the same record stream and the same
commit points (DESIGN.md §6, issue 6).

Streams: steady state (one commit per block: the block plus a label change two blocks back) and
catch-up (one commit per 100 blocks). The systems run interleaved, one commit each in turn, so that
they share the machine's load (fsync latency here swings with the other processes). Reported per system: bytes the kernel charged this process
with writing (/proc/self/io write_bytes), device sectors written (/sys/block/<dev>/stat; shared
with the other processes of the machine, so only indicative), blocks/s, write amplification
(write_bytes / payload bytes). Then: reopen time after 100,000 blocks, and 1,000 SIGKILL-and-reopen
rounds counting committed blocks lost. Every figure is also given as a ratio against SQLite (or the
full-rebuild reopen) measured in the same run; timings are medians of 5 runs.
"""
import hashlib
import os
import random
import shutil
import signal
import sqlite3
import statistics
import struct
import tempfile
import time

from bench.common import write_results

RUNS = 5
STEADY_BLOCKS = 1500
CATCHUP_BLOCKS = 6000
CATCHUP_BATCH = 100
REOPEN_BLOCKS = 100_000
KILL_ROUNDS = 1000


# --- the record stream ---------------------------------------------------------------------------
def block_stream(count, seed=1):
    """Blocks shaped like Dusk's: a ~520-byte header with an attestation, 0-8 transactions of
    ~600 bytes each (keys and signatures random, amounts/nonces/gas small integers)."""
    rng = random.Random(seed)
    out = []
    for height in range(count):
        block_hash = hashlib.sha256(b"%d/%d" % (seed, height)).digest()
        header = (struct.pack("<QQQ", 1, height, 1_700_000_000 + 10 * height) + rng.randbytes(32 * 5)
                  + rng.randbytes(48 * 3) + bytes(64) + struct.pack("<QQ", 3_000_000_000, 0)
                  + rng.randbytes(96) + bytes(24))
        txs, tx_ids = [], []
        for _ in range(rng.randrange(0, 9)):
            tx = (rng.randbytes(96 + 96 + 48) + struct.pack("<QQQQ", rng.randrange(10**9), height,
                                                           1, 2_500_000) + bytes(rng.randrange(64, 300)))
            txs.append(tx)
            tx_ids.append(hashlib.sha256(tx).digest())
        out.append((height, block_hash, header, b"".join(txs), tx_ids))
    return out


def payload_bytes(blocks):
    return sum(len(b[1]) + len(b[2]) + len(b[3]) + 32 * len(b[4]) + 8 for b in blocks)


# --- measuring -----------------------------------------------------------------------------------
def proc_write_bytes():
    with open("/proc/self/io") as f:
        for line in f:
            if line.startswith("write_bytes:"):
                return int(line.split()[1])
    return 0


def device_of(path):
    """(name, sectors-written reader) of the block device holding ``path``, or (None, None)."""
    dev = os.stat(path).st_dev
    name = None
    for entry in os.listdir("/sys/block"):
        try:
            with open("/sys/block/%s/dev" % entry) as f:
                major, minor = f.read().strip().split(":")
        except OSError:
            continue
        if os.major(dev) == int(major) and os.minor(dev) == int(minor):
            name = entry
    if name is None:
        return None, None

    def sectors():
        with open("/sys/block/%s/stat" % name) as f:
            return int(f.read().split()[6])
    return name, sectors


class Meter:
    def __init__(self, sectors):
        self.sectors = sectors

    def __enter__(self):
        os.sync()
        self.w0 = proc_write_bytes()
        self.s0 = self.sectors() if self.sectors else 0
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.t0
        os.sync()
        self.write_bytes = proc_write_bytes() - self.w0
        self.device_bytes = (self.sectors() - self.s0) * 512 if self.sectors else None


# --- the two systems -----------------------------------------------------------------------------
# Each system is a generator that yields after opening, after every commit and after closing, so
# that the systems can be run interleaved, commit by commit, under the same machine load.
def dusk_store_steps(path, blocks, batch, compress):
    from dusk_edge.store import BlockStore

    store = BlockStore.open(path, compress=compress)
    yield
    for i, (height, block_hash, header, body, tx_ids) in enumerate(blocks):
        store.append_block(height, block_hash, header, body, tx_ids, label=b"accepted")
        if height >= 2:
            store.set_label(height - 2, b"final")
        if (i + 1) % batch == 0:
            store.commit()
            yield
    store.close()
    yield


def sqlite_steps(path, blocks, batch):
    os.makedirs(path, exist_ok=True)
    db = sqlite3.connect(os.path.join(path, "chain.db"), isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE blocks(height INTEGER PRIMARY KEY, hash BLOB UNIQUE, header BLOB, "
               "body BLOB, label BLOB)")
    db.execute("CREATE TABLE txs(tx_id BLOB PRIMARY KEY, height INTEGER, pos INTEGER) WITHOUT ROWID")
    yield
    db.execute("BEGIN")
    for i, (height, block_hash, header, body, tx_ids) in enumerate(blocks):
        db.execute("INSERT INTO blocks VALUES (?,?,?,?,?)", (height, block_hash, header, body, b"accepted"))
        db.executemany("INSERT INTO txs VALUES (?,?,?)", [(t, height, n) for n, t in enumerate(tx_ids)])
        if height >= 2:
            db.execute("UPDATE blocks SET label=? WHERE height=?", (b"final", height - 2))
        if (i + 1) % batch == 0:
            db.execute("COMMIT")
            yield
            db.execute("BEGIN")
    db.execute("COMMIT")
    db.close()
    yield


def run_dusk_store(path, blocks, batch, compress):
    for _ in dusk_store_steps(path, blocks, batch, compress):
        pass


def run_sqlite(path, blocks, batch):
    for _ in sqlite_steps(path, blocks, batch):
        pass


def stream_systems(blocks, batch):
    return {
        "dusk_store": lambda p: dusk_store_steps(p, blocks, batch, compress=False),
        "dusk_store_zlib1": lambda p: dusk_store_steps(p, blocks, batch, compress=True),
        "dusk_store_auto": lambda p: dusk_store_steps(p, blocks, batch, compress="auto"),
        "sqlite_wal_full": lambda p: sqlite_steps(p, blocks, batch),
    }


def interleaved_run(root, systems, run):
    """Advance every system one commit at a time in turn (rotating who goes first); returns
    {name: (write_bytes, seconds, bytes_on_disk)}."""
    names = list(systems)
    paths = {n: os.path.join(root, "%s-%d" % (n, run)) for n in names}
    steps = {n: systems[n](paths[n]) for n in names}
    totals = {n: [0, 0.0] for n in names}
    live, turn = list(names), run
    while live:
        turn += 1
        for name in live[turn % len(live):] + live[:turn % len(live)]:
            w0 = proc_write_bytes()
            t0 = time.perf_counter()
            try:
                next(steps[name])
            except StopIteration:
                live.remove(name)
            totals[name][1] += time.perf_counter() - t0
            totals[name][0] += proc_write_bytes() - w0
    out = {}
    for name in names:
        size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(paths[name]) for f in fs)
        out[name] = (totals[name][0], totals[name][1], size)
        shutil.rmtree(paths[name])
    return out


def device_bytes_pass(root, systems, sectors):
    """One sequential run per system between two os.sync(): device sectors written (shared
    machine: other processes' writes land in the same counter)."""
    out = {}
    for name, make in systems.items():
        path = os.path.join(root, name + "-dev")
        with Meter(sectors) as meter:
            for _ in make(path):
                pass
        out[name] = meter.device_bytes
        shutil.rmtree(path)
    return out


def measure_stream(root, blocks, batch, sectors):
    """Median figures per system over RUNS interleaved runs of the same stream."""
    systems = stream_systems(blocks, batch)
    payload = payload_bytes(blocks)
    samples = {name: [] for name in systems}
    for run in range(RUNS):
        for name, row in interleaved_run(root, systems, run).items():
            samples[name].append(row)
    device = device_bytes_pass(root, systems, sectors) if sectors else {}
    out = {"blocks": len(blocks), "commit_every": batch, "payload_bytes": payload}
    for name, rows in samples.items():
        write_b = statistics.median(r[0] for r in rows)
        seconds = statistics.median(r[1] for r in rows)
        out[name] = {
            "write_bytes": int(write_b),
            "write_bytes_per_block": round(write_b / len(blocks)),
            "write_amplification": round(write_b / payload, 3),
            "device_bytes_noisy": device.get(name),
            "blocks_per_s": round(len(blocks) / seconds, 1),
            "bytes_on_disk": int(statistics.median(r[2] for r in rows)),
        }
    base = out["sqlite_wal_full"]
    for name in ("dusk_store", "dusk_store_zlib1", "dusk_store_auto"):
        out[name]["write_bytes_vs_sqlite"] = round(out[name]["write_bytes"] / base["write_bytes"], 3)
        out[name]["throughput_vs_sqlite"] = round(out[name]["blocks_per_s"] / base["blocks_per_s"], 2)
    return out


# --- reopen after 100,000 blocks -------------------------------------------------------------------
def measure_reopen(root):
    from dusk_edge.store import BlockStore

    blocks = block_stream(REOPEN_BLOCKS, seed=7)
    path = os.path.join(root, "big")
    t0 = time.perf_counter()
    run_dusk_store(path, blocks, 1000, compress="auto")
    build_s = time.perf_counter() - t0
    sq = os.path.join(root, "big-sqlite")
    run_sqlite(sq, blocks, 1000)
    probe = blocks[len(blocks) * 5 // 9]

    def reopen():
        with BlockStore.open(path) as store:
            assert store.tip()[0] == REOPEN_BLOCKS - 1
            assert store.block_by_hash(probe[1]).body == probe[3]

    def reopen_sqlite():
        db = sqlite3.connect(os.path.join(sq, "chain.db"))
        assert db.execute("SELECT max(height) FROM blocks").fetchone()[0] == REOPEN_BLOCKS - 1
        assert db.execute("SELECT body FROM blocks WHERE hash=?", (probe[1],)).fetchone()[0] == probe[3]
        db.close()

    def drop(suffix):
        for name in os.listdir(path):
            if name.endswith(suffix):
                os.unlink(os.path.join(path, name))

    timings = {}
    cases = (("reopen", reopen, None),                      # after a clean close: checkpoint
             ("after_crash", reopen, lambda: drop(".ckpt")),  # sidecars + active segment scan
             ("rebuild", reopen, lambda: (drop(".ckpt"), drop(".idx"))),  # the whole log
             ("sqlite_reopen", reopen_sqlite, None))
    for name, fn, prepare in cases:
        samples = []
        for _ in range(RUNS):
            if prepare:
                prepare()
            t0 = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - t0) * 1000)
        timings[name] = statistics.median(samples)
    with BlockStore.open(path) as store:
        segments = len(store.segments)
    shutil.rmtree(path)
    shutil.rmtree(sq)
    return {"blocks": REOPEN_BLOCKS, "build_s": round(build_s, 1), "segments": segments,
            "reopen_after_clean_close_ms": round(timings["reopen"], 1),
            "reopen_after_crash_ms": round(timings["after_crash"], 1),
            "reopen_rebuilding_everything_ms": round(timings["rebuild"], 1),
            "sqlite_reopen_ms": round(timings["sqlite_reopen"], 1),
            "clean_vs_full_rebuild": round(timings["reopen"] / timings["rebuild"], 3),
            "after_crash_vs_full_rebuild": round(timings["after_crash"] / timings["rebuild"], 3)}


# --- kill and reopen -----------------------------------------------------------------------------
def measure_kill_rounds(root):
    from dusk_edge.store import BlockStore
    from tests import store_child
    from tests.test_store_crash import read_reports

    path = os.path.join(root, "kill")
    rng = random.Random(99)
    committed_max = -1
    lost = torn = 0
    reopen_ms = []
    for _ in range(KILL_ROUNDS):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(r)
                store_child.write_forever(path, w)
            finally:
                os._exit(3)
        os.close(w)
        time.sleep(rng.choice((0.0, rng.uniform(0.0, 0.005), rng.uniform(0.005, 0.15))))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        reported = read_reports(r)
        committed_max = max([committed_max] + reported)
        t0 = time.perf_counter()
        store = BlockStore.open(path, board_caps=store_child.CAPS)
        reopen_ms.append((time.perf_counter() - t0) * 1000)
        tip = store.tip()
        top = -1 if tip is None else tip[0]
        for height in set(reported) | {committed_max}:
            if height < 0:
                continue
            got = store.block_by_height(height) if height <= top else None
            if got is None or got.header != store_child.make_block(height)[1]:
                lost += 1
        committed_max = max(committed_max, top)
        torn += sum(1 for e in store.recovery if e["kind"] == "torn_tail")
        store.close()
    shutil.rmtree(path)
    return {"rounds": KILL_ROUNDS, "final_tip": committed_max, "lost_committed_blocks": lost,
            "torn_tails_truncated": torn, "median_reopen_ms": round(statistics.median(reopen_ms), 2)}


def main():
    root = tempfile.mkdtemp(prefix="bench-storage-")
    device, sectors = device_of(root)
    results = {"device": device, "fs_root": root, "runs": RUNS}
    try:
        print("steady state ...", flush=True)
        results["steady_state"] = measure_stream(root, block_stream(STEADY_BLOCKS), 1, sectors)
        print("catch-up ...", flush=True)
        results["catch_up"] = measure_stream(root, block_stream(CATCHUP_BLOCKS), CATCHUP_BATCH, sectors)
        print("reopen after %d blocks ..." % REOPEN_BLOCKS, flush=True)
        results["reopen"] = measure_reopen(root)
        print("%d kill-and-reopen rounds ..." % KILL_ROUNDS, flush=True)
        results["kill_rounds"] = measure_kill_rounds(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    steady, catch = results["steady_state"], results["catch_up"]
    results["goals"] = {  # judged on the default configuration (compress="auto")
        "bytes_le_third_of_sqlite_steady": steady["dusk_store_auto"]["write_bytes_vs_sqlite"] <= 1 / 3,
        "bytes_le_third_of_sqlite_catch_up": catch["dusk_store_auto"]["write_bytes_vs_sqlite"] <= 1 / 3,
        "write_amplification_le_1_15_catch_up": catch["dusk_store_auto"]["write_amplification"] <= 1.15,
        "throughput_ge_sqlite_steady": steady["dusk_store_auto"]["throughput_vs_sqlite"] >= 1,
        "throughput_ge_sqlite_catch_up": catch["dusk_store_auto"]["throughput_vs_sqlite"] >= 1,
        "zero_lost_committed": results["kill_rounds"]["lost_committed_blocks"] == 0,
    }
    path = write_results("storage", results)
    print("wrote %s" % path)
    for key in ("steady_state", "catch_up"):
        for name in ("dusk_store", "dusk_store_zlib1", "dusk_store_auto", "sqlite_wal_full"):
            print(key, name, results[key][name])
    print(results["reopen"], results["kill_rounds"], results["goals"], sep="\n")


if __name__ == "__main__":
    main()
