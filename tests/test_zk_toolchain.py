"""The toolchain's ceremony commands at a tiny size (the real 2^14 run is cached and slow), and the
circuit hash that keys the artifact cache."""
import os

import pytest

from dusk_edge.zk import toolchain
from tests.conftest import require


@pytest.mark.timeout(300)
def test_powers_of_tau_commands_work_at_a_tiny_size(tmp_path, monkeypatch):
    require("node", "npm")
    toolchain.ensure_npm_packages()
    real_modules = toolchain.node_modules()
    monkeypatch.setenv("DUSK_EDGE_ZK_CACHE", str(tmp_path))
    os.symlink(real_modules, tmp_path / "node_modules")
    monkeypatch.setattr(toolchain, "PTAU_POWER", 3)
    path = toolchain._powers_of_tau()
    assert path == str(tmp_path / "ptau" / "bls12381_3_final.ptau")
    assert os.path.getsize(path) > 0
    assert sorted(os.listdir(tmp_path)) == ["node_modules", "ptau"]  # temporary files removed
    assert toolchain._powers_of_tau() == path  # cached


def test_circuit_hash_follows_the_sources(monkeypatch):
    before = toolchain.circuit_hash()
    sources = toolchain.circuit_sources()
    monkeypatch.setattr(toolchain, "circuit_sources", lambda: dict(sources, **{"transfer.circom": "x"}))
    assert toolchain.circuit_hash() != before and len(before) == 16


@pytest.mark.timeout(300)
def test_proving_installs_snarkjs_when_only_the_shipped_ceremony_is_there(tmp_path, monkeypatch):
    """A fresh clone has the ceremony's keys (no build) but no node_modules: the prover installs
    snarkjs itself instead of failing inside node with ERR_MODULE_NOT_FOUND."""
    require("node", "npm")
    monkeypatch.setenv("DUSK_EDGE_ZK_CACHE", str(tmp_path))
    assert toolchain.build().directory.startswith(toolchain.CEREMONY_DIR)
    assert not os.path.exists(toolchain.node_modules())
    calls = []
    monkeypatch.setattr(toolchain, "_run", lambda argv, **kw: calls.append(argv))
    with pytest.raises(FileNotFoundError):  # _run is stubbed: no output file after "proving"
        toolchain.prove_many(toolchain.build(), [{}])
    assert calls[0][:2] == ["npm", "install"] and calls[-1][1].endswith("snarkjs_batch.mjs")
