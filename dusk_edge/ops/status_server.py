"""The node's local UNIX socket (0600): JSON lines, a command table, one reply per request.

Commands are plain callables taking keyword arguments and returning JSON-able values; a
DuskEdgeError becomes {"ok": false, "error": ...}. Requests are bounded (64 KiB a line) and a slow
or silent client is dropped after a timeout, so the socket can never wedge the node.
"""
import asyncio
import json
import logging
import os

from dusk_edge.core.errors import DuskEdgeError

MAX_REQUEST = 64 * 1024
log = logging.getLogger("dusk_edge.status")


class StatusServer:
    def __init__(self, path, commands, idle_timeout_s=30.0):
        self.path = path
        self.commands = commands
        self.idle_timeout_s = idle_timeout_s
        self._server = None

    async def start(self):
        if os.path.exists(self.path):
            os.unlink(self.path)  # a stale socket from a killed node
        os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
        old_umask = os.umask(0o177)
        try:
            self._server = await asyncio.start_unix_server(self._serve, path=self.path, limit=MAX_REQUEST)
        finally:
            os.umask(old_umask)
        return self

    async def close(self):
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        if os.path.exists(self.path):
            os.unlink(self.path)

    def dispatch(self, line):
        """One request line -> one reply dict (pure; tests call it directly)."""
        try:
            request = json.loads(line)
            if not isinstance(request, dict) or not isinstance(request.get("cmd"), str):
                raise ValueError
        except ValueError:
            return {"ok": False, "error": "request must be a JSON object with a string 'cmd'"}
        name = request.pop("cmd")
        handler = self.commands.get(name)
        if handler is None:
            return {"ok": False, "error": "unknown command %r (known: %s)" % (name, ", ".join(sorted(self.commands)))}
        try:
            return {"ok": True, "result": handler(**request)}
        except TypeError as exc:
            return {"ok": False, "error": "bad arguments for %s: %s" % (name, exc)}
        except DuskEdgeError as exc:
            return {"ok": False, "error": "%s: %s" % (type(exc).__name__, exc)}

    async def _serve(self, reader, writer):
        try:
            while True:
                try:
                    line = await asyncio.wait_for(reader.readline(), self.idle_timeout_s)
                except (asyncio.LimitOverrunError, ValueError):
                    writer.write(b'{"ok": false, "error": "request too long"}\n')
                    break
                if not line:
                    break
                reply = self.dispatch(line)
                writer.write(json.dumps(reply, default=str).encode() + b"\n")
                await writer.drain()
        except (asyncio.TimeoutError, ConnectionError):
            pass
        except Exception:  # noqa: BLE001 - a bug in one command must not take the socket down
            log.exception("status socket handler failed")
        finally:
            writer.close()
