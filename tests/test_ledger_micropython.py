"""The ledger core under real MicroPython (the wasm port, DESIGN.md §7): the same block, decoded and
applied there, must give the state_hash CPython computes; header hashes and emission agree."""
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from dusk_edge.core.ledger.genesis_spec import GenesisSpec, build_genesis
from dusk_edge.core.ledger.tx_builder import build_stake, build_transfer
from tests.conftest import missing_component, require
from tests.test_ledger_support import apply, ed_signer, genesis_doc, make_block, provisioner_signer

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parent.parent
MPY_MODULE = ROOT / ".cache" / "mpy" / "node_modules" / "@micropython" / "micropython-webassembly-pyscript" / "micropython.mjs"

MPY_TEST = '''
import json
import expect
from dusk_edge.core.ledger.block import decode_block
from dusk_edge.core.ledger.genesis_spec import GenesisSpec, build_genesis
from dusk_edge.core.ledger.header import decode_header
from dusk_edge.core.ledger.rewards import emission

CASE = json.loads(%r)


class AcceptAll:
    def verify_batch(self, checks):
        return -1

    def verify_multisig(self, pk, msg, sig):
        return True


def test_emission_boundaries():
    expect.equal(emission(12614400), 19857400000, "last height of the first range")
    expect.equal(emission(113529597), 54280000, "single-height range")


def test_header_hash_matches_cpython():
    header = decode_header(bytes.fromhex(CASE["header"]))
    expect.equal(header.compute_hash().hex(), CASE["header_hash"], "header hash")


def test_block_applies_to_the_same_state_hash():
    state, genesis = build_genesis(GenesisSpec.from_dict(CASE["genesis"]))
    expect.equal(genesis.hash.hex(), CASE["genesis_hash"], "genesis hash")
    for block_hex in CASE["blocks"]:
        block = decode_block(bytes.fromhex(block_hex))
        voters = [(bytes.fromhex(pk), credits) for pk, credits in CASE["voters"]]
        state.apply_block(block, AcceptAll(), voters)
    expect.equal(state.state_hash().hex(), CASE["state_hash"], "state hash")
    expect.true(state.check_supply(), "supply invariant")
'''


def build_case():
    doc = genesis_doc()
    state, genesis = build_genesis(GenesisSpec.from_dict(doc))
    voters = [(provisioner_signer(0).public_key, 100), (provisioner_signer(1).public_key, 28)]
    blocks = []
    for txs in ([build_transfer(ed_signer(0), ed_signer(9).account_key, 5, 1, 0x41),
                 build_stake(ed_signer(1), provisioner_signer(30), 1000 * 10**9, 1, 0x41)], []):
        block_and_voters = make_block(state, txs, voters=voters)
        apply(state, block_and_voters)
        blocks.append(block_and_voters[0].encode().hex())
    last = make_block(state, [])[0].header
    return {"genesis": doc, "genesis_hash": genesis.hash.hex(), "blocks": blocks,
            "voters": [(pk.hex(), c) for pk, c in voters], "state_hash": state.state_hash().hex(),
            "header": last.encode().hex(), "header_hash": last.compute_hash().hex()}


def test_ledger_core_under_micropython(tmp_path):
    require("node")
    if not MPY_MODULE.exists():
        missing_component("wasm MicroPython is not installed (make mpy-test installs it)")
    (tmp_path / "dusk_edge").mkdir()
    shutil.copy(ROOT / "dusk_edge" / "__init__.py", tmp_path / "dusk_edge" / "__init__.py")
    shutil.copytree(ROOT / "dusk_edge" / "core", tmp_path / "dusk_edge" / "core",
                    ignore=shutil.ignore_patterns("__pycache__"))
    tests = tmp_path / "tests" / "core"
    tests.mkdir(parents=True)
    for name in ("mpy_runner.py", "expect.py"):
        shutil.copy(ROOT / "tests" / "core" / name, tests / name)
    (tests / "test_ledger_mpy.py").write_text(MPY_TEST % json.dumps(build_case()))
    result = subprocess.run(["node", str(ROOT / "tests" / "core" / "run_mpy.mjs"), str(MPY_MODULE), str(tmp_path),
                             "test_ledger_mpy"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "3 passed, 0 failed" in result.stdout, result.stdout
