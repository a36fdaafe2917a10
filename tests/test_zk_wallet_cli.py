"""`dusk-edge wallet` end to end against a local ledger state file: shield, transfer, unshield,
balance, with real proofs verified by the node's pool rules."""
import json

import pytest
from click.testing import CliRunner

from dusk_edge.cli import main
from tests.conftest import require

pytestmark = pytest.mark.timeout(1800)


def run(*args):
    result = CliRunner().invoke(main, ["wallet"] + list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_wallet_shield_transfer_unshield_balance(tmp_path):
    require("node", "npm")
    state = str(tmp_path / "state.json")
    alice = ["--wallet", str(tmp_path / "alice.json"), "--state", state]
    bob = ["--wallet", str(tmp_path / "bob.json"), "--state", state]
    assert run("init", *alice, "--account", "alice", "--fund", "1000")[0] == 0
    assert run("init", *bob, "--account", "bob")[0] == 0
    code, bob_address = run("address", "--wallet", str(tmp_path / "bob.json"))
    assert code == 0 and len(bob_address.strip()) == 128

    code, out = run("shield", *alice, "600", "--fee", "2")
    assert code == 0, out
    code, out = run("transfer", *alice, bob_address.strip(), "250", "--fee", "1")
    assert code == 0, out
    code, out = run("unshield", *bob, "100")
    assert code == 0, out

    assert run("balance", *alice)[1].split("\n")[:2] == [
        "shielded 349 in 1 notes", "public   398 (account alice)"]
    assert run("balance", *bob)[1].split("\n")[:2] == [
        "shielded 150 in 1 notes", "public   100 (account bob)"]
    doc = json.load(open(state))
    assert doc["balance"] == 349 + 150 and doc["burned"] == 3

    # spending more than the notes hold is a named error, exit status 2, state untouched
    code, out = run("transfer", *bob, bob_address.strip(), "1000")
    assert code == 2 and "ConfigError" in out
    assert json.load(open(state)) == doc


def test_wallet_refuses_to_overwrite_keys(tmp_path):
    wallet = tmp_path / "w.json"
    wallet.write_text("{}")
    code, out = run("init", "--wallet", str(wallet), "--state", str(tmp_path / "s.json"), "--account", "x")
    assert code == 2 and "refusing to overwrite" in out


def test_wallet_bad_files_are_named(tmp_path):
    bad = tmp_path / "w.json"
    bad.write_text("not json")
    code, out = run("balance", "--wallet", str(bad), "--state", str(tmp_path / "s.json"))
    assert code == 2 and "not valid JSON" in out
    code, out = run("transfer", "--wallet", str(bad), "--state", str(bad), "zz", "5")
    assert code == 2 and "hex" in out


def test_damaged_wallet_file_is_named(tmp_path):
    wallet = tmp_path / "w.json"
    wallet.write_text('{"version": 1, "seed": "00"}')
    code, out = run("address", "--wallet", str(wallet))
    assert code == 2 and "damaged" in out


def test_node_mode_errors_are_named(tmp_path):
    wallet = str(tmp_path / "w.json")
    code, out = run("init", "--wallet", wallet, "--for-node")
    assert code == 0 and len(out.split()[-1]) == 128
    missing = str(tmp_path / "no.sock")
    code, out = run("shield", "--wallet", wallet, "--node", missing, "--fee", "5", "10")
    assert code == 2 and "--gas-price" in out
    code, out = run("shield", "--wallet", wallet, "--node", missing, "10")
    assert code == 2 and "--key-file is required" in out
    code, out = run("balance", "--wallet", wallet, "--node", missing)
    assert code != 0 and "NodeUnreachable" in out and "no.sock" in out
    code, out = run("init", "--wallet", str(tmp_path / "v.json"), "--state", str(tmp_path / "s.json"))
    assert code == 2 and "--account is required" in out
