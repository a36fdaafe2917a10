"""The unchanged ConsensusEngine on real MicroPython (DESIGN.md §7): the four-node scenario of
dusk_edge/sim/consensus_mpy_scenario.py runs on CPython here, then under MicroPython 1.27 (the npm
wasm port that `make mpy-test` installs into .cache/mpy) through tests/core/run_mpy.mjs."""
import os
import shutil
import subprocess

import pytest

from dusk_edge.sim import consensus_mpy_scenario
from tests.conftest import missing_component, require

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MPY_MODULE = os.path.join(ROOT, ".cache", "mpy", "node_modules", "@micropython",
                          "micropython-webassembly-pyscript", "micropython.mjs")


def test_scenario_finalizes_on_cpython():
    _now, finals = consensus_mpy_scenario.run_four_nodes()
    assert finals[0] is not None and finals.count(finals[0]) == 4


@pytest.mark.integration
@pytest.mark.timeout(300)
def test_scenario_finalizes_on_micropython(tmp_path):
    require("node")
    if not os.path.exists(MPY_MODULE):
        missing_component("MicroPython wasm port not installed (run `make mpy-test` once)")
    root = tmp_path / "tree"
    shutil.copytree(os.path.join(ROOT, "dusk_edge", "core"), root / "dusk_edge" / "core",
                    ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    shutil.copy(os.path.join(ROOT, "dusk_edge", "__init__.py"), root / "dusk_edge" / "__init__.py")
    tests_core = root / "tests" / "core"
    tests_core.mkdir(parents=True)
    for name in ("mpy_runner.py", "expect.py", "run_mpy.mjs"):
        shutil.copy(os.path.join(ROOT, "tests", "core", name), tests_core / name)
    shutil.copy(os.path.join(ROOT, "dusk_edge", "sim", "consensus_chain.py"), tests_core / "sim_chain.py")
    shutil.copy(consensus_mpy_scenario.__file__, tests_core / "test_consensus_scenario.py")
    proc = subprocess.run(["node", str(tests_core / "run_mpy.mjs"), MPY_MODULE, str(root), "test_consensus_scenario"],
                          capture_output=True, text=True, timeout=280)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "1 passed, 0 failed" in proc.stdout
    assert "common Final block at height 3" in proc.stdout
