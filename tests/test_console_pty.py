"""The serial console as users run it: `dusk-edge console serial` on one end of a socat PTY pair,
the stand-in node (`console demo-node`) on a UNIX socket, and a pyserial client on the other end."""
import os
import random
import signal
import subprocess
import sys
import time

import pytest

from dusk_edge.console_api import hash_passphrase
from dusk_edge.core import cbor, frame
from tests.conftest import require

pytestmark = pytest.mark.integration
serial = pytest.importorskip("serial")
PASS = "field-crew-pass"
PROMPT = b"dusk> "
LOGIN = b"passphrase: "


def wait_for(condition, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError("timed out waiting for %s" % what)


def spawn(*args):
    return subprocess.Popen([sys.executable, "-m", "dusk_edge", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGCONT)
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Line:
    """The technician's end of the cable."""

    def __init__(self, path, baud):
        self.port = serial.Serial(path, baud, timeout=0.05)
        self.seen = b""

    def send(self, data):
        self.port.write(data)

    def read_until(self, *needles, timeout=8.0):
        deadline = time.monotonic() + timeout
        while not any(n in self.seen for n in needles):
            if time.monotonic() > deadline:
                raise AssertionError("no %r in %r" % (needles, self.seen[-300:]))
            self.seen += self.port.read(4096)
        end = min(self.seen.index(n) + len(n) for n in needles if n in self.seen)
        head, self.seen = self.seen[:end], self.seen[end:]
        return head

    def command(self, line):
        self.send(line.encode() + b"\r")
        return self.read_until(PROMPT).decode("ascii")

    def close(self):
        self.port.close()


class Rig:
    def __init__(self, tmp_path, baud=9600, max_failures=3, lockout_s=2):
        require("socat")
        self.tmp = tmp_path
        self.a, self.b = str(tmp_path / "ttyA"), str(tmp_path / "ttyB")
        self.sock = str(tmp_path / "node.sock")
        passfile = tmp_path / "console.pass"
        passfile.write_text(hash_passphrase(PASS, n=2**12))
        self.node = spawn("console", "demo-node", "--socket", self.sock, "--board", "pi4")
        self.socat = None
        self.start_socat()
        wait_for(lambda: os.path.exists(self.sock), what="demo node socket")
        self.console = spawn("console", "serial", "--port", self.a, "--baud", str(baud), "--socket", self.sock,
                             "--passphrase-file", str(passfile), "--max-failures", str(max_failures),
                             "--lockout-s", str(lockout_s), "--node-timeout", "1")
        self.baud = baud
        self.line = None

    def start_socat(self):
        self.socat = subprocess.Popen(["socat", "pty,raw,echo=0,link=%s" % self.a, "pty,raw,echo=0,link=%s" % self.b],
                                      stderr=subprocess.DEVNULL)
        wait_for(lambda: os.path.exists(self.a) and os.path.exists(self.b), what="socat PTYs")

    def connect(self):
        self.line = Line(self.b, self.baud)
        self.line.send(b"\r")
        self.line.read_until(LOGIN)
        return self.line

    def login(self):
        line = self.connect()
        line.send(PASS.encode() + b"\r")
        out = line.read_until(PROMPT)
        assert b"welcome" in out and PASS.encode() not in out
        return line

    def close(self):
        if self.line:
            self.line.close()
        for proc in (self.console, self.socat, self.node):
            if proc is not None:
                stop(proc)
        assert self.console.returncode in (0, -signal.SIGTERM), self.console.stderr.read()


@pytest.fixture
def rig(tmp_path):
    rig = Rig(tmp_path)
    yield rig
    rig.close()


def test_login_and_every_command_at_9600_baud(rig):
    line = rig.login()
    checks = {
        "help": "keys status", "status": "caps.mempool_max_txs: 5000", "peers": "latency_ms=30",
        "blocks 3": "height=1040", "stake": "reward: 1234", "log tail 2": "line 299", "config get": "log.level: info",
        "config get peers.max": "peers.max: 200", "config set log.level debug": "log.level: debug",
        "config set peers.max 2": "error: peers.max must be an integer in 8..1000", "keys status": "signing: unlocked",
        "restart": "restart requested", "shutdown": "shutdown requested", "bogus": "error: unknown command",
        "store resync 10": "store resync requested", "clock set 1800000000": "clock set requested",
    }
    for command, needle in checks.items():
        out = line.command(command)
        assert needle in out, (command, out)
        assert all(c in "\r\n\x08" or 32 <= ord(c) < 127 for c in out)
    assert "log.level: debug" in line.command("config get log.level")
    line.send(b"logout\r")
    line.read_until(LOGIN)


def test_lockout_is_time_limited(rig):
    line = rig.connect()
    for i in range(3):
        line.send(b"wrong%d\r" % i)
        out = line.read_until(LOGIN)
    assert b"locked for 2 s" in out
    started = time.monotonic()
    line.send(PASS.encode() + b"\r")
    assert b"locked: try again" in line.read_until(LOGIN)  # right passphrase refused while locked
    while True:  # poll until the lock-out ends; it must end, and not before ~2 s
        line.send(PASS.encode() + b"\r")
        if b"welcome" in line.read_until(PROMPT, LOGIN):
            break
        assert time.monotonic() - started < 10
        time.sleep(0.2)
    assert time.monotonic() - started >= 1.5


def test_noise_garbage_and_half_frames_never_wedge(rig):
    line = rig.login()
    rng = random.Random(7)
    half = frame.encode_frame(frame.KIND_DATA, 3, cbor.encode({"cmd": "status", "args": []}))[:9]
    for _ in range(5):
        line.send(bytes(rng.randrange(256) for _ in range(200)).replace(b"\r", b"").replace(b"\n", b""))
        line.send(half)  # a frame header, then the sender dies
    started = time.monotonic()
    while True:  # the last half frame expires (1 s of silence, 6 s at most) or is overrun
        line.seen = b""
        line.send(b"\x03status\r")
        try:
            if b"height: 1042" in line.read_until(b"height: 1042", timeout=0.7):
                break
        except AssertionError:
            assert time.monotonic() - started < 10, "console wedged"
    assert rig.console.poll() is None


def test_machine_mode_over_pty(rig):
    line = rig.connect()
    client = frame.FrameLink(initial_seq=1234, max_payload=frame.HARD_MAX_PAYLOAD)

    def request(rid, cmd, *args):
        client.send(cbor.encode({"id": rid, "cmd": cmd, "args": list(args)}), 0)
        line.send(client.data_to_send())
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:
            for f in client.receive_data(line.port.read(4096), 0):
                line.send(client.data_to_send())
                return cbor.decode(f.payload)
        raise AssertionError("no response to %s" % cmd)

    assert request(1, "status") == {"id": 1, "ok": False, "error": "login required"}
    assert request(2, "login", PASS)["ok"] is True
    status = request(3, "status")["result"]
    assert status["board"] == "pi4" and status["caps"]["peers_max"] == 200
    assert len(request(4, "log tail", "50")["result"]) == 50
    assert request(5, "exit")["ok"] is True
    line.seen = b""
    assert "height: 1042" in line.command("status")


def test_disconnect_and_reconnect(rig):
    line = rig.login()
    assert "height: 1042" in line.command("status")
    line.close()
    rig.line = None
    stop(rig.socat)  # the cable (USB adapter) goes away ...
    for p in (rig.a, rig.b):
        if os.path.lexists(p):
            os.unlink(p)
    rig.start_socat()  # ... and comes back
    line = rig.connect()  # a new connection starts logged out
    line.send(PASS.encode() + b"\r")
    assert b"welcome" in line.read_until(PROMPT)
    assert "peers: 3" in line.command("status")
    assert rig.console.poll() is None


def test_console_answers_while_node_hangs(rig):
    line = rig.login()
    rig.node.send_signal(signal.SIGSTOP)
    try:
        out = line.command("status")
        assert "error: node socket" in out or "node not responding" in out or "timed out" in out, out
        assert "error:" in line.command("peers")
    finally:
        rig.node.send_signal(signal.SIGCONT)
    assert "height: 1042" in line.command("status")
