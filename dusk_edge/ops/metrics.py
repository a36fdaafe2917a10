"""Prometheus text exposition (version 0.0.4) of the node's status, served on an opt-in port.

Only numeric and boolean leaves of the status dict become gauges: dusk_edge_<path>{...}.
"""
import asyncio

_PREFIX = "dusk_edge"


def _metric_name(parts):
    name = "_".join(p.replace("-", "_").replace(".", "_") for p in parts)
    return "%s_%s" % (_PREFIX, "".join(c if c.isalnum() or c == "_" else "_" for c in name))


def render_metrics(status):
    """Flatten a nested status dict into Prometheus text."""
    lines = []

    def walk(prefix, value):
        if isinstance(value, bool):
            value = int(value)
        if isinstance(value, (int, float)):
            name = _metric_name(prefix)
            lines.append("# TYPE %s gauge" % name)
            lines.append("%s %s" % (name, value))
        elif isinstance(value, dict):
            for key in sorted(value):
                walk(prefix + [str(key)], value[key])

    walk([], status)
    return "\n".join(lines) + "\n"


async def serve_metrics(get_status, host="127.0.0.1", port=9464):
    """A tiny HTTP/1.0 server answering GET /metrics; returns the asyncio server."""

    async def handle(reader, writer):
        try:
            request = await asyncio.wait_for(reader.readline(), timeout=5)
            while (await asyncio.wait_for(reader.readline(), timeout=5)) not in (b"\r\n", b"\n", b""):
                pass
            if request.split(b" ")[1:2] == [b"/metrics"]:
                body = render_metrics(get_status()).encode()
                head = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
            else:
                body, head = b"not found\n", b"HTTP/1.0 404 Not Found\r\nContent-Type: text/plain\r\n"
            writer.write(head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
            await writer.drain()
        except (asyncio.TimeoutError, ConnectionError, IndexError):
            pass
        finally:
            writer.close()

    return await asyncio.start_server(handle, host, port)
