"""The MicroPython gate of `make test` (`make mpy-test`).

1. Compiles every dusk_edge/core/**/*.py with mpy-cross (the MicroPython compiler rejects syntax
   MicroPython lacks: match, positional-only `/`, `{**d}`, `[*x]` ...), naming each failing file.
2. Installs the npm package @micropython/micropython-webassembly-pyscript into .cache/mpy when it
   is missing (real MicroPython 1.27 compiled to wasm, run under node).
3. Runs every tests/core/test_*.py under it through tests/core/run_mpy.mjs, which drives the JS
   API and turns Python errors into an exit code (the port's own CLI always exits 0): once with
   the core as source, once as the .mpy bytecode of step 1 (how firmware ships it).

Exits non-zero on any failure. A missing node/npm/mpy-cross fails under CI=true and is reported
as skipped elsewhere (DESIGN.md §7). usage: python scripts/mpy_gate.py [test_module ...]
"""
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "dusk_edge" / "core"
TESTS = ROOT / "tests" / "core"
BUILD = ROOT / ".mpy-build"
NPM_PREFIX = ROOT / ".cache" / "mpy"
NPM_PACKAGE = "@micropython/micropython-webassembly-pyscript"
NPM_VERSION = "1.27.0"
MPY_MODULE = NPM_PREFIX / "node_modules" / NPM_PACKAGE / "micropython.mjs"
NPM_TIMEOUT_S = 600
GATE_BUDGET_S = 170  # the gate, npm install excluded, must stay within 3 minutes of `make test`
DEADLINE = time.monotonic() + GATE_BUDGET_S  # pushed back by the time an npm install takes
IN_CI = os.environ.get("CI", "").lower() == "true"
COMPILED_OK = False  # set by compile_core(); the .mpy run needs every module compiled
SUMMARY_LINE = re.compile(r"^(\d+) passed, (\d+) failed$", re.M)


class GateFailure(Exception):
    """The gate failed; the message says which step and why."""


class GateSkipped(Exception):
    """A tool is missing outside CI; the message says which and how to install it."""


def missing(what, install_hint):
    message = "%s is missing (%s; skipped outside CI)" % (what, install_hint)
    if IN_CI:
        raise GateFailure(message + "; required under CI=true")
    raise GateSkipped(message)


def find_mpy_cross():
    beside_python = Path(sys.executable).parent / "mpy-cross"
    if beside_python.exists():
        return [str(beside_python)]
    on_path = shutil.which("mpy-cross")
    if on_path:
        return [on_path]
    try:
        import mpy_cross  # noqa: F401
    except ImportError:
        missing("mpy-cross", "pip install mpy-cross, or `make install-test`")
    return [sys.executable, "-m", "mpy_cross"]


def core_sources():
    return sorted(p for p in CORE.rglob("*.py") if "__pycache__" not in p.parts)


