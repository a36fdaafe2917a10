"""The companion firmware under real MicroPython (the npm wasm port under node), built by mpy-cross
from firmware/manifest.py, bridged to the CPython node side (CompanionLink) through
tests/firmware_runner.mjs. Time is virtual: each STEP carries `now`."""
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dusk_edge.core import cbor, frame
from dusk_edge.core.console.companion import CompanionLink
from tests.conftest import missing_component, require

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parent.parent
NPM_PREFIX = ROOT / ".cache" / "mpy"
MPY_MJS = NPM_PREFIX / "node_modules" / "@micropython" / "micropython-webassembly-pyscript" / "micropython.mjs"
STATUS = {"height": 1042, "final": 1039, "peers": 3, "state": "running"}
TIMEOUT_MS, PULSE_MS, GRACE_MS = 5000, 200, 3000  # board_bridge.start() defaults


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    require("node")
    if not MPY_MJS.exists():
        require("npm")
        subprocess.run(["npm", "install", "--prefix", str(NPM_PREFIX),
                        "@micropython/micropython-webassembly-pyscript@1.27.0"], capture_output=True, timeout=300)
        if not MPY_MJS.exists():
            missing_component("npm could not install @micropython/micropython-webassembly-pyscript")
    out = tmp_path_factory.mktemp("firmware")
    result = subprocess.run([sys.executable, str(ROOT / "firmware" / "build.py"), str(out)],
                            capture_output=True, text=True, timeout=120)
    if "mpy-cross" in result.stderr and "No module" in result.stderr:
        missing_component("mpy-cross is not installed")
    assert result.returncode == 0, result.stderr
    shutil.copy(ROOT / "firmware" / "board_bridge.py", out / "board_bridge.py")
    return out


