"""The node's local socket: real UNIX socket, JSON lines, named errors, bounded requests."""
import asyncio
import json
import os
import socket
import stat

import pytest

from dusk_edge.core.errors import ConfigError, DuskEdgeError
from dusk_edge.ops.status_client import NodeUnreachable, query
from dusk_edge.ops.status_server import MAX_REQUEST, StatusServer


def fail():
    raise ConfigError("mempool.size must be >= 100")


COMMANDS = {"status": lambda: {"height": 3}, "echo": lambda text: text, "fail": fail}


def run_with_server(path, client):
    async def main():
        server = await StatusServer(path, COMMANDS, idle_timeout_s=2).start()
        try:
            return await asyncio.get_running_loop().run_in_executor(None, client)
        finally:
            await server.close()

    return asyncio.run(main())


def test_commands_and_errors(tmp_path):
    path = str(tmp_path / "node.sock")

    def client():
        mode = stat.S_IMODE(os.stat(path).st_mode)
        assert query(path, "status") == {"height": 3}
        assert query(path, "echo", text="hi") == "hi"
        with pytest.raises(DuskEdgeError, match="mempool.size"):
            query(path, "fail")
        with pytest.raises(DuskEdgeError, match="unknown command 'nope'"):
            query(path, "nope")
        with pytest.raises(DuskEdgeError, match="bad arguments"):
            query(path, "status", extra=1)
        return mode

    assert run_with_server(path, client) == 0o600
    assert not os.path.exists(path)


def test_garbage_and_oversized_requests_do_not_wedge_it(tmp_path):
    path = str(tmp_path / "node.sock")

    def client():
        replies = []
        for payload in (b"\xff\xfe not json\n", b"[1,2]\n", b"x" * (MAX_REQUEST + 10) + b"\n"):
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(5)
                s.connect(path)
                s.sendall(payload)
                replies.append(json.loads(s.makefile("rb").readline()))
        replies.append(query(path, "status"))  # still answering
        return replies

    replies = run_with_server(path, client)
    assert [r["ok"] for r in replies[:3]] == [False, False, False]
    assert "too long" in replies[2]["error"]
    assert replies[3] == {"height": 3}


def test_unreachable_node_is_a_named_error(tmp_path):
    with pytest.raises(NodeUnreachable):
        query(str(tmp_path / "missing.sock"), "status")
