"""Serial drivers: the console (tty <-> core console Session) and the companion-board port
(tty <-> CompanionLink heartbeats and events).

The loop is aiorepl-style plumbing and nothing else: read what the line has (50 ms timeout),
feed it with `now`, run the session's timer when due, write what it produced. A vanished device
(USB adapter unplugged, PTY closed) ends the connection; the driver reopens the port every
`reopen_s` until it is back and starts a fresh, logged-out session. The LoginGate lives outside
the session, so lock-outs survive reconnects. A write that cannot drain in `write_timeout_s`
(flow control stuck) is dropped rather than wedging the console.
"""
import logging
import threading
import time

import serial

from dusk_edge.core.console.companion import CompanionLink

log = logging.getLogger("dusk_edge.serial_console")
BAUD_RATES = (9600, 19200, 38400, 57600, 115200, 230400)


def monotonic_ms():
    return time.monotonic_ns() // 1_000_000


class SerialConsole:
    def __init__(self, port, baudrate, make_session, reopen_s=1.0, read_timeout_s=0.05,
                 write_timeout_s=2.0, clock=monotonic_ms):
        if baudrate not in BAUD_RATES:
            raise ValueError("baud rate must be one of %s" % ", ".join(map(str, BAUD_RATES)))
        self.port = port
        self.baudrate = baudrate
        self.make_session = make_session  # callable(now) -> Session
        self.reopen_s = reopen_s
        self.read_timeout_s = read_timeout_s
        self.write_timeout_s = write_timeout_s
        self.clock = clock
        self.stop_event = threading.Event()
        self.connections = 0
        self.dropped_writes = 0

    def stop(self):
        self.stop_event.set()

    def run(self):
        """Serve the port until stop(); never returns on I/O errors."""
        while not self.stop_event.is_set():
            link = self._open()
            if link is None:
                self.stop_event.wait(self.reopen_s)
                continue
            self.connections += 1
            try:
                self._serve(link)
            except (serial.SerialException, OSError) as exc:
                log.warning("serial console %s lost: %s", self.port, exc)
            finally:
                link.close()
            self.stop_event.wait(self.reopen_s / 4)

    def _open(self):
        try:
            return serial.Serial(self.port, self.baudrate, timeout=self.read_timeout_s,
                                 write_timeout=self.write_timeout_s, exclusive=True)
        except (serial.SerialException, OSError, ValueError) as exc:
            log.debug("cannot open %s: %s", self.port, exc)
            return None

    def _serve(self, link):
        session = self.make_session(self.clock())
        self._flush(link, session)
        while not self.stop_event.is_set():
            data = link.read(max(1, min(link.in_waiting, 4096)))
            now = self.clock()
            if data:
                session.receive_data(data, now)
            deadline = session.get_timer()
            if deadline is not None and now >= deadline:
                session.handle_timer(now)
            self._flush(link, session)
            if session.closed:
                session = self.make_session(now)
                self._flush(link, session)

    def _flush(self, link, session):
        out = session.data_to_send()
        if not out:
            return
        try:
            link.write(out)
        except serial.SerialTimeoutException:
            self.dropped_writes += 1


class CompanionPort(SerialConsole):
    """The node's UART to the companion board: a heartbeat from ``status_fn()`` (dict) every
    hb_interval_ms; each message from the board (events, answers) goes to ``on_message``."""

    def __init__(self, port, baudrate, status_fn, on_message, hb_interval_ms=5000, **kw):
        super().__init__(port, baudrate, None, **kw)
        self.status_fn = status_fn
        self.on_message = on_message
        self.hb_interval_ms = hb_interval_ms

    def _serve(self, link):
        companion = CompanionLink(self.hb_interval_ms, initial_seq=int(time.time()) & 0xFFFF)
        while not self.stop_event.is_set():
            data = link.read(max(1, min(link.in_waiting, 4096)))
            now = self.clock()
            messages = companion.receive_data(data, now) if data else []
            messages += companion.tick(now, self.status_fn())
            for message in messages:
                self.on_message(message)
            out = companion.data_to_send()
            if out:
                try:
                    link.write(out)
                except serial.SerialTimeoutException:
                    self.dropped_writes += 1