class Board:
    """The simulated companion board process."""

    def __init__(self, bundle):
        self.proc = subprocess.Popen(["node", str(ROOT / "tests" / "firmware_runner.mjs"), str(MPY_MJS), str(bundle)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.pins, self.displays, self.tx = [], [], b""
        self.boot = self._read()

    def _read(self):
        lines = []
        while True:
            line = self.proc.stdout.readline()
            assert line, "firmware runner died: %r" % lines
            line = line.rstrip("\n")
            assert not line.startswith("ERR"), line
            if line == "OK":
                return lines
            lines.append(line)
            kind, _, rest = line.partition(" ")
            if kind == "PIN":
                self.pins.append(rest)
            elif kind == "DISPLAY":
                self.displays.append(rest)
            elif kind == "TX":
                self.tx += bytes.fromhex(rest)

    def command(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self._read()

    def step(self, now, rx=b""):
        self.command("STEP %d %s" % (now, rx.hex()))
        tx, self.tx = self.tx, b""
        return tx

    def events(self):
        return [line.split(" ", 3)[3] for line in self.command("EVENTS") if line.startswith("EVENT")]

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.write("QUIT\n")
            self.proc.stdin.close()
            self.proc.wait(10)


@pytest.fixture
def board(bundle):
    b = Board(bundle)
    yield b
    b.close()


def run(board, node, start, end, heartbeats=True, step=250, noise=None):
    """Step both sides from start to end (ms); returns the node's messages with their times."""
    messages = []
    for now in range(start, end, step):
        if heartbeats:
            messages += [(now, m) for m in node.tick(now, STATUS)]
        rx = node.data_to_send()
        if noise is not None:
            rx = noise(rx)
        messages += [(now, m) for m in node.receive_data(board.step(now, rx), now)]
    return messages


def test_heartbeats_then_watchdog_fires_and_node_comes_back(board):
    node = CompanionLink(hb_interval_ms=1000)
    assert board.pins == ["reset 1"]  # released (active-low) at boot
    messages = run(board, node, 0, 10000)
    assert [m["ev"] for _, m in messages] == ["boot"]
    assert board.pins == ["reset 1"]
    assert "h 1042 f 1039" in board.displays[-1] and "DUSK armed" in board.displays[-1]
    last_hb = 9000
    messages = run(board, node, 10000, 16000, heartbeats=False)
    assert board.pins == ["reset 1", "reset 0", "reset 1"]  # one pulse
    resets = [(t, m) for t, m in messages if m["ev"] == "reset"]
    assert len(resets) == 1
    fired_at = resets[0][0]
    assert TIMEOUT_MS <= fired_at - last_hb < TIMEOUT_MS + 250
    assert "heartbeat lost" in resets[0][1]["detail"]
    messages = run(board, node, 16000, 18000)
    assert [m["ev"] for _, m in messages] == ["node-back"]
    assert "DUSK armed" in board.displays[-1]


def test_gives_up_after_max_resets_and_events_survive_reboot(board):
    node = CompanionLink(hb_interval_ms=1000)
    run(board, node, 0, 1000)
    messages = run(board, node, 1000, 30000, heartbeats=False)
    assert [m["ev"] for _, m in messages] == ["reset", "reset", "gave-up"]  # max_resets = 2
    assert board.pins.count("reset 0") == 2 and board.pins[-1] == "reset 1"
    assert "DUSK gave-up" in board.displays[-1]
    board.command("REBOOT 40000")
    events = board.events()
    assert [e.split(" ")[0] for e in events] == ["boot", "reset", "reset", "gave-up", "boot"]


def test_garbage_half_frames_and_requests(board):
    rng = random.Random(3)
    node = CompanionLink(hb_interval_ms=1000)

    def noise(rx):
        junk = bytes(rng.randrange(256) for _ in range(rng.randrange(40)))
        half = frame.encode_frame(frame.KIND_NOTE, 9, cbor.encode({"t": "hb", "height": 1}))[:rng.randrange(1, 12)]
        return junk + half + rx if rng.random() < 0.5 else rx + junk

    messages = run(board, node, 0, 20000, noise=noise)
    assert "reset 0" not in board.pins  # heartbeats got through the noise
    assert [m["ev"] for _, m in messages] == ["boot"]
    rid = node.request("events", 20000)
    answers = []
    for now in range(20000, 23000, 250):
        answers += [m for _, m in run(board, node, now, now + 1)]
    answer = [m for m in answers if m.get("id") == rid]
    assert len(answer) == 1 and answer[0]["ok"] and answer[0]["result"][0]["text"] == "boot"
    rid = node.request("status", 23000)
    answer = [m for _, m in run(board, node, 23000, 24000) if m.get("id") == rid]
    assert answer[0]["result"]["state"] == "armed"


def test_bundle_lists_everything_the_manifest_names(bundle):
    listing = (bundle / "BUNDLE.txt").read_text().split()
    for name in ("main.py", "companion.mpy", "ring.mpy", "pins.mpy", "display.mpy", "dusk_edge/core/frame.mpy",
                 "dusk_edge/core/cbor.mpy", "dusk_edge/core/_native.mpy"):
        assert name in listing
        assert (bundle / name).stat().st_size > 0
    makefile = (ROOT / "Makefile").read_text()
    assert "firmware/build.py" in makefile


def test_make_firmware_target(tmp_path):
    require("make")
    out = tmp_path / "fw"
    result = subprocess.run(["make", "-s", "-C", str(ROOT), "firmware", "FIRMWARE_OUT=%s" % out],
                            capture_output=True, text=True, timeout=120,
                            env=dict(os.environ, VENV=os.path.dirname(os.path.dirname(sys.executable))))
    assert result.returncode == 0, result.stderr
    assert (out / "companion.mpy").exists() and (out / "BUNDLE.txt").exists()


def test_serial_core_runs_under_micropython(bundle):
    """cbor, frame and the console session on real MicroPython (firmware_core_check.py)."""
    result = subprocess.run(["node", str(ROOT / "tests" / "firmware_runner.mjs"), str(MPY_MJS), "--check", str(ROOT),
                             str(ROOT / "tests" / "firmware_core_check.py")], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "firmware_core_check: ok" in result.stdout, result.stdout + result.stderr
