"""asyncio UDP driver around the sans-I/O Kadcast peer (uvloop when importable).

The driver only moves bytes and arms the one timer the core asks for. ``python -m
dusk_edge.drivers.aio_udp --listen IP:PORT [--bootstrap IP:PORT ...]`` runs a standalone peer that
prints JSON lines (ready, received) on stdout and takes commands on stdin:
``broadcast SIZE SEED`` (a deterministic payload), ``stats``, ``quit``.
"""
import argparse
import asyncio
import hashlib
import json
import random
import socket
import sys
import time

from dusk_edge.core.kadcast.config import KadcastConfig
from dusk_edge.core.kadcast.peer import Peer
from dusk_edge.crypto.fec import make_fec


def now_ms():
    return int(time.monotonic() * 1000)


def packed(host):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.inet_pton(family, host)


class KadcastDriver(asyncio.DatagramProtocol):
    def __init__(self, peer, on_event):
        self.peer = peer
        self.on_event = on_event
        self.transport = None
        self._timer = None

    def connection_made(self, transport):
        self.transport = transport
        self.pump()

    def datagram_received(self, data, addr):
        self.peer.receive_datagram(data, (packed(addr[0]), addr[1]), now_ms())
        self.pump()

    def pump(self):
        """Send what the core queued, deliver its events, re-arm its timer."""
        now = now_ms()
        for data, (ip, port) in self.peer.datagrams_to_send(now):
            host = socket.inet_ntop(socket.AF_INET6 if len(ip) == 16 else socket.AF_INET, ip)
            self.transport.sendto(data, (host, port))
        event = self.peer.next_event()
        while event is not None:
            self.on_event(event)
            event = self.peer.next_event()
        deadline = self.peer.get_timer()
        if self._timer is not None:
            self._timer.cancel()
        if deadline is not None:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(max(0, deadline - now) / 1000, self._fire)

    def _fire(self):
        self._timer = None
        self.peer.handle_timer(now_ms())
        self.pump()


async def start(peer, on_event, host, port):
    """Bind ``host:port`` and drive ``peer``; returns (transport, driver)."""
    loop = asyncio.get_running_loop()
    transport, driver = await loop.create_datagram_endpoint(
        lambda: KadcastDriver(peer, on_event), local_addr=(host, port))
    sock = transport.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 5_000_000)
    return transport, driver


def payload_for(size, seed):
    return random.Random(seed).randbytes(size)


async def main_async(args):
    host, port = args.listen.rsplit(":", 1)
    boot = [(packed(b.rsplit(":", 1)[0]), int(b.rsplit(":", 1)[1])) for b in args.bootstrap]
    config = KadcastConfig(network_id=args.network_id, pow_bits=args.pow_bits,
                           bootstrap_retry=args.bootstrap_retry)
    peer = Peer(packed(host), int(port), make_fec(args.fec), random.Random(), config, boot, now=now_ms())

    def emit(doc):
        sys.stdout.write(json.dumps(doc) + "\n")
        sys.stdout.flush()

    def on_event(ev):
        emit({"event": "received", "ray_id": ev.ray_id.hex(), "len": len(ev.payload),
              "sha256": hashlib.sha256(ev.payload).hexdigest(), "height": ev.height})

    transport, driver = await start(peer, on_event, host, int(port))
    emit({"event": "ready", "id": peer.id.hex()})
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = (await reader.readline()).decode().split()
        if not line or line[0] == "quit":
            break
        if line[0] == "broadcast":
            frame = payload_for(int(line[1]), int(line[2]))
            ray_id = peer.broadcast(frame, None, now_ms())
            driver.pump()
            emit({"event": "sent", "ray_id": ray_id.hex(), "sha256": hashlib.sha256(frame).hexdigest()})
        elif line[0] == "stats":
            emit({"event": "stats", "peers": len(peer.table), "alive": peer.table.alive_count(now_ms()),
                  "stats": peer.stats})
    transport.close()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", required=True, help="IP:PORT")
    parser.add_argument("--bootstrap", action="append", default=[], help="IP:PORT (repeatable)")
    parser.add_argument("--fec", default="raptorq", choices=["raptorq", "rs"])
    parser.add_argument("--network-id", type=lambda s: int(s, 0), default=0x45)
    parser.add_argument("--pow-bits", type=int, default=20)
    parser.add_argument("--bootstrap-retry", type=int, default=30000, help="ms")
    args = parser.parse_args(argv)
    try:
        import uvloop
        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
