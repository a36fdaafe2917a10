"""`dusk-edge selfcheck` (what `make run` shows until the devnet exists)."""
import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.twin


def test_selfcheck_reports_backend_speedups_and_board():
    out = subprocess.run([sys.executable, "-m", "dusk_edge", "selfcheck", "--json", "--board", "pi4"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["ok"] and report["bls_roundtrip"] and report["crc32c_ok"]
    assert report["board"] == "pi4" and report["caps"]["mempool_max_txs"] == 5000
    assert report["speedups"] in ("c", "pure")


def test_selfcheck_unknown_board_is_a_clear_error():
    out = subprocess.run([sys.executable, "-m", "dusk_edge", "selfcheck", "--board", "nope"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert "unknown board 'nope'" in (out.stderr + out.stdout)
    assert "Traceback" not in out.stderr
