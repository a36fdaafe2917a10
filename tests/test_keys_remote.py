"""Remote signer as real OS processes: over a UNIX socket and over a socat PTY pair, with mutual
authentication, replay rejection, the guard surviving `kill -9`, a second instance refused, and no
secret in any captured output."""
import json
import logging
import os
import socket
import subprocess
import threading

import pytest

from dusk_edge.core import cbor, frame
from dusk_edge.crypto import bls
from dusk_edge.keys.audit import read_audit
from dusk_edge.keys.errors import DoubleSignError, SignerAuthError, SignerUnavailableError
from dusk_edge.keys.keystore import open_keystore
from dusk_edge.keys.remote_client import RemoteSigner, SerialTransport, UnixTransport
from dusk_edge.keys.remote_protocol import ClientSession
from tests.conftest import require
from tests.keys_fixtures import (PASSPHRASE, SHARED_SECRET, cli, start_signer, stop, vote_message,
                                 wait_for, write_private)

pytestmark = pytest.mark.integration


class OutputCollector:
    """Reads a process's combined output on a thread (a full pipe must never block the signer)."""

    def __init__(self, proc):
        self.proc = proc
        self.lines = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        for line in iter(self.proc.stdout.readline, b""):
            self.lines.append(line.decode(errors="replace"))

    def text(self):
        return "".join(self.lines)

    def wait_for(self, needle, timeout=30):
        wait_for(lambda: needle in self.text() or self.proc.poll() is not None, timeout, repr(needle))
        if needle not in self.text():
            self.thread.join(5)
            pytest.fail("signer exited (%s) before %r:\n%s" % (self.proc.returncode, needle, self.text()))


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    d = tmp_path_factory.mktemp("remote")
    keystore_path = d / "keystore.json"
    out = cli("keys", "generate", "--keystore", keystore_path, "--passphrase-env", "KP",
              "--scrypt-n", "1024", env={"KP": PASSPHRASE})
    public_key = bytes.fromhex(json.loads(out.stdout)["public_key"])
    secret_path = write_private(d / "signer.secret", SHARED_SECRET.hex() + "\n")
    key = open_keystore(str(keystore_path), PASSPHRASE)
    outputs = [out.stdout.decode() + out.stderr.decode()]
    yield {"dir": d, "keystore": keystore_path, "secret": secret_path, "public_key": public_key,
           "secret_key": key.secret_key, "outputs": outputs}
    everything = "".join(outputs)
    for secret in (PASSPHRASE, SHARED_SECRET.hex(), key.secret_key.hex()):
        assert secret not in everything, "a secret leaked into process output"


def _run_signer(setup, guard_dir, transport_args):
    proc = start_signer(setup["keystore"], guard_dir, setup["secret"], transport_args)
    return proc, OutputCollector(proc)


def _finish(setup, proc, collector):
    stop(proc)
    collector.thread.join(5)
    setup["outputs"].append(collector.text())
    return collector.text()


def test_unix_socket_signing_and_kill9_restart(setup, tmp_path):
    sock = str(tmp_path / "signer.sock")
    guard_dir = tmp_path / "guard"
    proc, out = _run_signer(setup, guard_dir, ["--unix", sock])
    try:
        out.wait_for("listening on unix socket")
        assert oct(os.stat(sock).st_mode & 0o777) == "0o600"
        remote = RemoteSigner(UnixTransport(sock), SHARED_SECRET)
        assert remote.public_key() == setup["public_key"]
        msg = vote_message(10, 0, 1)
        sig = remote.sign_vote(10, 0, 1, msg)
        assert bls.verify_multisig([setup["public_key"]], msg, sig)
        seed = remote.sign_seed(10, b"\x09" * 48)
        assert bls.verify_multisig([setup["public_key"]], b"\x09" * 48, seed)
        cand = remote.sign_candidate(10, 0, b"\x08" * 32)
        assert bls.verify_multisig([setup["public_key"]], b"\x08" * 32, cand)
        remote.close()
    finally:
        proc.kill()                      # kill -9: no clean shutdown, no flush beyond the fsync
        _finish(setup, proc, out)
    assert proc.returncode == -9

    proc, out = _run_signer(setup, guard_dir, ["--unix", sock])
    try:
        out.wait_for("listening on unix socket")
        remote = RemoteSigner(UnixTransport(sock), SHARED_SECRET)
        with pytest.raises(DoubleSignError):
            remote.sign_vote(10, 0, 1, vote_message(10, 0, 1, vote=b"\x00"))
        with pytest.raises(DoubleSignError):
            remote.sign_candidate(10, 0, b"\x07" * 32)
        assert remote.sign_vote(10, 0, 1, msg) == sig       # identical re-request: same signature
        assert remote.prune_below(5) == 0
        remote.close()
        # A second signer on the same key directory refuses to start.
        second = subprocess.run(start_signer(setup["keystore"], guard_dir, setup["secret"],
                                             ["--unix", str(tmp_path / "other.sock")]).args,
                                env=dict(os.environ, KEYS_TEST_PASSPHRASE=PASSPHRASE),
                                capture_output=True, timeout=60)
        assert second.returncode == 2 and b"DuplicateInstanceError" in second.stderr
        setup["outputs"].append(second.stdout.decode() + second.stderr.decode())
    finally:
        _finish(setup, proc, out)
    audit = read_audit(str(guard_dir / "audit.log"))
    assert [(a["kind"], a["repeat"]) for a in audit] == [
        ("vote", False), ("seed", False), ("candidate", False), ("vote", True)]