def compile_core():
    """mpy-cross every core module; returns the number compiled, raises GateFailure listing all
    files that fail."""
    command = find_mpy_cross()
    shutil.rmtree(BUILD / "dusk_edge" / "core", ignore_errors=True)  # no stale .mpy of a removed module
    failures = []
    sources = core_sources()
    for source in sources:
        relative = source.relative_to(ROOT)
        target = BUILD / relative.with_suffix(".mpy")
        target.parent.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(command + ["-o", str(target), str(relative)], cwd=ROOT,
                                capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            error = (result.stderr or result.stdout).strip() or "exit code %d" % result.returncode
            failures.append("%s: %s" % (relative, error))
    global COMPILED_OK
    COMPILED_OK = not failures
    if failures:
        raise GateFailure("mpy-cross rejected %d of %d core modules:\n  %s"
                          % (len(failures), len(sources), "\n  ".join(failures)))
    return len(sources)


def installed_version():
    import json

    try:
        return json.loads((MPY_MODULE.parent / "package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None


def ensure_micropython():
    global DEADLINE
    if shutil.which("node") is None:
        missing("node", "apt-get install nodejs npm")
    if MPY_MODULE.exists() and installed_version() == NPM_VERSION:
        return
    if shutil.which("npm") is None:
        missing("npm", "apt-get install npm")
    print("mpy gate: installing %s@%s into %s" % (NPM_PACKAGE, NPM_VERSION, NPM_PREFIX.relative_to(ROOT)),
          flush=True)
    NPM_PREFIX.mkdir(parents=True, exist_ok=True)
    install_started = time.monotonic()
    try:
        result = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(NPM_PREFIX),
                                 "%s@%s" % (NPM_PACKAGE, NPM_VERSION)],
                                capture_output=True, text=True, timeout=NPM_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise GateFailure("npm install of %s took over %d s (offline?)" % (NPM_PACKAGE, NPM_TIMEOUT_S))
    DEADLINE += time.monotonic() - install_started
    if result.returncode != 0 or installed_version() != NPM_VERSION:
        raise GateFailure("npm install of %s failed:\n%s" % (NPM_PACKAGE, (result.stderr or result.stdout).strip()))


def test_modules(selected):
    found = sorted(p.stem for p in TESTS.glob("test_*.py"))
    if not found:
        raise GateFailure("no tests/core/test_*.py found: the gate would run nothing")
    for name in selected:
        if name not in found:
            raise GateFailure("no such test module tests/core/%s.py" % name)
    return list(selected) if selected else found


def run_under_micropython(modules, compiled=False):
    """Run the modules' tests under wasm MicroPython, the core loaded from source or (compiled)
    from the mpy-cross output; returns (passed, failed) from the runner."""
    command = ["node", str(TESTS / "run_mpy.mjs"), str(MPY_MODULE), str(ROOT)]
    command += (["--compiled", str(BUILD)] if compiled else []) + modules
    budget = max(1.0, DEADLINE - time.monotonic())
    try:
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=budget)
    except subprocess.TimeoutExpired as error:
        partial = error.stdout.decode() if isinstance(error.stdout, bytes) else (error.stdout or "")
        raise GateFailure("MicroPython run exceeded the gate's %d s budget; last output:\n%s"
                          % (GATE_BUDGET_S, partial[-2000:]))
    output = result.stdout
    failed_lines = [line for line in output.splitlines() if not line.startswith("PASS ")]
    sys.stdout.write("\n".join(failed_lines) + ("\n" if failed_lines else ""))
    sys.stdout.flush()
    sys.stderr.write(result.stderr)
    sys.stderr.flush()
    counts = SUMMARY_LINE.findall(output)
    if result.returncode != 0 or not counts:
        raise GateFailure("MicroPython run failed (exit code %d)%s"
                          % (result.returncode, "" if counts else ": the runner printed no summary"))
    passed, failed = int(counts[-1][0]), int(counts[-1][1])
    if failed or not passed:
        raise GateFailure("MicroPython run reported %d passed, %d failed" % (passed, failed))
    return passed, failed


def run_micropython_tests(argv, compiled):
    modules = test_modules(argv)
    ensure_micropython()
    if compiled and not COMPILED_OK:
        raise GateSkipped("not run: the mpy-cross step did not produce a complete core")
    started = time.monotonic()
    passed, _ = run_under_micropython(modules, compiled)
    return "MicroPython %s (wasm), core from %s: %d tests in %d modules passed in %.1f s" % (
        NPM_VERSION, ".mpy" if compiled else ".py", passed, len(modules), time.monotonic() - started)


def main(argv):
    started = time.monotonic()
    steps = [("mpy-cross", lambda: "%d core modules compile" % compile_core()),
             ("tests/core", lambda: run_micropython_tests(argv, compiled=False)),
             ("tests/core (.mpy)", lambda: run_micropython_tests(argv, compiled=True))]
    failed = False
    for name, step in steps:
        try:
            print("mpy gate: ok: %s: %s" % (name, step()), flush=True)
        except GateSkipped as skipped:
            print("mpy gate: SKIPPED %s: %s" % (name, skipped), flush=True)
        except GateFailure as failure:
            print("mpy gate: FAILED %s: %s" % (name, failure), file=sys.stderr)
            failed = True
    print("mpy gate: %s in %.1f s" % ("FAILED" if failed else "passed", time.monotonic() - started), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
