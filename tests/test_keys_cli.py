"""`dusk-edge keys ...` with passphrase seals, in process (click's CliRunner)."""
import json
import os
import stat

import pytest
from click.testing import CliRunner

from dusk_edge.cli import main
from dusk_edge.crypto import bls
from dusk_edge.keys.keystore import open_keystore
from tests.keys_fixtures import write_private

PASS1, PASS2 = "first passphrase 1", "second passphrase 2"


def run(*args, env=None, code=0):
    result = CliRunner().invoke(main, [str(a) for a in args], env=env or {}, catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result


def test_generate_status_rotate_export(tmp_path):
    ks = tmp_path / "ks.json"
    made = json.loads(run("keys", "generate", "--keystore", ks, "--passphrase-env", "P",
                          "--scrypt-n", 1024, env={"P": PASS1}).output)
    assert stat.S_IMODE(os.stat(ks).st_mode) == 0o600
    assert made["scheme"] == "scrypt-aes256gcm"
    again = run("keys", "generate", "--keystore", ks, "--passphrase-env", "P", env={"P": PASS1}, code=1)
    assert "exists" in again.output
    status = json.loads(run("keys", "status", "--keystore", ks).output)
    assert status["keystore"]["public_key"] == made["public_key"]
    pass_file = write_private(tmp_path / "p1", PASS1 + "\n")
    run("keys", "rotate", "--keystore", ks, "--passphrase-file", pass_file,
        "--new-passphrase-env", "NEWP", "--scrypt-n", 1024, env={"NEWP": PASS2})
    assert open_keystore(str(ks), PASS2).public_key.hex() == made["public_key"]
    wrong = run("keys", "rotate", "--keystore", ks, "--passphrase-file", pass_file,
                "--new-passphrase-env", "NEWP", env={"NEWP": PASS2}, code=2)
    assert "WrongPassphraseError" in wrong.output and PASS1 not in wrong.output
    pub = json.loads(run("keys", "export-public", "--keystore", ks).output)
    assert pub == {"public_key": made["public_key"]}


def test_import_and_guard_export_import(tmp_path):
    sk = bls.secret_key_from_int(123456789)
    secret_file = write_private(tmp_path / "sk.hex", sk.hex())
    ks = tmp_path / "ks.json"
    out = json.loads(run("keys", "import", "--keystore", ks, "--secret-file", secret_file,
                         "--passphrase-env", "P", "--scrypt-n", 1024, env={"P": PASS1}).output)
    assert out["public_key"] == bls.public_key(sk).hex()
    assert sk.hex() not in open(ks).read()
    bad = write_private(tmp_path / "bad.hex", "zz")
    result = run("keys", "import", "--keystore", tmp_path / "k2.json", "--secret-file", bad,
                 "--passphrase-env", "P", env={"P": PASS1}, code=2)
    assert "KeystoreFormatError" in result.output

    from dusk_edge.keys.guard import DoubleSignGuard
    from dusk_edge.keys.keystore import ConsensusKey
    from dusk_edge.keys.signer import LocalSigner
    from tests.keys_fixtures import vote_message
    guard_path = tmp_path / "guard.bin"
    s = LocalSigner(ConsensusKey(sk), DoubleSignGuard(str(guard_path), bls.public_key(sk)))
    s.sign_vote(3, 0, 1, vote_message(3, 0, 1))
    s.close()
    exported = tmp_path / "guard.json"
    run("keys", "guard-export", "--keystore", ks, "--guard", guard_path, "--out", exported)
    doc = json.loads(exported.read_text())
    assert doc["format"] == "dusk-edge-guard-interchange" and len(doc["entries"]) == 1
    fresh = tmp_path / "fresh.bin"
    assert json.loads(run("keys", "guard-import", "--keystore", ks, "--guard", fresh, "--in",
                          exported).output) == {"imported_records": 1}
    status = json.loads(run("keys", "status", "--keystore", ks, "--guard", fresh).output)
    assert status["guard"]["entries"] == 1 and status["guard"]["last_round"] == 3


def test_signer_secret_file_and_usage_errors(tmp_path):
    path = tmp_path / "s.secret"
    run("keys", "signer-secret", path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert len(bytes.fromhex(path.read_text().strip())) == 32
    assert "exists" in run("keys", "signer-secret", path, code=1).output
    result = CliRunner().invoke(main, ["signer", "--keystore", "x", "--guard-dir", str(tmp_path),
                                       "--secret-file", str(path)])
    assert result.exit_code == 2 and "exactly one" in result.output


@pytest.mark.parametrize("mode", [0o644, 0o640])
def test_readable_keystore_is_refused_by_cli(tmp_path, mode):
    ks = tmp_path / "ks.json"
    run("keys", "generate", "--keystore", ks, "--passphrase-env", "P", "--scrypt-n", 1024,
        env={"P": PASS1})
    os.chmod(ks, mode)
    assert "KeystorePermissionError" in run("keys", "status", "--keystore", ks, code=2).output