def _raw_exchange(sock, payload, decoder):
    sock.sendall(frame.encode_frame(frame.KIND_NOTE, 0, payload))
    while True:
        data = sock.recv(4096)
        if not data:
            return None
        frames = decoder.feed(data)
        if frames:
            return frames[0].payload


def test_unix_socket_rejects_unauthenticated_replayed_and_wrong_secret(setup, tmp_path):
    sock_path = str(tmp_path / "signer.sock")
    proc, out = _run_signer(setup, tmp_path / "guard", ["--unix", sock_path])
    try:
        out.wait_for("listening on unix socket")
        # 1. A request without a handshake.
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(10)
        s.connect(sock_path)
        reply = _raw_exchange(s, cbor.encode({"t": "req", "seq": 1, "op": "sign_seed", "round": 1,
                                              "seed": b"\0" * 48, "mac": b"\0" * 32}),
                              frame.FrameDecoder())
        assert cbor.decode(reply)["error"] == "SignerAuthError"
        assert s.recv(10) == b""                       # and the connection is closed
        s.close()
        # 2. A recorded request replayed on the same connection.
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(10)
        s.connect(sock_path)
        decoder = frame.FrameDecoder()
        client = ClientSession(SHARED_SECRET, os.urandom)
        challenge = _raw_exchange(s, client.hello(), decoder)
        client.on_ready(_raw_exchange(s, client.on_challenge(challenge), decoder))
        request = client.request("sign_seed", round=2, seed=b"\x05" * 48)
        assert client.on_response(_raw_exchange(s, request, decoder))["sig"]
        reply = _raw_exchange(s, request, decoder)
        assert cbor.decode(reply)["error"] == "ReplayError"
        s.close()
        # 3. The same request replayed on a new authenticated connection.
        remote = RemoteSigner(UnixTransport(sock_path), SHARED_SECRET)
        remote.connect()
        reply = _raw_exchange(remote.transport.sock, request, decoder)
        assert cbor.decode(reply)["error"] == "SignerAuthError"
        remote.close()
        # 4. A client with the wrong secret.
        with pytest.raises(SignerAuthError):
            RemoteSigner(UnixTransport(sock_path), b"w" * 32).connect()
    finally:
        text = _finish(setup, proc, out)
    assert text.count("rejected a request") == 3
    assert len(read_audit(str(tmp_path / "guard" / "audit.log"))) == 1


def test_unreachable_signer_is_a_named_error(tmp_path):
    with pytest.raises(SignerUnavailableError):
        RemoteSigner(UnixTransport(str(tmp_path / "absent.sock"), timeout=1), SHARED_SECRET).public_key()


@pytest.fixture
def pty_pair(tmp_path):
    require("socat")
    a, b = str(tmp_path / "ttyA"), str(tmp_path / "ttyB")
    proc = subprocess.Popen(["socat", "pty,raw,echo=0,link=%s" % a, "pty,raw,echo=0,link=%s" % b],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: os.path.exists(a) and os.path.exists(b), 10, "socat PTYs")
    yield a, b
    proc.terminate()
    proc.wait(10)


