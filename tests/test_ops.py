"""Config validation, systemd notify over a real datagram socket, metrics text, log redaction."""
import io
import json
import logging
import socket

import pytest

from dusk_edge.config import load_config, render_config, validate_config
from dusk_edge.core.errors import ConfigError
from dusk_edge.ops.logs import setup_logging
from dusk_edge.ops.metrics import render_metrics
from dusk_edge.ops.systemd import SystemdNotifier

pytestmark = pytest.mark.twin


@pytest.mark.parametrize("doc,field", [
    ({"network": {"broadcast": "fast"}}, "network.broadcast must be one of as-specified, edge, auto"),
    ({"network": {"listen": "localhost:9000"}}, "network.listen"),
    ({"network": {"uplink_mbps": 0}}, "network.uplink_mbps must be 1..1000"),
    ({"network": {"uplink_mbps": "fast"}}, "network.uplink_mbps must be an integer"),
    ({"network": {"listen": "127.0.0.1:70000"}}, "network.listen: port must be 1..65535"),
    ({"network": {"bootstrap": ["127.0.0.1"]}}, "network.bootstrap[0]"),
    ({"log": {"level": "loud"}}, "log.level must be one of debug, info, warning, error"),
    ({"node": {"colour": "x"}}, "unknown field node.colour"),
    ({"mystery": {}}, "unknown section [mystery]"),
    ({"metrics": {"enabled": "yes"}}, "metrics.enabled must be true or false"),
    ({"keys": {"signer": "remote"}}, "keys.remote_signer is required"),
])
def test_bad_config_names_the_field(doc, field):
    with pytest.raises(ConfigError) as err:
        validate_config(doc)
    assert field in str(err.value)


def test_config_round_trip_and_relative_paths(tmp_path):
    config = validate_config({"node": {"data_dir": str(tmp_path / "d")}, "network": {"bootstrap": ["127.0.0.2:9000"]}})
    path = tmp_path / "node.toml"
    path.write_text(render_config(config))
    loaded = load_config(str(path))
    assert loaded["network"]["bootstrap"] == ["127.0.0.2:9000"]
    assert loaded["status"]["socket"] == str(tmp_path / "d" / "node.sock")


@pytest.mark.parametrize("setting,profile,expected", [
    ("auto", "dusk", "as-specified"), ("auto", "devnet", "edge"),
    ("edge", "dusk", "edge"), ("as-specified", "devnet", "as-specified")])
def test_broadcast_mode_follows_the_profile_on_auto(setting, profile, expected):
    from dusk_edge.core.ledger.profile import NetworkProfile
    from dusk_edge.node_setup import broadcast_mode

    assert broadcast_mode({"broadcast": setting}, getattr(NetworkProfile, profile)()) == expected


def test_edge_peer_paces_at_the_configured_uplink():
    from dusk_edge.core.kadcast.edge import EdgePeer
    from dusk_edge.core.ledger.profile import NetworkProfile
    from dusk_edge.node_setup import open_peer

    net = validate_config({"network": {"broadcast": "auto", "uplink_mbps": 40}})["network"]
    peer = open_peer(net, NetworkProfile.devnet(), (bytes([127, 0, 0, 2]), 9000), [], 0)
    assert isinstance(peer, EdgePeer) and peer.bandwidth()["uplink_bps"] == 40000000
    assert not isinstance(open_peer(net, NetworkProfile.dusk(), (bytes([127, 0, 0, 2]), 9000), [], 0), EdgePeer)


def test_unreadable_and_malformed_config(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config"):
        load_config(str(tmp_path / "none.toml"))
    bad = tmp_path / "bad.toml"
    bad.write_text("[node\nname=")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(str(bad))


def test_systemd_notify_reaches_the_socket(tmp_path):
    path = str(tmp_path / "notify")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(path)
    server.settimeout(5)
    try:
        notifier = SystemdNotifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "10000000"})
        assert notifier.watchdog_interval_s == 5
        assert notifier.ready("height 3")
        assert server.recv(100) == b"READY=1\nSTATUS=height 3"
        notifier.watchdog()
        assert server.recv(100) == b"WATCHDOG=1"
    finally:
        server.close()


def test_systemd_notify_never_blocks_on_a_full_queue(tmp_path):
    path = str(tmp_path / "notify")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(path)  # nobody reads: the queue fills up
    try:
        notifier = SystemdNotifier({"NOTIFY_SOCKET": path})
        results = [notifier.watchdog() for _ in range(5000)]
        assert results[0] and not results[-1]  # later ones dropped, none blocked
    finally:
        server.close()


def test_systemd_notify_is_silent_without_systemd():
    notifier = SystemdNotifier({})
    assert not notifier.enabled and not notifier.ready() and notifier.watchdog_interval_s is None


def test_metrics_flatten_numbers_only():
    text = render_metrics({"height": 7, "tip": {"label": "final", "iteration": 0}, "synced": True, "name": "n1"})
    assert "dusk_edge_height 7" in text
    assert "dusk_edge_tip_iteration 0" in text
    assert "dusk_edge_synced 1" in text
    assert "n1" not in text and "final" not in text


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_logs_redact_secrets(fmt):
    stream = io.StringIO()
    setup_logging(fmt, "info", stream)
    logging.getLogger("keys").info("unlocked", extra={"fields": {"passphrase": "hunter2", "user_pin": "1234", "height": 5}})
    out = stream.getvalue()
    assert "hunter2" not in out and "1234" not in out and "<redacted>" in out
    if fmt == "json":
        doc = json.loads(out)
        assert doc["height"] == 5 and doc["msg"] == "unlocked"
    setup_logging("text", "warning")
