"""The circom + snarkjs toolchain: build the transfer circuit's artifacts and run the prover.

Theory of operation. The npm packages pinned in circuits/package.json (circom2: Circom 2 compiled
to WebAssembly; snarkjs: Groth16 over bls12381) are installed into .cache/zk/node_modules. The
circuit (circuits/*.circom plus the Poseidon constants generated from dusk_edge/zk/poseidon.py) is
compiled once per source hash into .cache/zk/build/<hash>/, where the Groth16 setup also lives:

    powers of tau 2^14 (bls12381, one local contribution; cached by power, not by circuit)
    -> groth16 setup -> one zkey contribution -> verification_key.json

This is a single-party development ceremony: whoever runs it could forge proofs. A real network
runs a multi-party ceremony and puts the resulting key (VerifyingKey.to_bytes) in genesis.
Proving runs in node (circuits/snarkjs_batch.mjs), many statements per process.
"""
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile

from dusk_edge.core.errors import ConfigError, CryptoError
from dusk_edge.zk import poseidon

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CIRCUITS_DIR = os.path.join(REPO_ROOT, "circuits")
# The development ceremony shipped with the repo: phase 1 (circuit-independent) and, per circuit
# hash, the phase-2 proving key, verifying key and witness generator. Building them takes ~15 CPU
# minutes; a changed circuit falls back to a fresh phase 2 on the shipped phase 1.
CEREMONY_DIR = os.path.join(CIRCUITS_DIR, "ceremony")
CIRCUIT_NAME = "transfer"
CIRCUIT_SOURCES = ("transfer.circom", "poseidon.circom")
PTAU_POWER = 14
NPM_TIMEOUT_S = 600
STEP_TIMEOUT_S = 1800


def cache_dir():
    return os.environ.get("DUSK_EDGE_ZK_CACHE") or os.path.join(REPO_ROOT, ".cache", "zk")


def node_modules():
    return os.path.join(cache_dir(), "node_modules")


def _run(argv, timeout=STEP_TIMEOUT_S, cwd=None):
    try:
        done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError:
        raise ConfigError("%s is not installed (node and npm are needed for the ZK toolchain)"
                          % argv[0]) from None
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise CryptoError("%s failed: %s" % (" ".join(argv[:3]), " | ".join(tail)))
    return done.stdout


