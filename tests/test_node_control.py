"""`dusk-edge console` against a real node process: the console commands reach the node over
its socket (status with board caps, blocks, peers, config get/set with validation, keys status,
log tail) and `shutdown` stops the process cleanly."""
import os
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
        memory = query(sock, "status")["memory"]
        assert 0 < memory["rss_mb"] < memory["cap_mb"] and memory["over_cap"] is False
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


def test_metrics_systemd_notify_and_sigterm(tmp_path):
    import socket
    import urllib.request

    from dusk_edge.config import load_config, render_config

    (name, config_path, sock), = prepare_devnet(str(tmp_path), 1, find_free_port(1))
    with socket.socket() as probe:  # a free TCP port for the metrics endpoint
        probe.bind(("127.0.0.1", 0))
        metrics_port = probe.getsockname()[1]
    config = load_config(config_path)
    config["metrics"] = {"enabled": True, "listen": "127.0.0.1:%d" % metrics_port}
    config["log"]["format"] = "json"
    with open(config_path, "w") as f:
        f.write(render_config(config))
    notify_path = str(tmp_path / "notify.sock")
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(notify_path)
    notify.settimeout(60)
    node = NodeProcess(name, config_path, str(tmp_path / "node.log"),
                       extra_env={"NOTIFY_SOCKET": notify_path, "WATCHDOG_USEC": "2000000"}).start()
    try:
        messages = [notify.recv(4096).decode()]
        assert wait_for(lambda: (answers(sock) or {}).get("height", 0) >= 1, 120)
        while not any("WATCHDOG=1" in m for m in messages):
            messages.append(notify.recv(4096).decode())
        assert any(m.startswith("READY=1") for m in messages), messages
        body = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % metrics_port, timeout=10).read().decode()
        assert "dusk_edge_height " in body and "dusk_edge_final_height" in body
        node.proc.send_signal(15)
        assert node.proc.wait(30) == 0
        log = open(tmp_path / "node.log").read()
        assert '"msg": "node node-0 stopped"' in log  # JSON log lines, clean stop
        assert not os.path.exists(sock)
    finally:
        notify.close()
        node.stop()
    # the store reopens cleanly after the SIGTERM (nothing torn, tip kept)
    from dusk_edge.store.block_store import BlockStore, store_path
    with BlockStore.open(store_path(config["node"]["data_dir"])) as store:
        assert store.tip() is not None and not store.quarantine

