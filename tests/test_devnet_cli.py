"""`dusk-edge devnet` as a user runs it: the node processes speak the devnet profile's edge
broadcast mode, and a SIGTERM to the orchestrator (kill, a closed terminal) stops every node."""
import os
import signal
import subprocess
import sys

import pytest

from dusk_edge.core.errors import DuskEdgeError
from dusk_edge.devnet import find_free_port, wait_for
from dusk_edge.ops.status_client import query

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(300)]


def processes_under(path):
    """PIDs whose command line mentions ``path`` (from /proc)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                if path.encode() in f.read():
                    found.append(int(pid))
        except OSError:
            continue
    return found


def status(sock):
    try:
        return query(sock, "status", timeout=2)
    except DuskEdgeError:
        return None


def test_devnet_runs_edge_mode_and_sigterm_stops_every_node(tmp_path):
    data_dir = str(tmp_path / "net")
    port = find_free_port(2)
    orchestrator = subprocess.Popen(
        [sys.executable, "-m", "dusk_edge", "devnet", "--nodes", "2", "--no-live", "--port", str(port),
         "--data-dir", data_dir, "--timeout", "240"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        sockets = [os.path.join(data_dir, "node-%d" % i, "node.sock") for i in range(2)]
        assert wait_for(lambda: all(status(s) for s in sockets), 120), "nodes never answered"
        assert all(status(s)["bandwidth"]["mode"] == "edge" for s in sockets)
        nodes = [pid for pid in processes_under(data_dir) if pid != orchestrator.pid]
        assert len(nodes) == 2
        orchestrator.send_signal(signal.SIGTERM)
        orchestrator.wait(timeout=60)
        output = orchestrator.stdout.read().decode()
        assert "devnet: stopping" in output, output
        assert wait_for(lambda: processes_under(data_dir) == [], 30), processes_under(data_dir)
    finally:
        if orchestrator.poll() is None:
            orchestrator.kill()
        for pid in processes_under(data_dir):
            os.kill(pid, signal.SIGKILL)
