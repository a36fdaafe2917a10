"""The node's control surface for consoles (docs/console.md).

``NodeControl`` is the interface every console front end calls: the serial console process and
`dusk-edge console`. The node implements it (a later issue wires it); until then and in tests,
``InProcessNodeControl`` serves a plain status dict. ``ControlServer`` hosts any NodeControl on a
UNIX socket (asyncio, JSON lines) and ``UnixControlClient`` is the matching NodeControl proxy, so
the serial console keeps answering ("node not responding") when the node hangs.

Wire protocol, one JSON object per line, both ways:
    -> {"id": 1, "method": "blocks", "params": [5]}
    <- {"id": 1, "result": [...]}  or  {"id": 1, "error": {"type": "ConfigError", "message": "..."}}
"""
import asyncio
import hashlib
import hmac
import json
import os
import socket

from dusk_edge.core.console.commands import CONFIG_KEYS, validate_config
from dusk_edge.core.console.login import hash_passphrase_sha256i, verify_sha256i
from dusk_edge.core.errors import ConfigError, DuskEdgeError

DEFAULT_SOCKET = "/run/dusk-edge/control.sock"
MAX_REQUEST = 65536
METHODS = {
    "status": 0, "peers": 0, "blocks": 1, "stake_info": 0, "log_tail": 1, "config_get": 1,
    "config_set": 2, "keys_status": 0, "restart": 0, "shutdown": 0,
}


class NodeUnreachable(DuskEdgeError):
    """The node's control socket is missing, refuses, or did not answer in time."""


class ControlError(DuskEdgeError):
    """The node answered a control call with an error."""


def default_socket_path():
    return os.environ.get("DUSK_EDGE_CONTROL_SOCKET", DEFAULT_SOCKET)


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


async def _serve_client(control, reader, writer):
    try:
        while True:
            try:
                line = await reader.readuntil(b"\n")
            except asyncio.LimitOverrunError:
                writer.write(b'{"id": null, "error": {"type": "ControlError", "message": "request too long"}}\n')
                break
            except asyncio.IncompleteReadError:
                break
            writer.write(json.dumps(_answer(control, line)).encode() + b"\n")
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


def _answer(control, line):
    try:
        request = json.loads(line)
        rid, method, params = request.get("id"), request["method"], request.get("params", [])
        if method not in METHODS or not isinstance(params, list) or len(params) != METHODS[method]:
            raise ControlError("bad method or params: %r" % (method,))
        return {"id": rid, "result": getattr(control, method)(*params)}
    except (ValueError, KeyError, TypeError, AttributeError):
        return {"id": None, "error": {"type": "ControlError", "message": "malformed request"}}
    except DuskEdgeError as exc:
        return {"id": rid, "error": {"type": type(exc).__name__, "message": str(exc)}}


class ControlServer:
    """Hosts a NodeControl on a UNIX socket (mode 0600) inside the node's asyncio loop."""

    def __init__(self, control, path):
        self.control = control
        self.path = path
        self._server = None

    async def start(self):
        if os.path.exists(self.path):
            os.unlink(self.path)  # a stale socket from a crashed run
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        self._server = await asyncio.start_unix_server(
            lambda r, w: _serve_client(self.control, r, w), path=self.path, limit=MAX_REQUEST)
        os.chmod(self.path, 0o600)

    async def close(self):
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        if os.path.exists(self.path):
            os.unlink(self.path)


class UnixControlClient(NodeControl):
    """NodeControl proxy over the control socket; one connection per call keeps it robust to
    node restarts. Errors: NodeUnreachable, ConfigError, ControlError."""

    def __init__(self, path=None, timeout=5.0):
        self.path = path or default_socket_path()
        self.timeout = timeout
        self._next_id = 1

    def call(self, method, *params):
        rid = self._next_id
        self._next_id += 1
        request = json.dumps({"id": rid, "method": method, "params": list(params)}).encode() + b"\n"
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(self.timeout)
                sock.connect(self.path)
                sock.sendall(request)
                reply = self._read_line(sock)
        except (OSError, socket.timeout) as exc:
            raise NodeUnreachable("node not responding on %s: %s" % (self.path, exc)) from None
        try:
            answer = json.loads(reply)
        except ValueError:
            raise NodeUnreachable("node sent a malformed answer") from None
        if "error" in answer:
            error = answer["error"]
            kind = ConfigError if error.get("type") == "ConfigError" else ControlError
            raise kind(error.get("message", "error"))
        return answer.get("result")

    @staticmethod
    def _read_line(sock):
        data = bytearray()
        while not data.endswith(b"\n"):
            chunk = sock.recv(65536)
            if not chunk:
                raise OSError("connection closed")
            data += chunk
            if len(data) > 4 * MAX_REQUEST:
                raise OSError("answer too long")
        return bytes(data)

    def status(self):
        return self.call("status")

    def peers(self):
        return self.call("peers")

    def blocks(self, n):
        return self.call("blocks", n)

    def stake_info(self):
        return self.call("stake_info")

    def log_tail(self, n):
        return self.call("log_tail", n)

    def config_get(self, key):
        return self.call("config_get", key)

    def config_set(self, key, value):
        return self.call("config_set", key, value)

    def keys_status(self):
        return self.call("keys_status")

    def restart(self):
        return self.call("restart")

    def shutdown(self):
        return self.call("shutdown")


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
           "ControlError", "board_status", "demo_state", "hash_passphrase", "hash_passphrase_sha256i",
           "make_verifier", "default_socket_path"]
