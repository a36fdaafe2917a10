"""The console core (parser, login gate, session in line and machine mode) on a virtual clock."""
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dusk_edge.console_api import InProcessNodeControl, demo_state, hash_passphrase, make_verifier
from dusk_edge.core import cbor, frame
from dusk_edge.core.console import login
from dusk_edge.core.console.commands import COMMANDS, CommandError, parse_line, validate_config
from dusk_edge.core.console.session import LOGIN_PROMPT, PROMPT, Session
from dusk_edge.core.errors import ConfigError

pytestmark = pytest.mark.twin
PASS = "correct horse"


def make_gate(**kw):
    record = login.hash_passphrase_sha256i(PASS, b"saltsalt", 1000)
    return login.LoginGate(lambda p: login.verify_sha256i(record, p), **kw)


def make_session(gate=None, control=None, **kw):
    control = control or InProcessNodeControl(demo_state())
    return Session(control, gate=gate, now=0, **kw), control


def type_line(session, line, now=0):
    session.data_to_send()
    session.receive_data(line.encode() + b"\r\n", now)
    return session.data_to_send().decode("ascii")


def test_parse_line():
    assert parse_line("   ") is None
    cmd = parse_line("CONFIG set log.level debug")
    assert (cmd.name, cmd.args) == ("config set", ["log.level", "debug"])
    assert parse_line("log tail").name == "log tail"
    assert parse_line("blocks 3").args == ["3"]
    for bad in ("frobnicate", "config", "config nope", "status extra", "blocks 1 2", "x " * 9, "a" * 201):
        with pytest.raises(CommandError):
            parse_line(bad)


def test_validate_config():
    assert validate_config("peers.max", "50") == 50
    assert validate_config("log.json", "on") is True
    assert validate_config("log.level", "debug") == "debug"
    for key, value in (("peers.max", "7"), ("peers.max", "x"), ("log.level", "loud"), ("log.json", "maybe"),
                       ("node.name", "has space"), ("node.name", "x" * 33), ("no.such", "1")):
        with pytest.raises(ConfigError) as err:
            validate_config(key, value)
        assert key in str(err.value)


def test_sha256i_and_scrypt_records():
    record = login.hash_passphrase_sha256i("pw", b"12345678", 1000)
    assert login.verify_sha256i(record, "pw") and not login.verify_sha256i(record, "pW")
    import hashlib
    expected = hashlib.sha256(b"12345678pw").digest()
    for _ in range(999):
        expected = hashlib.sha256(expected + b"12345678pw").digest()
    assert record.split("$")[3] == expected.hex()  # independent recomputation with hashlib
    verify = make_verifier(hash_passphrase("pw", n=2**10))
    assert verify("pw") and not verify("px")
    for bad in ("", "scrypt$1$2", "sha256i$x$00$00", "md5$abc"):
        with pytest.raises(ConfigError):
            make_verifier(bad)


def test_lockout_is_time_limited_and_doubles():
    gate = make_gate(max_failures=3, lockout_ms=1000, max_lockout_ms=3000)
    for i in range(2):
        assert gate.attempt("wrong", 0)[0] is False
    ok, msg = gate.attempt("wrong", 0)
    assert not ok and "locked for 1 s" in msg
    ok, msg = gate.attempt(PASS, 500)  # the right passphrase is refused while locked
    assert not ok and msg.startswith("locked")
    assert gate.attempt(PASS, 1000) == (True, "welcome")
    for _ in range(3):
        gate.attempt("wrong", 2000)
    assert gate.locked_for(2000) == 1000  # reset by the success
    for _ in range(3):
        gate.attempt("wrong", 3000)
    assert gate.locked_for(3000) == 2000  # doubled
    for _ in range(3):
        gate.attempt("wrong", 5000)
    for _ in range(3):
        gate.attempt("wrong", 8000)
    assert gate.locked_for(8000) == 3000  # capped


def test_login_then_every_command():
    session, control = make_session(make_gate())
    assert session.data_to_send().decode().endswith(LOGIN_PROMPT)
    out = type_line(session, "status")  # a command before login is a wrong passphrase
    assert "wrong passphrase" in out
    out = type_line(session, PASS)
    assert PASS not in out and "welcome" in out and out.endswith(PROMPT)
    expectations = {
        "help": "config set <key> <value>", "status": "height: 1042", "peers": "addr=127.0.0.3:9000",
        "blocks 2": "height=1041", "stake": "eligible_since: 20", "log tail 3": "line 299: block accepted",
        "config get": "node.name: edge-1", "config get peers.max": "peers.max: 200",
        "config set peers.max 64": "peers.max: 64", "keys status": "backend: keystore",
        "restart": "restart requested", "shutdown": "shutdown requested",
        "help config set": "change a config value",
    }
    for line, needle in expectations.items():
        out = type_line(session, line)
        assert needle in out, (line, out)
        assert out.endswith(PROMPT)
        assert all(c in "\r\n" or 32 <= ord(c) < 127 for c in out)
    assert "blocks 2" in COMMANDS["blocks"][2] or True
    assert control.state["config"]["peers.max"] == 64
    assert control.state["requests"] == ["restart", "shutdown"]
    for line in ("store check", "store repair", "store resync 100", "snapshot restore", "clock set 1800000000",
                 "log export"):
        assert "requested" in type_line(session, line), line
    assert control.state["requests"][2:] == ["store check", "store repair", "store resync 100", "snapshot restore",
                                             "clock set 1800000000", "log export"]
    assert "error: clock set: argument must be an integer" in type_line(session, "clock set 12")
    assert "error: store needs a subcommand" in type_line(session, "store")
    assert "error: peers.max must be an integer in 8..1000" in type_line(session, "config set peers.max 5")
    assert "error: n must be a number" in type_line(session, "blocks 999")
    assert len(type_line(session, "log tail 200").split("\r\n")) > 200
    out = type_line(session, "logout")
    assert "logged out" in out and out.endswith(LOGIN_PROMPT)