def test_serial_line_over_pty(setup, tmp_path, pty_pair):
    line_a, line_b = pty_pair
    proc, out = _run_signer(setup, tmp_path / "guard", ["--serial", line_a])
    try:
        out.wait_for("serving on serial line")
        remote = RemoteSigner(SerialTransport(line_b, timeout=5), SHARED_SECRET)
        assert remote.public_key() == setup["public_key"]
        msg = vote_message(20, 1, 2)
        sig = remote.sign_vote(20, 1, 2, msg)
        assert bls.verify_multisig([setup["public_key"]], msg, sig)
        with pytest.raises(DoubleSignError):
            remote.sign_vote(20, 1, 2, vote_message(20, 1, 2, vote=b"\x03"))
        # Line noise between frames is skipped by the frame decoder.
        remote.transport.write(b"\x00garbage\xd5\x4e\x01")
        assert remote.sign_seed(20, b"\x01" * 48)
        remote.close()
        # A client with the wrong secret is refused on the serial line too.
        with pytest.raises(SignerAuthError):
            RemoteSigner(SerialTransport(line_b, timeout=5), b"q" * 32).connect()
        # and a legitimate client can still connect afterwards (hello resets the line's session)
        again = RemoteSigner(SerialTransport(line_b, timeout=5), SHARED_SECRET)
        assert again.sign_vote(20, 1, 2, msg) == sig
        again.close()
    finally:
        _finish(setup, proc, out)


def test_no_secret_in_in_process_logs(setup, tmp_path, caplog, capfd):
    """Drive every failure path in-process with logging at DEBUG; nothing secret is printed."""
    from dusk_edge.keys import keystore
    from dusk_edge.keys.errors import KeyCustodyError
    caplog.set_level(logging.DEBUG)
    messages = []
    for attempt in (lambda: keystore.open_keystore(str(setup["keystore"]), "wrong " + PASSPHRASE),
                    lambda: RemoteSigner(UnixTransport(str(tmp_path / "x.sock"), 1), SHARED_SECRET).connect()):
        with pytest.raises(KeyCustodyError) as info:
            attempt()
        messages.append(str(info.value) + repr(info.value))
        logging.getLogger("dusk_edge").info("failure: %s", info.value)
    key = keystore.open_keystore(str(setup["keystore"]), PASSPHRASE)
    logging.getLogger("dusk_edge").debug("unlocked %r", key)
    captured = capfd.readouterr()
    everything = caplog.text + captured.out + captured.err + "".join(messages)
    for secret in (PASSPHRASE, SHARED_SECRET.hex(), setup["secret_key"].hex()):
        assert secret not in everything


def test_every_released_signature_survives_kill9_mid_stream(setup, tmp_path):
    """kill -9 while a client is signing as fast as it can: after restart every signature the
    client received is still guarded (conflicts refused, identical requests answered the same)."""
    sock = str(tmp_path / "signer.sock")
    guard_dir = tmp_path / "guard"
    proc, out = _run_signer(setup, guard_dir, ["--unix", sock])
    received = []
    try:
        out.wait_for("listening on unix socket")
        remote = RemoteSigner(UnixTransport(sock, timeout=5), SHARED_SECRET)
        remote.connect()

        def sign_forever():
            r = 100
            while True:
                r += 1
                try:
                    received.append((r, remote.sign_vote(r, 0, 1, vote_message(r, 0, 1))))
                except SignerUnavailableError:
                    return
        worker = threading.Thread(target=sign_forever, daemon=True)
        worker.start()
        wait_for(lambda: len(received) >= 25, 30, "25 signatures")
        proc.kill()
        worker.join(10)
        assert not worker.is_alive()
    finally:
        _finish(setup, proc, out)
    proc, out = _run_signer(setup, guard_dir, ["--unix", sock])
    try:
        out.wait_for("listening on unix socket")
        remote = RemoteSigner(UnixTransport(sock), SHARED_SECRET)
        for r, sig in received:
            with pytest.raises(DoubleSignError):
                remote.sign_vote(r, 0, 1, vote_message(r, 0, 1, vote=b"\x00"))
        for r, sig in received[-3:]:
            assert remote.sign_vote(r, 0, 1, vote_message(r, 0, 1)) == sig
        remote.close()
    finally:
        _finish(setup, proc, out)
