"""`dusk-edge console` against a real node process: the console commands reach the node over
its socket (status with board caps, blocks, peers, config get/set with validation, keys status,
log tail) and `shutdown` stops the process cleanly."""
import subprocess
import sys

import pytest

from dusk_edge.core.errors import DuskEdgeError
from dusk_edge.devnet import find_free_port, prepare_devnet, wait_for
from dusk_edge.devnet_procs import NodeProcess
from dusk_edge.ops.status_client import query

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def console(sock, *commands):
    args = [sys.executable, "-m", "dusk_edge", "console", "--socket", sock]
    for c in commands:
        args += ["-c", c]
    out = subprocess.run(args, capture_output=True, text=True, timeout=60)
    return out.returncode, out.stdout + out.stderr


def answers(sock):
    try:
        return query(sock, "status", timeout=1)
    except DuskEdgeError:
        return None


def test_console_drives_a_real_node(tmp_path):
    (name, config, sock), = prepare_devnet(str(tmp_path), 1, find_free_port(1))
    node = NodeProcess(name, config, str(tmp_path / "node.log")).start()
    try:
        assert wait_for(lambda: (answers(sock) or {}).get("height", 0) >= 2, 120), open(tmp_path / "node.log").read()[-2000:]
        code, out = console(sock, "status", "blocks 2", "peers", "keys status", "config get log.level", "log tail 5")
        assert code == 0, out
        assert "generic" in out and "mempool_max_txs" in out  # board caps in status
        assert "log.level" in out and "info" in out
        code, out = console(sock, "config set peers.max 5")
        assert code != 0 or "8..1000" in out  # validated: out of range is refused with the range
        assert "8..1000" in out
        assert query(sock, "console.config_set", key="log.level", value="debug") == {"log.level": "debug"}
        assert query(sock, "console.keys_status")["signing"] == "ready"
        assert query(sock, "console.stake_info")["value"] > 0
        assert len(query(sock, "console.blocks", n=2)) == 2
        query(sock, "console.shutdown")
        node.proc.wait(30)
        assert node.proc.returncode == 0
    finally:
        node.stop()
