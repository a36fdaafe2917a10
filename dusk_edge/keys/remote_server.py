"""`dusk-edge signer`: serve a LocalSigner over a UNIX socket or a serial line (thin driver).

Bytes are cut into frames by core/frame.FrameDecoder (NOTE frames: the protocol is request/response
and the client retries by reconnecting), each payload goes to a remote_protocol.ServerSession.
UNIX socket: one session per connection, socket file mode 0600. Serial line: one session for the
line, reset by each hello. Signing runs in the event loop, so requests are serialised and the guard
sees them one at a time.
"""
import asyncio
import logging
import os

from dusk_edge.core import frame
from dusk_edge.keys.errors import SignerUnavailableError
from dusk_edge.keys.remote_protocol import MAX_PAYLOAD, ServerSession

log = logging.getLogger("dusk_edge.keys.signer")
READ_CHUNK = 4096


class _FrameWriter:
    def __init__(self, writer):
        self.writer = writer
        self.seq = 0

    async def send(self, payload):
        self.writer.write(frame.encode_frame(frame.KIND_NOTE, self.seq, payload))
        self.seq = (self.seq + 1) & 0xFFFF
        await self.writer.drain()


async def _serve_stream(reader, writer, session, drop_closes, name):
    decoder = frame.FrameDecoder(max_payload=MAX_PAYLOAD)
    out = _FrameWriter(writer)
    while True:
        data = await reader.read(READ_CHUNK)
        if not data:
            return
        for item in decoder.feed(data):
            replies, drop = session.receive(item.payload)
            if drop:
                log.warning("signer: rejected a request from %s (session reset)", name)
            for reply in replies:
                await out.send(reply)
            if drop and drop_closes:
                return


async def serve_unix(path, signer, secret, rng=os.urandom, ready=None):
    """Serve until cancelled. ``ready`` (an asyncio.Event) is set once the socket listens."""
    async def on_connect(reader, writer):
        session = ServerSession(secret, signer, rng, client_name="unix")
        try:
            await _serve_stream(reader, writer, session, True, "unix client")
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    if os.path.exists(path):
        os.unlink(path)
    old_umask = os.umask(0o177)
    try:
        server = await asyncio.start_unix_server(on_connect, path=path)
    finally:
        os.umask(old_umask)
    log.info("signer: listening on unix socket %s", path)
    if ready is not None:
        ready.set()
    async with server:
        await server.serve_forever()


async def serve_serial(device, signer, secret, baudrate=115200, rng=os.urandom, ready=None):
    """Serve one serial line until cancelled."""
    import serial
    import serial_asyncio_fast

    try:
        reader, writer = await serial_asyncio_fast.open_serial_connection(url=device, baudrate=baudrate)
    except (OSError, serial.SerialException) as exc:
        raise SignerUnavailableError(
            "cannot open serial line %s (%s)" % (device, type(exc).__name__)) from None
    log.info("signer: serving on serial line %s", device)
    if ready is not None:
        ready.set()
    session = ServerSession(secret, signer, rng, client_name="serial")
    try:
        await _serve_stream(reader, writer, session, False, "serial line")
    except (OSError, serial.SerialException) as exc:
        raise SignerUnavailableError(
            "serial line %s failed (%s)" % (device, type(exc).__name__)) from None
    finally:
        writer.close()
    raise SignerUnavailableError("serial line %s closed" % device)
