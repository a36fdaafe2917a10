"""Key custody benchmarks (issue 8): bench/results/keys.json.

Signing latency of one consensus vote, each with the double-sign guard's fsync (and the audit log):
local key in RAM, SoftHSM-wrapped key (unwrapped once into RAM; the unwrap is timed separately),
remote signer as a real process over a UNIX socket and over a socat PTY pair. Baseline: the bare
BLS multisig signature with no guard, measured in the same run. Every figure is also a ratio
against it. Budget: well inside the 1 s devnet step (PROTOCOL.md timeouts / 5).
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

from bench.common import median_ms, write_results
from dusk_edge.crypto import bls
from dusk_edge.keys import keystore
from dusk_edge.keys.audit import AuditLog
from dusk_edge.keys.guard import DoubleSignGuard
from dusk_edge.keys.remote_client import RemoteSigner, SerialTransport, UnixTransport
from dusk_edge.keys.signer import LocalSigner

RUNS = 7
INNER = 20
SECRET = os.urandom(32)
PASSPHRASE = "bench passphrase"
PIN = "bench-pin"
MODULE = "/usr/lib/softhsm/libsofthsm2.so"


def vote(round_):
    return b"\x11" * 32 + round_.to_bytes(8, "little") + bytes([0, 1]) + b"\x01" + b"\x22" * 32


class RoundCounter:
    """Each timed call signs a fresh slot, so the guard really appends and fsyncs."""

    def __init__(self, signer, start=1):
        self.signer = signer
        self.round = start

    def __call__(self):
        self.round += 1
        return self.signer.sign_vote(self.round, 0, 1, vote(self.round))


def _wait(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise RuntimeError("timed out waiting for " + what)


def _start_signer(work, name, transport_args):
    guard_dir = os.path.join(work, name)
    cmd = [sys.executable, "-m", "dusk_edge", "signer", "--keystore", os.path.join(work, "ks.json"),
           "--guard-dir", guard_dir, "--secret-file", os.path.join(work, "secret"),
           "--passphrase-env", "BENCH_PASSPHRASE"] + transport_args
    log = open(os.path.join(work, name + ".log"), "wb")
    proc = subprocess.Popen(cmd, env=dict(os.environ, BENCH_PASSPHRASE=PASSPHRASE), stdout=log,
                            stderr=subprocess.STDOUT)
    needle = b"listening on unix socket" if "--unix" in transport_args else b"serving on serial line"
    _wait(lambda: needle in open(log.name, "rb").read() or proc.poll() is not None, 60, name)
    if proc.poll() is not None:
        raise RuntimeError("%s signer exited: %s" % (name, open(log.name, "rb").read().decode()))
    return proc


def _softhsm(work, key):
    """Seal ``key`` in a private SoftHSM token; returns (unwrap_ms, unwrapped key) or None."""
    if not (shutil.which("softhsm2-util") and os.path.exists(MODULE)):
        return None
    tokens = os.path.join(work, "tokens")
    os.makedirs(tokens)
    conf = os.path.join(work, "softhsm2.conf")
    with open(conf, "w") as f:
        f.write("directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n" % tokens)
    os.environ["SOFTHSM2_CONF"] = conf
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", "bench", "--so-pin",
                    "12345678", "--pin", PIN], check=True, capture_output=True)
    from dusk_edge.keys.pkcs11_token import open_token, rescan_tokens
    rescan_tokens(MODULE)
    with open_token("bench", PIN, MODULE) as token:
        document = keystore.seal_with_token(key, token, "bench-kek")
        owner_ed = token.generate_owner_key("owner-ed", "ed25519")
        token.generate_owner_key("owner-p256", "p256")
        extra = {
            "softhsm_unwrap_consensus_key_ms": median_ms(
                lambda: keystore.unseal(document, token=token), runs=RUNS, inner=INNER),
            "softhsm_owner_ed25519_sign_ms": median_ms(
                lambda: token.sign_owner("owner-ed", b"m" * 64, "ed25519"), runs=RUNS, inner=INNER),
            "softhsm_owner_p256_sign_ms": median_ms(
                lambda: token.sign_owner("owner-p256", b"m" * 64, "p256"), runs=RUNS, inner=INNER),
        }
        assert len(owner_ed) == 32
        extra["softhsm_open_and_unwrap_ms"] = median_ms(lambda: _open_unwrap(document), runs=RUNS)
        return extra, keystore.unseal(document, token=token)


def _open_unwrap(document):
    from dusk_edge.keys.pkcs11_token import open_token
    with open_token("bench", PIN, MODULE) as token:
        return keystore.unseal(document, token=token)


def _local(work, name, key):
    os.makedirs(os.path.join(work, name))
    guard = DoubleSignGuard(os.path.join(work, name, "guard.bin"), key.public_key)
    return LocalSigner(key, guard, AuditLog(os.path.join(work, name, "audit.log")))


def main():
    bench_dir = os.path.dirname(os.path.abspath(__file__))
    work = tempfile.mkdtemp(prefix="keys-", dir=os.path.join(bench_dir, "results"))  # real disk
    procs = []
    try:
        results = _measure(work, procs)
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()
        shutil.rmtree(work, ignore_errors=True)
    base = results["baseline_local_no_guard_ms"]
    for name in [k for k in results if k.endswith("_ms") and k.startswith("sign_")]:
        results[name[:-3] + "_over_baseline"] = results[name] / base
    results["step_budget_ms_devnet"] = 1000
    results["all_within_10pct_of_step_budget"] = all(
        results[k] <= 100 for k in results if k.startswith("sign_") and k.endswith("_ms"))
    path = write_results("keys", results)
    for key, value in sorted(results.items()):
        print("%-45s %s" % (key, round(value, 3) if isinstance(value, float) else value))
    print("wrote", path)


def _measure(work, procs):
    key = keystore.generate_consensus_key()
    keystore.write_keystore(os.path.join(work, "ks.json"), keystore.seal_with_passphrase(
        key, PASSPHRASE, {"n": 1 << 10, "r": 8, "p": 1}))
    with open(os.path.join(work, "secret"), "w") as f:
        f.write(SECRET.hex())
    os.chmod(os.path.join(work, "secret"), 0o600)
    results = {"runs": RUNS, "inner": INNER}
    msg = vote(1)
    results["baseline_local_no_guard_ms"] = median_ms(
        lambda: bls.sign_multisig(key.secret_key, msg, key.public_key), runs=RUNS, inner=INNER)
    results["unlock_passphrase_scrypt_n32768_ms"] = median_ms(
        lambda: keystore.unseal(keystore.seal_with_passphrase(key, PASSPHRASE), PASSPHRASE), runs=5)

    local = _local(work, "local", key)
    results["sign_local_guard_fsync_ms"] = median_ms(RoundCounter(local), runs=RUNS, inner=INNER)
    local.guard.fsync = False
    local.audit.fsync_every = 0
    results["local_guard_without_fsync_ms"] = median_ms(RoundCounter(local, start=10 ** 6),
                                                        runs=RUNS, inner=INNER)
    local.close()

    hsm = _softhsm(work, key)
    if hsm is None:
        results["softhsm"] = "skipped: softhsm2 not installed"
    else:
        extra, unwrapped = hsm
        results.update(extra)
        wrapped = _local(work, "wrapped", unwrapped)
        results["sign_softhsm_wrapped_guard_fsync_ms"] = median_ms(RoundCounter(wrapped), runs=RUNS,
                                                                   inner=INNER)
        wrapped.close()

    sock = os.path.join(work, "signer.sock")
    procs.append(_start_signer(work, "unix", ["--unix", sock]))
    remote = RemoteSigner(UnixTransport(sock), SECRET)
    remote.connect()
    results["remote_unix_handshake_ms"] = median_ms(remote.connect, runs=RUNS)
    results["sign_remote_unix_guard_fsync_ms"] = median_ms(RoundCounter(remote), runs=RUNS, inner=INNER)
    remote.close()

    if shutil.which("socat"):
        a, b = os.path.join(work, "ttyA"), os.path.join(work, "ttyB")
        procs.append(subprocess.Popen(["socat", "pty,raw,echo=0,link=" + a, "pty,raw,echo=0,link=" + b],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        _wait(lambda: os.path.exists(a) and os.path.exists(b), 10, "socat")
        procs.append(_start_signer(work, "pty", ["--serial", a]))
        remote = RemoteSigner(SerialTransport(b), SECRET)
        remote.connect()
        results["sign_remote_pty_guard_fsync_ms"] = median_ms(RoundCounter(remote), runs=RUNS,
                                                              inner=INNER)
        remote.close()
    else:
        results["remote_pty"] = "skipped: socat not installed"
    return results


if __name__ == "__main__":
    main()
