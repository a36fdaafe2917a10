"""Client of the node's local UNIX socket: one JSON request per line, one JSON reply per line.

    -> {"cmd": "status"}            <- {"ok": true, "result": {...}}
    -> {"cmd": "nope"}              <- {"ok": false, "error": "unknown command 'nope'"}
"""
import json
import socket

from dusk_edge.core.errors import DuskEdgeError


class NodeUnreachable(DuskEdgeError):
    """The node's socket is missing, refuses, or answers garbage."""


def query(socket_path, cmd, timeout=2.0, **args):
    """Send one command; returns the result or raises NodeUnreachable / DuskEdgeError(reply error)."""
    request = dict(args)
    request["cmd"] = cmd
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(socket_path)
            sock.sendall(json.dumps(request).encode() + b"\n")
            data = b""
            while not data.endswith(b"\n"):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
                if len(data) > 4 << 20:
                    raise NodeUnreachable("reply larger than 4 MiB")
    except OSError as exc:
        raise NodeUnreachable("node socket %s: %s" % (socket_path, exc.strerror or exc)) from None
    try:
        reply = json.loads(data)
    except ValueError:
        raise NodeUnreachable("node socket %s answered something that is not JSON" % socket_path) from None
    if not reply.get("ok"):
        raise DuskEdgeError(reply.get("error", "command failed"))
    return reply.get("result")
