"""`dusk-edge console` over the node's UNIX socket (a stand-in node process hosts NodeControl),
plus the socket protocol's bad-input handling."""
import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from dusk_edge.console_api import UnixControlClient
from dusk_edge.ops.status_client import NodeUnreachable

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def node_socket(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("node") / "node.sock")
    proc = subprocess.Popen([sys.executable, "-m", "dusk_edge", "console", "demo-node", "--socket", path,
                             "--board", "pi-zero-2w"], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 15
    while not os.path.exists(path):
        assert time.monotonic() < deadline and proc.poll() is None, "demo node did not start"
        time.sleep(0.02)
    yield path
    proc.send_signal(signal.SIGTERM)
    proc.wait(10)
    assert not os.path.exists(path)  # removed on a clean stop


def console(path, *args, stdin=None):
    return subprocess.run([sys.executable, "-m", "dusk_edge", "console", "--socket", path, *args],
                          input=stdin, capture_output=True, text=True, timeout=60)


def test_one_shot_commands(node_socket):
    result = console(node_socket, "-c", "status", "-c", "blocks 2", "-c", "config set peers.max 64",
                     "-c", "config get peers.max")
    assert result.returncode == 0, result.stderr
    assert "board: pi-zero-2w" in result.stdout and "caps.memory_mb: 256" in result.stdout
    assert "height=1041" in result.stdout and "peers.max: 64" in result.stdout
    assert "dusk>" not in result.stdout
    bad = console(node_socket, "-c", "config set log.level loud")
    assert bad.returncode == 1 and "log.level must be one of" in bad.stdout


def test_interactive_session_from_stdin(node_socket):
    result = console(node_socket, stdin="help\npeers\nnonsense\nlogout\nstatus\n")
    assert result.returncode == 0, result.stderr
    assert "config set <key> <value>" in result.stdout and "latency_ms=12" in result.stdout
    assert "error: unknown command 'nonsense'" in result.stdout
    assert result.stdout.count("height: 1042") == 0  # logout ended the session before status


def test_node_down_is_a_clear_error(tmp_path):
    result = console(str(tmp_path / "absent.sock"), "-c", "status")
    assert result.returncode == 1 and "error: node socket" in result.stdout
    with pytest.raises(NodeUnreachable):
        UnixControlClient(str(tmp_path / "absent.sock"), timeout=1).status()


def test_socket_rejects_garbage_and_keeps_serving(node_socket):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(5)
        sock.connect(node_socket)
        for request in (b"not json\n", b'{"cmd": "console.blocks", "n": "x", "extra": 1}\n', b"[1]\n",
                        b'{"cmd": "console.nope"}\n'):
            sock.sendall(request)
            reply = b""
            while not reply.endswith(b"\n"):
                reply += sock.recv(65536)
            assert json.loads(reply)["ok"] is False
    assert UnixControlClient(node_socket).blocks(1)[0]["height"] == 1042
