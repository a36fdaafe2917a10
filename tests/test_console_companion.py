"""The node's CompanionPort driver and the companion firmware (its CPython-compatible modules)
talking over a real socat PTY pair in real time; the watchdog fires when the node side stops."""
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import require

pytestmark = pytest.mark.integration
serial = pytest.importorskip("serial")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "firmware"))
from companion import Companion  # noqa: E402
from pins import OutputPin  # noqa: E402
from ring import EventRing  # noqa: E402
from dusk_edge.drivers.serial_console import CompanionPort  # noqa: E402


class RecordingPin:
    def __init__(self):
        self.levels = []

    def value(self, v):
        self.levels.append(v)


class RecordingDisplay:
    def __init__(self):
        self.frames = []

    def show(self, lines):
        self.frames.append(lines)


def wait_for(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for " + what
        time.sleep(0.02)


def test_heartbeats_over_pty_and_watchdog_fires_when_node_stops(tmp_path):
    require("socat")
    a, b = str(tmp_path / "node"), str(tmp_path / "board")
    socat = subprocess.Popen(["socat", "pty,raw,echo=0,link=" + a, "pty,raw,echo=0,link=" + b],
                             stderr=subprocess.DEVNULL)
    stop_board = threading.Event()
    try:
        wait_for(lambda: os.path.exists(a) and os.path.exists(b), 10, "PTYs")
        pin, display = RecordingPin(), RecordingDisplay()
        board_uart = serial.Serial(b, 115200, timeout=0.02)
        start = time.monotonic()

        def clock():
            return int((time.monotonic() - start) * 1000)

        board = Companion(OutputPin(pin), display, EventRing(str(tmp_path / "events.bin")), now=clock(),
                          timeout_ms=800, pulse_ms=100, grace_ms=5000, max_resets=1)
        messages = []
        node = CompanionPort(a, 115200, lambda: {"height": 77, "final": 70, "peers": 2, "state": "running"},
                             messages.append, hb_interval_ms=200)
        node_thread = threading.Thread(target=node.run, daemon=True)
        node_thread.start()

        def board_loop():
            while not stop_board.is_set():
                tx = board.step(clock(), board_uart.read(4096))
                if tx:
                    board_uart.write(tx)

        board_thread = threading.Thread(target=board_loop, daemon=True)
        board_thread.start()
        wait_for(lambda: board.state == "armed", 10, "first heartbeat")
        wait_for(lambda: any(m.get("ev") == "boot" for m in messages), 10, "boot event at the node")
        assert display.frames[-1][1] == "h 77 f 70"
        armed_at = time.monotonic()
        wait_for(lambda: time.monotonic() - armed_at > 1.2, 5, "more than a timeout of heartbeats")
        assert pin.levels == [1], "watchdog fired while heartbeats flowed"
        node.stop()
        node_thread.join(5)
        stopped = time.monotonic()
        wait_for(lambda: 0 in pin.levels, 5, "reset pulse")
        assert time.monotonic() - stopped >= 0.5
        wait_for(lambda: pin.levels[-1] == 1, 5, "reset released")
        stop_board.set()
        board_thread.join(5)
        board_uart.close()
        assert [e[2].split(" ")[0] for e in board.ring.events()] == ["boot", "reset"]
    finally:
        stop_board.set()
        socat.terminate()
        socat.wait(5)
