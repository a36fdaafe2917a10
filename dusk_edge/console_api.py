"""The node's control surface for consoles (docs/console.md).

``NodeControl`` is the interface every console front end calls: the serial console process and
`dusk-edge console`. The node implements it (a later issue wires it); until then and in tests,
``InProcessNodeControl`` serves a plain status dict. The methods travel over the node's local
UNIX socket (dusk_edge.ops.status_server, JSON lines) as commands "console.<method>":
    -> {"cmd": "console.blocks", "n": 5}     <- {"ok": true, "result": [...]}
``ControlServer`` hosts a NodeControl that way and ``UnixControlClient`` is the NodeControl proxy,
so the serial console keeps answering ("node not responding") when the node hangs.
"""
import hashlib
import hmac
import json
import os

from dusk_edge.core.console.commands import CONFIG_KEYS, validate_config
from dusk_edge.core.console.login import hash_passphrase_sha256i, verify_sha256i
from dusk_edge.core.errors import ConfigError
from dusk_edge.ops.status_client import NodeUnreachable, query
from dusk_edge.ops.status_server import StatusServer

SOCKET_NAME = "node.sock"  # inside the data directory, like the node's [status] socket


def default_socket_path():
    """$DUSK_EDGE_SOCKET, else node.sock in the detected board's data directory."""
    if os.environ.get("DUSK_EDGE_SOCKET"):
        return os.environ["DUSK_EDGE_SOCKET"]
    from dusk_edge.boards import detect_board

    return os.path.join(detect_board()["data_dir"], SOCKET_NAME)


class NodeControl:
    """What a console may ask of the node. Every method returns plain JSON-able data."""

    def status(self):
        """Dict: node state, height, peers count, clock sync, board name and caps."""
        raise NotImplementedError

    def peers(self):
        """List of dicts, one per peer."""
        raise NotImplementedError

    def blocks(self, n):
        """The last ``n`` blocks as dicts (height, hash, ...), newest first."""
        raise NotImplementedError

    def stake_info(self):
        raise NotImplementedError

    def log_tail(self, n):
        """The last ``n`` log lines (list of str)."""
        raise NotImplementedError

    def config_get(self, key):
        """One value (``key``) or the whole dict (``key`` None)."""
        raise NotImplementedError

    def config_set(self, key, value):
        """Set a validated value; raises ConfigError for a bad key or value."""
        raise NotImplementedError

    def keys_status(self):
        raise NotImplementedError

    def restart(self):
        raise NotImplementedError

    def shutdown(self):
        raise NotImplementedError

    def repair(self, action, args):
        """Run a field repair: "store check" | "store repair" | "store resync" [from height] |
        "snapshot restore" [height] | "clock set" unix_seconds | "log export". Returns a report."""
        raise NotImplementedError


def board_status(profile):
    """The status fields a board profile contributes: name, title and the caps the node applies."""
    return {"board": profile["name"], "board_title": profile["title"], "caps": dict(profile["caps"])}


class InProcessNodeControl(NodeControl):
    """A NodeControl over a plain dict (tests, the demo node, the node before it is wired).

    ``state`` keys: status (dict), peers (list), blocks (list, newest first), stake (dict),
    log (list of str), config (dict), keys (dict). restart()/shutdown() append to
    state["requests"] and call ``on_restart`` / ``on_shutdown`` when given."""

    def __init__(self, state=None, board=None, on_restart=None, on_shutdown=None):
        self.state = state if state is not None else {}
        for key, empty in (("status", {}), ("peers", []), ("blocks", []), ("stake", {}),
                           ("log", []), ("config", {}), ("keys", {}), ("requests", [])):
            self.state.setdefault(key, empty)
        if board is not None:
            self.state["status"].update(board_status(board))
        self.on_restart = on_restart
        self.on_shutdown = on_shutdown

    def status(self):
        return dict(self.state["status"])

    def peers(self):
        return list(self.state["peers"])

    def blocks(self, n):
        return list(self.state["blocks"][:n])

    def stake_info(self):
        return dict(self.state["stake"])

    def log_tail(self, n):
        return list(self.state["log"][-n:])

    def config_get(self, key):
        config = self.state["config"]
        if key is None:
            return dict(config)
        if key not in CONFIG_KEYS:
            validate_config(key, "")
        return {key: config.get(key)}

    def config_set(self, key, value):
        if isinstance(value, str):
            value = validate_config(key, value)
        else:
            validate_config(key, json.dumps(value) if isinstance(value, bool) else str(value))
        self.state["config"][key] = value

    def keys_status(self):
        return dict(self.state["keys"])

    def restart(self):
        self.state["requests"].append("restart")
        if self.on_restart:
            self.on_restart()

    def shutdown(self):
        self.state["requests"].append("shutdown")
        if self.on_shutdown:
            self.on_shutdown()

    def repair(self, action, args):
        self.state["requests"].append(" ".join([action] + [str(a) for a in args]))
        return "%s requested" % action


