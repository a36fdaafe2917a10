"""`make test-arm` (scripts/arm/test_arm.sh): the project on aarch64 under qemu-user.

The script cross-compiles the speedups, runs Debian's arm64 CPython with the aarch64 wheels and
runs the smoke checks, the conformance vectors and the twin-equivalence tests there. These tests
run it for real (cold: downloads ~40 MB into .cache/arm64/; warm: ~15 s) and check what its output
proves. Allowed skip, even under CI=true: a host that is itself ARM (DESIGN.md §7).
"""
import os
import platform
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import missing_component

pytestmark = pytest.mark.integration

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(REPO, "scripts", "arm", "test_arm.sh")
MISSING = 77  # the script's "a component is missing here" status


def run_test_arm(**env):
    if platform.machine().lower() in ("aarch64", "arm64", "armv7l", "armv6l", "armv8l"):
        pytest.skip("the host is ARM itself: the suite runs natively (DESIGN.md §7)")
    full_env = dict(os.environ, ARM_HOST_PY=sys.executable, **env)
    proc = subprocess.run(["bash", SCRIPT], cwd=REPO, env=full_env, capture_output=True, text=True,
                          timeout=900)
    out = proc.stdout + proc.stderr
    if proc.returncode == MISSING:
        missing_component(out.strip().splitlines()[-1])
    return proc.returncode, out


def test_make_test_arm_passes_on_aarch64_with_the_c_backend():
    rc, out = run_test_arm()
    assert rc == 0, out[-4000:]
    assert "arm-smoke: machine=aarch64" in out
    assert "arm-smoke: ok   accel.ACTIVE == c" in out
    assert "_speedups.cpython-311-aarch64-linux-gnu.so" in out
    assert "arm-smoke: ok   every dusk_edge module imports on aarch64" in out
    assert "arm-smoke: ok   raptorq is absent" in out
    assert "conformance: " in out and ", 0 failed" in out
    assert "stage twin-equivalence" in out and "test_speedups_equiv.py" in out
    assert "arm-smoke: ok   fec = raptorq is refused with ConfigError" in out
    assert "arm-smoke: ok   Reed-Solomon FEC recovers" in out
    if os.path.exists(os.path.join(REPO, "tests", "test_consensus_sim.py")):
        assert "stage consensus-sim (tests/test_consensus_sim.py" in out and "): ok" in out
    assert "test-arm: PASS on aarch64 (qemu-user) with the C backend" in out


def test_a_failing_test_under_qemu_fails_the_run(tmp_path):
    # The harness must report failures, not swallow them: one passing and one failing test,
    # both run on the emulated aarch64 interpreter.
    probe = tmp_path / "test_probe_arm.py"
    probe.write_text(textwrap.dedent("""
        import platform
        import pytest

        pytestmark = pytest.mark.twin

        def test_runs_on_aarch64():
            from dusk_edge.core import accel
            assert platform.machine() == "aarch64" and accel.ACTIVE == "c"

        def test_this_one_fails():
            assert 1 + 1 == 3
    """))
    rc, out = run_test_arm(ARM_PYTEST=str(probe), ARM_STAGES="twin")
    assert rc != 0
    assert "1 failed, 1 passed" in out
    assert "test-arm: ERROR: twin tests failed under qemu" in out
    assert "test-arm: PASS" not in out