def packages_ready():
    """ensure_npm_packages() under the build lock (parallel callers install once): the shipped
    ceremony needs no build, but proving and snarkjs's verifier still need snarkjs."""
    os.makedirs(cache_dir(), exist_ok=True)
    with open(os.path.join(cache_dir(), "build.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            ensure_npm_packages()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def ensure_npm_packages():
    """Install circom2 and snarkjs into the cache if missing or of another version."""
    wanted = open(os.path.join(CIRCUITS_DIR, "package.json")).read()
    manifest = os.path.join(cache_dir(), "package.json")
    have = open(manifest).read() if os.path.exists(manifest) else None
    if have == wanted and os.path.exists(os.path.join(node_modules(), "snarkjs", "main.js")):
        return
    os.makedirs(cache_dir(), exist_ok=True)
    with open(manifest, "w") as f:
        f.write(wanted)
    _run(["npm", "install", "--prefix", cache_dir(), "--no-audit", "--no-fund", "--loglevel=error"],
         timeout=NPM_TIMEOUT_S)


def _snarkjs(*args):
    return _run(["node", os.path.join(node_modules(), "snarkjs", "build", "cli.cjs")] + list(args))


def circuit_sources():
    """{file name: text} of everything the circuit is compiled from."""
    sources = {"poseidon_constants.circom": poseidon.circom_constants_source()}
    for name in CIRCUIT_SOURCES:
        with open(os.path.join(CIRCUITS_DIR, name)) as f:
            sources[name] = f.read()
    return sources


def circuit_hash():
    digest = hashlib.sha256(open(os.path.join(CIRCUITS_DIR, "package.json"), "rb").read())
    for name, text in sorted(circuit_sources().items()):
        digest.update(name.encode() + b"\0" + text.encode() + b"\0")
    return digest.hexdigest()[:16]


class Artifacts:
    """Paths of one built circuit: wasm witness generator, proving key, verifying key."""

    __slots__ = ("directory",)

    def __init__(self, directory):
        self.directory = directory

    @property
    def wasm(self):
        return os.path.join(self.directory, CIRCUIT_NAME + "_js", CIRCUIT_NAME + ".wasm")

    @property
    def zkey(self):
        return os.path.join(self.directory, CIRCUIT_NAME + ".zkey")

    @property
    def vk_json(self):
        return os.path.join(self.directory, "verification_key.json")

    def verification_key(self):
        with open(self.vk_json) as f:
            return json.load(f)

    def complete(self):
        return all(os.path.exists(p) for p in (self.wasm, self.zkey, self.vk_json))


def shipped_verifying_key_bytes():
    """The genesis bytes of the shipped ceremony's verifying key for the current circuit, or
    None when the circuit changed since the ceremony (devnet genesis uses it; needs no npm)."""
    from dusk_edge.zk.verifier import verifying_key_bytes_from_snarkjs

    shipped = Artifacts(os.path.join(CEREMONY_DIR, circuit_hash()))
    if not os.path.exists(shipped.vk_json):
        return None
    return verifying_key_bytes_from_snarkjs(shipped.verification_key())


def _powers_of_tau():
    """The phase-1 ceremony file: the one shipped in circuits/ceremony/, else a cached or new one."""
    shipped = os.path.join(CEREMONY_DIR, "bls12381_%d_final.ptau" % PTAU_POWER)
    if os.path.exists(shipped):
        return shipped
    path = os.path.join(cache_dir(), "ptau", "bls12381_%d_final.ptau" % PTAU_POWER)
    if os.path.exists(path):
        return path
    work = tempfile.mkdtemp(dir=cache_dir(), prefix="ptau-")
    try:
        first, second, final = (os.path.join(work, n) for n in ("0.ptau", "1.ptau", "final.ptau"))
        _snarkjs("powersoftau", "new", "bls12381", str(PTAU_POWER), first)
        _snarkjs("powersoftau", "contribute", first, second, "-e=" + os.urandom(32).hex())
        _snarkjs("powersoftau", "prepare", "phase2", second, final)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        os.replace(final, path)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return path


def build(log=None):
    """The circuit's Artifacts, built (npm install, compile, ceremony) unless already cached.

    A lock file serializes concurrent callers (parallel test runs), so the slow powers-of-tau
    step runs once and the others wait for its result.
    """
    shipped = Artifacts(os.path.join(CEREMONY_DIR, circuit_hash()))
    if shipped.complete():  # the network's fixed keys for this exact circuit (docs/shielded.md)
        return shipped
    os.makedirs(cache_dir(), exist_ok=True)
    artifacts = Artifacts(os.path.join(cache_dir(), "build", circuit_hash()))
    if artifacts.complete():
        return artifacts
    with open(os.path.join(cache_dir(), "build.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            ensure_npm_packages()
            if not artifacts.complete():
                _build_into(artifacts.directory, log)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return artifacts


def _build_into(final_dir, log):
    for name in os.listdir(cache_dir()):  # left by a killed build; we hold the lock
        if name.startswith(("ptau-", "build-")):
            shutil.rmtree(os.path.join(cache_dir(), name), ignore_errors=True)
    if log:
        log("powers of tau 2^%d (cached by power; slow the first time)" % PTAU_POWER)
    ptau = _powers_of_tau()
    work = tempfile.mkdtemp(dir=cache_dir(), prefix="build-")
    try:
        for name, text in circuit_sources().items():
            with open(os.path.join(work, name), "w") as f:
                f.write(text)
        if log:
            log("compiling %s.circom" % CIRCUIT_NAME)
        _run(["node", os.path.join(node_modules(), "circom2", "cli.js"), CIRCUIT_NAME + ".circom",
              "--r1cs", "--wasm", "--prime", "bls12381", "-o", "."], cwd=work)
        staged = Artifacts(work)
        r1cs = os.path.join(work, CIRCUIT_NAME + ".r1cs")
        initial = os.path.join(work, "initial.zkey")
        if log:
            log("groth16 setup")
        _snarkjs("groth16", "setup", r1cs, ptau, initial)
        _snarkjs("zkey", "contribute", initial, staged.zkey, "-e=" + os.urandom(32).hex())
        _snarkjs("zkey", "export", "verificationkey", staged.zkey, staged.vk_json)
        os.remove(initial)
        os.makedirs(os.path.dirname(final_dir), exist_ok=True)
        if os.path.exists(final_dir):  # an incomplete earlier build
            shutil.rmtree(final_dir)
        os.replace(work, final_dir)
    finally:
        if os.path.exists(work):
            shutil.rmtree(work, ignore_errors=True)


def _batch_script():
    return os.path.join(CIRCUITS_DIR, "snarkjs_batch.mjs")


def prove_many(artifacts, circuit_inputs):
    """Run snarkjs's fullProve on each input dict in one node process.

    Returns a list of (proof_json, public_signals, milliseconds).
    """
    packages_ready()
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = os.path.join(tmp, "in.json"), os.path.join(tmp, "out.json")
        with open(src, "w") as f:
            json.dump(circuit_inputs, f)
        _run(["node", _batch_script(), "prove", node_modules(), artifacts.wasm, artifacts.zkey, src, dst])
        with open(dst) as f:
            results = json.load(f)
    return [(r["proof"], [int(s) for s in r["publicSignals"]], r["ms"]) for r in results]


def snarkjs_verify_many(vk_json, items, timing=False):
    """snarkjs's own verifier on [(proof_json, public_signals), ...] in one process.

    Returns the list of bools, or (bools, total milliseconds in the verify loop) with ``timing``.
    """
    packages_ready()
    with tempfile.TemporaryDirectory() as tmp:
        vk_path, src, dst = (os.path.join(tmp, n) for n in ("vk.json", "in.json", "out.json"))
        with open(vk_path, "w") as f:
            json.dump(vk_json, f)
        with open(src, "w") as f:
            json.dump([{"proof": p, "publicSignals": [str(s) for s in pub]} for p, pub in items], f)
        _run(["node", _batch_script(), "verify", node_modules(), vk_path, src, dst])
        with open(dst) as f:
            doc = json.load(f)
    return (doc["results"], doc["ms"]) if timing else doc["results"]
