"""The conformance runner itself (CONFORMANCE.md): vectors run, and every way a file can be wrong
is one FAIL line, never a crash or a skip."""
import json
import os
import subprocess
import sys

import pytest

from dusk_edge.conformance import collect_files, load_suites, run_file, run_paths, same_json

pytestmark = pytest.mark.twin
VECTORS = os.path.join(os.path.dirname(__file__), "vectors")


@pytest.mark.parametrize("path", collect_files([VECTORS]), ids=lambda p: os.path.relpath(p, VECTORS))
def test_project_vectors_pass(path):
    results = list(run_file(path, load_suites()))
    failures = [line for ok, line in results if not ok]
    assert results and not failures, failures


def write(tmp_path, name, doc):
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return str(path)


def lines_of(paths):
    out = []
    passed, failed = run_paths(paths, write=out.append)
    return passed, failed, out


def test_bad_files_are_single_fail_lines(tmp_path):
    write(tmp_path, "a.json", "{not json")
    write(tmp_path, "b.json", {"suite": "quorum", "cases": [
        {"name": "x", "input": {"credits": 1}, "output": {"majority": 1, "supermajority": 1}},
        {"name": "x", "input": {"credits": 1}, "output": {"majority": 1, "supermajority": 1}}]})
    write(tmp_path, "c.json", {"suite": "quorum"})
    passed, failed, out = lines_of([str(tmp_path)])
    assert (passed, failed) == (0, 3)
    assert any("a.json" in line and line.startswith("FAIL") for line in out)
    assert any("duplicate case name x" in line for line in out)
    assert out[-1] == "conformance: 0 passed, 3 failed"


def test_unknown_suite_wrong_output_and_error_expectations(tmp_path):
    write(tmp_path, "v.json", {"suite": "quorum", "cases": [
        {"name": "ok", "input": {"credits": 64}, "output": {"majority": 33, "supermajority": 43}},
        {"name": "wrong", "input": {"credits": 64}, "output": {"majority": 32, "supermajority": 43}},
        {"name": "extra-key", "input": {"credits": 64}, "output": {"majority": 33, "supermajority": 43, "x": 1}},
        {"name": "error-expected", "input": {"credits": 64}, "output": {"error": True}},
        {"name": "error-ok", "input": {"credits": -5}, "output": {"error": True}},
        {"name": "crash", "input": {}, "output": {"majority": 1, "supermajority": 1}}]})
    write(tmp_path, "w.json", {"suite": "no_such_suite", "cases": [{"name": "a", "input": {}, "output": {}}]})
    passed, failed, out = lines_of([str(tmp_path)])
    assert passed == 2 and failed == 5
    assert "FAIL no_such_suite/a: unknown suite 'no_such_suite'" in out
    assert any(line.startswith("FAIL quorum/crash: exception KeyError") for line in out)


def test_no_vectors_is_a_failure(tmp_path):
    passed, failed, _ = lines_of([str(tmp_path)])
    assert passed == 0 and failed == 1


def test_json_equality_is_exact():
    assert same_json({"valid": True}, {"valid": True})
    assert not same_json({"valid": True}, {"valid": 1})
    assert not same_json({"n": 1}, {"n": 1.0})
    assert same_json({"n": 2 ** 64 - 1}, json.loads('{"n": 18446744073709551615}'))


def test_cli_exit_status(tmp_path):
    good = os.path.join(VECTORS, "quorum")
    ok = subprocess.run([sys.executable, "-m", "dusk_edge", "conformance", good], capture_output=True, text=True)
    assert ok.returncode == 0 and ok.stdout.strip().splitlines()[-1].endswith(" 0 failed")
    write(tmp_path, "bad.json", {"suite": "quorum", "cases": [{"name": "w", "input": {"credits": 1}, "output": {}}]})
    bad = subprocess.run([sys.executable, "-m", "dusk_edge", "conformance", str(tmp_path)], capture_output=True, text=True)
    assert bad.returncode == 1 and "FAIL quorum/w" in bad.stdout
