"""Shared fixtures for the keys tests: a private SoftHSM2 per test session, signer processes.

Import the fixtures into a test module with `from tests.keys_fixtures import ...`.
The SoftHSM config and token directory live in the session's tmp dir, never /var/lib/softhsm.
"""
import os
import subprocess
import sys
import time

import pytest

from tests.conftest import missing_component, require

PIN = "4711-pin"
SO_PIN = "12345678"
TOKEN = "edge-node"
OTHER_TOKEN = "edge-other"
MODULE = "/usr/lib/softhsm/libsofthsm2.so"
SHARED_SECRET = bytes(range(32))
PASSPHRASE = "correct horse battery staple"


def write_softhsm_conf(directory):
    tokens = os.path.join(directory, "tokens")
    os.makedirs(tokens, exist_ok=True)
    conf = os.path.join(directory, "softhsm2.conf")
    with open(conf, "w") as f:
        f.write("directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n"
                "slots.removable = false\nslots.mechanisms = ALL\nlibrary.reset_on_fork = false\n"
                % tokens)
    return conf


def init_token(conf, label, pin=PIN):
    env = dict(os.environ, SOFTHSM2_CONF=conf)
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", label, "--so-pin", SO_PIN,
                    "--pin", pin], env=env, check=True, capture_output=True, timeout=30)


@pytest.fixture(scope="session")
def softhsm(tmp_path_factory):
    """A session-private SoftHSM2 with tokens TOKEN and OTHER_TOKEN (user PIN = PIN)."""
    require("softhsm2-util")
    try:
        import pkcs11  # noqa: F401
    except ImportError:
        missing_component("python-pkcs11 is not installed")
    if not os.path.exists(MODULE):
        missing_component("SoftHSM2 module %s is missing" % MODULE)
    directory = str(tmp_path_factory.mktemp("softhsm"))
    conf = write_softhsm_conf(directory)
    init_token(conf, TOKEN)
    init_token(conf, OTHER_TOKEN)
    previous = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = conf
    from dusk_edge.keys.pkcs11_token import rescan_tokens
    rescan_tokens(MODULE)   # the module may have been loaded with another config earlier
    yield {"conf": conf, "module": MODULE, "token": TOKEN, "other": OTHER_TOKEN, "pin": PIN,
           "dir": directory}
    if previous is None:
        os.environ.pop("SOFTHSM2_CONF", None)
    else:
        os.environ["SOFTHSM2_CONF"] = previous


def write_private(path, data):
    fd = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())
    return str(path)


def wait_for(condition, timeout=20.0, what="condition", proc=None):
    """Poll ``condition()`` until true or fail after ``timeout`` seconds (no blind sleeps)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if proc is not None and proc.poll() is not None:
            out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
            pytest.fail("%s: process exited with %s before %s\n%s" % (proc.args, proc.returncode, what, out))
        time.sleep(0.02)
    pytest.fail("timed out waiting for %s" % what)


def cli(*args, env=None, check=True, timeout=60):
    """Run `python -m dusk_edge ARGS` as a real process; returns CompletedProcess."""
    result = subprocess.run([sys.executable, "-m", "dusk_edge"] + [str(a) for a in args],
                            env=dict(os.environ, **(env or {})), capture_output=True,
                            timeout=timeout)
    if check and result.returncode != 0:
        pytest.fail("dusk-edge %s failed (%d): %s" % (" ".join(map(str, args)), result.returncode,
                                                      result.stderr.decode(errors="replace")))
    return result


def start_signer(keystore_path, guard_dir, secret_path, transport_args, env=None):
    """Start `dusk-edge signer` as a real OS process (stdout+stderr piped together)."""
    cmd = [sys.executable, "-m", "dusk_edge", "signer", "--keystore", str(keystore_path),
           "--guard-dir", str(guard_dir), "--secret-file", str(secret_path),
           "--passphrase-env", "KEYS_TEST_PASSPHRASE"] + [str(a) for a in transport_args]
    full_env = dict(os.environ, KEYS_TEST_PASSPHRASE=PASSPHRASE, **(env or {}))
    return subprocess.Popen(cmd, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def stop(proc):
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=10)
    return proc.stdout.read().decode(errors="replace") if proc.stdout else ""


def vote_message(round_, iteration, step, vote=b"\x01" + b"\xaa" * 32, prev_hash=b"\x11" * 32):
    """ConsensusHeader(prev_hash, round, iteration) || step byte || Vote (PROTOCOL.md §3.3)."""
    return prev_hash + round_.to_bytes(8, "little") + bytes([iteration, step]) + vote