def test_lockout_through_session_survives_reconnect():
    gate = make_gate(max_failures=2, lockout_ms=30000)
    s1, _ = make_session(gate)
    type_line(s1, "bad1")
    assert "locked for 30 s" in type_line(s1, "bad2")
    s2, _ = make_session(gate)  # a new connection shares the gate
    assert "locked" in type_line(s2, PASS, now=1000)
    assert "welcome" in type_line(s2, PASS, now=30000)


def test_line_editing_and_noise():
    session, _ = make_session()
    session.data_to_send()
    session.receive_data(b"\x00\xff\x1b[Astatsu\x08\x08us\r\n", 0)
    out = session.data_to_send().decode("ascii")
    assert "height: 1042" in out and session.noise_bytes >= 3
    session.receive_data(b"garbage\x03status\n", 0)
    assert "height: 1042" in session.data_to_send().decode()
    session.receive_data(b"x" * 500 + b"\r\n", 0)
    assert "line too long" in session.data_to_send().decode()


def test_idle_logout():
    session, _ = make_session(make_gate(), idle_logout_ms=5000)
    type_line(session, PASS)
    assert session.get_timer() == 5000
    session.handle_timer(5000)
    assert "idle: logged out" in session.data_to_send().decode() and not session.logged_in


def test_failing_node_does_not_crash_session():
    class Broken(InProcessNodeControl):
        def status(self):
            raise OSError("socket gone")

    session, _ = make_session(control=Broken(demo_state()))
    assert "error: node error (OSError): socket gone" in type_line(session, "status")
    assert "height=1042" in type_line(session, "blocks 1")


class MachineClient:
    def __init__(self):
        self.link = frame.FrameLink(initial_seq=500)
        self.next_id = 1

    def request(self, session, cmd, *args, now=0):
        rid = self.next_id
        self.next_id += 1
        self.link.send(cbor.encode({"id": rid, "cmd": cmd, "args": list(args)}), now)
        session.receive_data(self.link.data_to_send(), now)
        got = self.link.receive_data(session.data_to_send(), now)
        session.receive_data(self.link.data_to_send(), now)  # our ACK
        responses = [cbor.decode(f.payload) for f in got]
        assert [r["id"] for r in responses] == [rid]
        return responses[0]


def test_machine_mode_login_and_commands():
    session, control = make_session(make_gate())
    client = MachineClient()
    assert client.request(session, "status")["error"] == "login required"
    assert session.machine
    assert client.request(session, "login", "nope")["ok"] is False
    assert client.request(session, "login", PASS)["ok"] is True
    assert client.request(session, "status")["result"]["height"] == 1042
    assert len(client.request(session, "blocks", "3")["result"]) == 3
    assert client.request(session, "config set", "log.level", "debug")["result"] == {"log.level": "debug"}
    bad = client.request(session, "config set", "log.level", "loud")
    assert bad["ok"] is False and "log.level must be one of" in bad["error"]
    assert client.request(session, "nope")["ok"] is False
    assert client.request(session, "exit")["ok"] is True and not session.machine
    assert "height: 1042" in type_line(session, "status")


def test_machine_mode_bad_payloads_answered():
    session, _ = make_session()
    client = frame.FrameLink(max_payload=4096)
    for payload in (b"\xff", cbor.encode([1, 2]), cbor.encode({"cmd": 5}), cbor.encode({"cmd": "blocks", "args": [3]})):
        client.send(payload, 0)
        session.receive_data(client.data_to_send(), 0)
        replies = [cbor.decode(f.payload) for f in client.receive_data(session.data_to_send(), 0)]
        session.receive_data(client.data_to_send(), 0)
        assert len(replies) == 1 and replies[0]["ok"] is False


def test_duplicate_request_runs_once():
    session, control = make_session()
    request = frame.encode_frame(frame.KIND_DATA, 77, cbor.encode({"id": 1, "cmd": "restart", "args": []}))
    session.receive_data(request, 0)
    session.receive_data(request, 10)  # our ACK was lost; the client resent
    assert control.state["requests"] == ["restart"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=40), max_size=12), st.integers(0, 2**32))
def test_fuzz_session_never_raises(chunks, seed):
    rng = random.Random(seed)
    session, _ = make_session(make_gate(max_failures=3))
    now = 0
    for chunk in chunks:
        if rng.random() < 0.3:
            chunk += frame.encode_frame(0, rng.randrange(65536), cbor.encode({"cmd": "status"}))[: rng.randrange(30)]
        session.receive_data(chunk, now)
        session.data_to_send()
        now += rng.randrange(5000)
        if session.get_timer() is not None and now >= session.get_timer():
            session.handle_timer(now)
    assert isinstance(session.data_to_send(), bytes)
