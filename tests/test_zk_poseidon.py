"""Poseidon: the Python twin agrees with the circom template (compiled and run by circom2's
witness generator, an independent implementation of the same constants), and basic properties."""
import json
import os
import random
import subprocess

import pytest

from dusk_edge.zk import poseidon, toolchain
from tests.conftest import require

R = poseidon.R


def test_parameters_are_well_formed():
    assert len(poseidon.ROUND_CONSTANTS) == poseidon.ROUNDS * poseidon.WIDTH == 195
    assert len(set(poseidon.ROUND_CONSTANTS)) == 195
    assert all(0 <= c < R for c in poseidon.ROUND_CONSTANTS)
    # x^5 is a permutation of the field only when gcd(5, r - 1) == 1
    assert (R - 1) % 5 != 0
    m = poseidon.MDS
    for i in range(3):
        for j in range(3):
            assert m[i][j] * (i + 3 + j) % R == 1


def test_permutation_is_deterministic_and_sensitive():
    base = poseidon.permute([1, 2, 3])
    assert base == poseidon.permute([1, 2, 3])
    assert base != poseidon.permute([1, 2, 4])
    assert poseidon.hash2(1, 5, 6) != poseidon.hash2(2, 5, 6)  # tags separate domains
    assert poseidon.hash2(4, 5, 6) != poseidon.hash2(4, 6, 5)


def test_inputs_reduce_mod_r():
    assert poseidon.hash2(3, R + 7, 9) == poseidon.hash2(3, 7, 9)


CHECK_CIRCUIT = """pragma circom 2.0.0;
include "poseidon.circom";
template Check(n) {
    signal input a[n];
    signal input b[n];
    signal output out[n];
    component h[n];
    for (var i = 0; i < n; i++) {
        h[i] = PoseidonHash2(%d);
        h[i].a <== a[i];
        h[i].b <== b[i];
        out[i] <== h[i].out;
    }
}
component main = Check(%d);
"""


def _circom_hashes(tmp_path, tag, pairs):
    for name, text in toolchain.circuit_sources().items():
        (tmp_path / name).write_text(text)
    (tmp_path / "check.circom").write_text(CHECK_CIRCUIT % (tag, len(pairs)))
    modules = toolchain.node_modules()
    subprocess.run(["node", os.path.join(modules, "circom2", "cli.js"), "check.circom", "--wasm",
                    "--prime", "bls12381", "-o", "."], cwd=tmp_path, check=True, capture_output=True)
    inputs = {"a": [str(a) for a, _ in pairs], "b": [str(b) for _, b in pairs]}
    (tmp_path / "in.json").write_text(json.dumps(inputs))
    js = tmp_path / "check_js"
    subprocess.run(["node", str(js / "generate_witness.js"), str(js / "check.wasm"), "in.json", "w.wtns"],
                   cwd=tmp_path, check=True, capture_output=True)
    subprocess.run(["node", os.path.join(modules, "snarkjs", "build", "cli.cjs"), "wtns", "export",
                    "json", "w.wtns", "w.json"], cwd=tmp_path, check=True, capture_output=True)
    witness = json.loads((tmp_path / "w.json").read_text())
    return [int(w) for w in witness[1:1 + len(pairs)]]  # wire 0 is the constant 1, outputs next


@pytest.mark.timeout(300)
def test_circom_template_agrees_with_python(tmp_path):
    require("node", "npm")
    toolchain.ensure_npm_packages()
    rng = random.Random(11)
    pairs = [(0, 0), (1, 2), (R - 1, R - 2)] + [(rng.randrange(R), rng.randrange(R)) for _ in range(5)]
    got = _circom_hashes(tmp_path, poseidon.TAG_MERKLE, pairs)
    assert got == [poseidon.hash2(poseidon.TAG_MERKLE, a, b) for a, b in pairs]