def demo_state():
    """A plausible status dict for the demo node and tests."""
    return {
        "status": {"state": "running", "height": 1042, "final_height": 1039, "peers": 3,
                   "clock_synced": True, "uptime_s": 3600, "version": "0.1.0"},
        "peers": [{"addr": "127.0.0.2:9000", "latency_ms": 12}, {"addr": "127.0.0.3:9000", "latency_ms": 30},
                  {"addr": "127.0.0.4:9000", "latency_ms": 41}],
        "blocks": [{"height": 1042 - i, "hash": "%064x" % (0xABC000 + i), "txs": i % 4} for i in range(60)],
        "stake": {"value": 1000000000000, "eligible_since": 20, "reward": 1234, "faults": 0},
        "log": ["line %d: block accepted" % i for i in range(300)],
        "config": {"log.level": "info", "peers.max": 200, "node.name": "edge-1"},
        "keys": {"backend": "keystore", "token_present": False, "signing": "unlocked"},
    }


def control_commands(control):
    """NodeControl methods as a command table for the node's status socket
    (dusk_edge.ops.status_server.StatusServer): "console.<method>" -> callable(**kwargs)."""
    return {
        "console.status": control.status, "console.peers": control.peers,
        "console.blocks": lambda n: control.blocks(n), "console.stake_info": control.stake_info,
        "console.log_tail": lambda n: control.log_tail(n),
        "console.config_get": lambda key=None: control.config_get(key),
        "console.config_set": lambda key, value: control.config_set(key, value),
        "console.keys_status": control.keys_status, "console.restart": control.restart,
        "console.shutdown": control.shutdown,
        "console.repair": lambda action, args=(): control.repair(action, list(args)),
    }


class ControlServer:
    """Hosts a NodeControl on a UNIX socket (0600) in an asyncio loop. The node may instead merge
    control_commands(control) into its own StatusServer table: the protocol is the same."""

    def __init__(self, control, path, extra_commands=None):
        commands = control_commands(control)
        commands.update(extra_commands or {})
        self.server = StatusServer(path, commands)
        self.path = path

    async def start(self):
        await self.server.start()
        return self

    async def close(self):
        await self.server.close()


class UnixControlClient(NodeControl):
    """NodeControl proxy over the node's status socket; one connection per call, so it survives
    node restarts and a hung node costs one timeout. Raises NodeUnreachable or DuskEdgeError."""

    def __init__(self, path=None, timeout=5.0):
        self.path = path or default_socket_path()
        self.timeout = timeout

    def call(self, method, **args):
        return query(self.path, "console." + method, timeout=self.timeout, **args)

    def status(self):
        return self.call("status")

    def peers(self):
        return self.call("peers")

    def blocks(self, n):
        return self.call("blocks", n=n)

    def stake_info(self):
        return self.call("stake_info")

    def log_tail(self, n):
        return self.call("log_tail", n=n)

    def config_get(self, key):
        return self.call("config_get", key=key)

    def config_set(self, key, value):
        return self.call("config_set", key=key, value=value)

    def keys_status(self):
        return self.call("keys_status")

    def restart(self):
        return self.call("restart")

    def shutdown(self):
        return self.call("shutdown")

    def repair(self, action, args):
        return self.call("repair", action=action, args=args)


# Passphrase records ---------------------------------------------------------------------
def hash_passphrase(passphrase, salt=None, n=2**14, r=8, p=1):
    """A scrypt record "scrypt$n$r$p$salt$hash" for the console passphrase file."""
    salt = salt or os.urandom(16)
    digest = hashlib.scrypt(passphrase.encode(), salt=salt, n=n, r=r, p=p, dklen=32)
    return "scrypt$%d$%d$%d$%s$%s" % (n, r, p, salt.hex(), digest.hex())


def make_verifier(record):
    """callable(passphrase) -> bool for a scrypt or sha256i record. Raises ConfigError."""
    record = record.strip()
    if record.startswith("sha256i$"):
        verify_sha256i(record, "")  # validates the record now, not at the first login
        return lambda passphrase: verify_sha256i(record, passphrase)
    parts = record.split("$")
    try:
        if len(parts) != 6 or parts[0] != "scrypt":
            raise ValueError
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt, expected = bytes.fromhex(parts[4]), bytes.fromhex(parts[5])
    except ValueError:
        raise ConfigError("passphrase file: expected a scrypt$n$r$p$salt$hash or sha256i record") from None

    def verify(passphrase):
        digest = hashlib.scrypt(passphrase.encode(), salt=salt, n=n, r=r, p=p, dklen=len(expected))
        return hmac.compare_digest(digest, expected)

    return verify


__all__ = ["NodeControl", "InProcessNodeControl", "ControlServer", "UnixControlClient", "NodeUnreachable",
           "control_commands", "board_status", "demo_state", "hash_passphrase", "hash_passphrase_sha256i",
           "make_verifier", "default_socket_path"]
