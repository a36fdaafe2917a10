"""`dusk-edge store check|repair|stats` against real stores, through click's runner and once as a
real process."""
import json
import os
import subprocess
import sys

from click.testing import CliRunner

from dusk_edge.cli import main
from dusk_edge.core.storage import log_format as lf
from dusk_edge.store import BlockStore, store_path
from tests.store_child import make_block


def build(data_dir, heights=40):
    with BlockStore.open(store_path(data_dir), segment_size=64 * 1024) as store:
        for h in range(heights):
            store.append_block(h, *make_block(h), label=b"accepted")
            store.commit()


def damage_body(data_dir, nth=2):
    path = os.path.join(store_path(data_dir), "seg-00000000.log")
    with open(path, "r+b") as f:
        image = f.read()
        bodies = [o for o, t, _ in lf.scan_segment(image).records if t == lf.T_BODY]
        f.seek(bodies[nth] + 30)
        f.write(bytes((image[bodies[nth] + 30] ^ 0x40,)))
    return nth


def test_check_repair_stats(tmp_path):
    bad, good = str(tmp_path / "bad"), str(tmp_path / "good")
    build(bad)
    build(good)
    runner = CliRunner()
    result = runner.invoke(main, ["store", "check", "--data-dir", bad])
    assert result.exit_code == 0 and "store check: OK" in result.output
    height = damage_body(bad)
    result = runner.invoke(main, ["store", "check", "--data-dir", bad, "--json"])
    assert result.exit_code == 1
    assert json.loads(result.output)["quarantined"] == [height]
    result = runner.invoke(main, ["store", "repair", "--data-dir", bad, "--from", good])
    assert result.exit_code == 0, result.output
    assert "height %d: repaired" % height in result.output
    result = runner.invoke(main, ["store", "check", "--data-dir", bad])
    assert result.exit_code == 0
    result = runner.invoke(main, ["store", "stats", "--data-dir", bad, "--board", "pi4", "--json"])
    stats = json.loads(result.output)
    assert stats["tip"] == 39 and stats["write_budget_bytes_per_day"] == 2048 * 1024 * 1024


def test_check_as_a_real_process(tmp_path):
    data_dir = str(tmp_path / "node")
    build(data_dir, 10)
    damage_body(data_dir, 1)
    done = subprocess.run([sys.executable, "-m", "dusk_edge", "store", "check", "--data-dir", data_dir],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "quarantined heights: 1" in done.stdout and "DAMAGED" in done.stdout


def test_newer_format_is_a_clear_error(tmp_path):
    data_dir = str(tmp_path / "node")
    build(data_dir, 2)
    import cbor2

    with open(os.path.join(store_path(data_dir), "store.cbor"), "wb") as f:
        f.write(cbor2.dumps({"format": 7, "segment_size": 65536}))
    result = CliRunner().invoke(main, ["store", "stats", "--data-dir", data_dir])
    assert result.exit_code == 2 and "StoreFormatError" in result.output
