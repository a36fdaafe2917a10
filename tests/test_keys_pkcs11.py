"""PKCS#11 custody against a real SoftHSM2 (session-private token dir): owner keys signed in the
token verify with `cryptography`, the token-wrapped consensus key needs the token, and every
failure (wrong PIN, missing token/module/key, tampering, unplugged token) is a named error."""
import copy
import os
import subprocess
import sys
import textwrap

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from pkcs11.util.ec import encode_ecdsa_signature

from dusk_edge.crypto import bls
from dusk_edge.keys import keystore
from dusk_edge.keys.errors import (KeystoreFormatError, KeystoreTamperedError, PinSourceError,
                                   TokenMissingError, WrongPinError)
from dusk_edge.keys.pkcs11_token import open_token, resolve_pin
from tests.keys_fixtures import PIN, cli, softhsm, write_private  # noqa: F401 - fixture

pytestmark = pytest.mark.integration
KEY = keystore.ConsensusKey(bls.secret_key_from_int(31337))
MESSAGE = b"stake 1000 DUSK to provisioner 0x42"


@pytest.fixture
def token(softhsm):
    with open_token(softhsm["token"], PIN, softhsm["module"]) as t:
        yield t


def test_ed25519_owner_key_signs_inside_the_token(token):
    public = token.generate_owner_key("owner-ed", "ed25519")
    assert len(public) == 32
    signature = token.sign_owner("owner-ed", MESSAGE, "ed25519")
    ed25519.Ed25519PublicKey.from_public_bytes(public).verify(signature, MESSAGE)
    with pytest.raises(Exception):
        ed25519.Ed25519PublicKey.from_public_bytes(public).verify(signature, MESSAGE + b"!")


def test_p256_owner_key_signs_inside_the_token(token):
    spki = token.generate_owner_key("owner-p256", "p256")
    rs = token.sign_owner("owner-p256", MESSAGE, "p256")
    assert len(rs) == 64
    serialization.load_der_public_key(spki).verify(encode_ecdsa_signature(rs), MESSAGE,
                                                   ec.ECDSA(hashes.SHA256()))


def test_private_keys_are_not_extractable(token):
    import pkcs11
    from pkcs11 import Attribute, ObjectClass
    token.generate_owner_key("owner-x", "ed25519")
    token.ensure_kek("kek-x")
    session = token._session
    for key in (session.get_key(object_class=ObjectClass.PRIVATE_KEY, label="owner-x"),
                session.get_key(object_class=ObjectClass.SECRET_KEY, label="kek-x")):
        assert key[Attribute.EXTRACTABLE] is False
        with pytest.raises(pkcs11.exceptions.AttributeSensitive):
            key[Attribute.VALUE]


def test_token_sealed_keystore_round_trip(token, tmp_path):
    document = keystore.seal_with_token(KEY, token, "kek-main")
    assert document["seal"] == {"scheme": "pkcs11-aes256gcm", "token_label": "edge-node",
                                "kek_label": "kek-main"}
    path = str(tmp_path / "ks.json")
    keystore.write_keystore(path, document)
    assert keystore.open_keystore(path, token=token).secret_key == KEY.secret_key
    assert KEY.secret_key.hex() not in open(path).read()


def test_wrapped_key_cannot_be_opened_without_the_token(token, softhsm):
    document = keystore.seal_with_token(KEY, token, "kek-only-here")
    with pytest.raises(KeystoreFormatError, match="token"):
        keystore.unseal(document)                      # no token at all
    with pytest.raises(KeystoreFormatError):
        keystore.unseal(document, passphrase="anything")
    with open_token(softhsm["other"], PIN, softhsm["module"]) as other:
        with pytest.raises(TokenMissingError):          # the other token lacks this AES key
            keystore.unseal(document, token=other)
        other.ensure_kek("kek-only-here")               # same label, different key material
        with pytest.raises(KeystoreTamperedError):
            keystore.unseal(document, token=other)


def test_tampered_token_keystore_is_named(token):
    document = keystore.seal_with_token(KEY, token, "kek-main")
    for field in ("ciphertext", "nonce"):
        doc = copy.deepcopy(document)
        raw = bytearray(bytes.fromhex(doc[field]))
        raw[0] ^= 1
        doc[field] = raw.hex()
        with pytest.raises(KeystoreTamperedError):
            keystore.unseal(doc, token=token)
    doc = copy.deepcopy(document)
    doc["public_key"] = bls.public_key(bls.secret_key_from_int(5)).hex()   # AAD changes
    with pytest.raises(KeystoreTamperedError):
        keystore.unseal(doc, token=token)


def test_wrong_pin_missing_token_and_missing_module_are_named(softhsm):
    with pytest.raises(WrongPinError) as info:
        open_token(softhsm["token"], "0000-wrong", softhsm["module"])
    assert "0000-wrong" not in str(info.value)
    with pytest.raises(TokenMissingError):
        open_token("no-such-token", PIN, softhsm["module"])
    with pytest.raises(TokenMissingError):
        open_token(softhsm["token"], PIN, "/nonexistent/libpkcs11.so")
    with open_token(softhsm["token"], PIN, softhsm["module"]) as t:
        with pytest.raises(TokenMissingError):
            t.sign_owner("no-such-owner-key", MESSAGE)


def test_two_sessions_on_one_token_in_one_process(softhsm, token):
    # PKCS#11 login is per process: the second open must not fail with UserAlreadyLoggedIn.
    with open_token(softhsm["token"], PIN, softhsm["module"]) as second:
        second.ensure_kek("kek-shared")
        document = keystore.seal_with_token(KEY, second, "kek-shared")
    assert keystore.unseal(document, token=token).secret_key == KEY.secret_key


def test_pin_sources(tmp_path, monkeypatch):
    pin_file = write_private(tmp_path / "pin", PIN + "\n")
    assert resolve_pin(pin_file=pin_file) == PIN
    monkeypatch.setenv("KEYS_TEST_PIN", PIN)
    assert resolve_pin(pin_env="KEYS_TEST_PIN") == PIN
    monkeypatch.setattr("getpass.getpass", lambda prompt: PIN)
    assert resolve_pin(prompt=True) == PIN
    with pytest.raises(PinSourceError):
        resolve_pin()
    with pytest.raises(PinSourceError):
        resolve_pin(pin_file=str(tmp_path / "missing"))
    with pytest.raises(PinSourceError):
        resolve_pin(pin_env="KEYS_TEST_UNSET_VARIABLE")


UNPLUG_SCRIPT = textwrap.dedent("""
    import os, shutil, sys
    from dusk_edge.keys.pkcs11_token import open_token, rescan_tokens
    from dusk_edge.keys.errors import TokenError
    token = open_token("edge-node", sys.argv[2])
    token.generate_owner_key("owner", "ed25519")
    token.sign_owner("owner", b"before")
    for name in os.listdir(sys.argv[1]):  # the token's storage disappears
        shutil.rmtree(os.path.join(sys.argv[1], name))
    for action in (rescan_tokens,         # as after a USB unplug: the module re-enumerates
                   lambda: token.sign_owner("owner", b"after"),
                   lambda: open_token("edge-node", sys.argv[2]),
                   lambda: token.close()):
        try:
            action()
        except TokenError as exc:
            print("NAMED", type(exc).__name__)
        except BaseException as exc:
            print("RAW", type(exc).__name__)
        else:
            print("NOERROR")
""")


def test_unplugged_token_gives_named_errors_not_a_crash(tmp_path):
    from tests.keys_fixtures import init_token, write_softhsm_conf
    conf = write_softhsm_conf(str(tmp_path))
    init_token(conf, "edge-node")
    result = subprocess.run([sys.executable, "-c", UNPLUG_SCRIPT, str(tmp_path / "tokens"), PIN],
                            env=dict(os.environ, SOFTHSM2_CONF=conf), capture_output=True, timeout=60)
    out = result.stdout.decode()
    assert result.returncode == 0, result.stderr.decode()
    assert out.split() == ["NOERROR", "NAMED", "TokenMissingError", "NAMED", "TokenMissingError",
                           "NOERROR"], out


def test_cli_generate_with_token_and_export_public(softhsm, tmp_path):
    pin_file = write_private(tmp_path / "pin", PIN)
    path = tmp_path / "ks.json"
    out = cli("keys", "generate", "--keystore", path, "--token", softhsm["token"], "--pin-file",
              pin_file, "--kek-label", "cli-kek", "--owner-key", "ed25519", "--owner-label", "cli-owner")
    import json
    made = json.loads(out.stdout)
    assert made["scheme"] == "pkcs11-aes256gcm" and len(bytes.fromhex(made["owner_public_key"])) == 32
    pub = json.loads(cli("keys", "export-public", "--keystore", path, "--token", softhsm["token"],
                         "--pin-env", "KEYS_PIN", "--owner-label", "cli-owner",
                         env={"KEYS_PIN": PIN}).stdout)
    assert pub == {"public_key": made["public_key"], "owner_public_key": made["owner_public_key"],
                   "owner_kind": "ed25519"}
    bad = cli("keys", "rotate", "--keystore", path, "--pin-env", "KEYS_PIN", "--to-token",
              softhsm["other"], env={"KEYS_PIN": "9999-bad"}, check=False)
    assert bad.returncode == 2 and b"WrongPinError" in bad.stderr and b"9999-bad" not in bad.stderr
    rotated = json.loads(cli("keys", "rotate", "--keystore", path, "--pin-env", "KEYS_PIN",
                             "--to-token", softhsm["other"], env={"KEYS_PIN": PIN}).stdout)
    assert rotated["public_key"] == made["public_key"]
    with open_token(softhsm["other"], PIN, softhsm["module"]) as other:
        assert keystore.open_keystore(str(path), token=other).public_key.hex() == made["public_key"]


def test_signer_process_unlocks_token_keystore_with_pin_file(softhsm, tmp_path):
    """Unattended restart: `dusk-edge signer` opens a token-wrapped keystore from a PIN file."""
    import json
    import subprocess as sp
    from dusk_edge.keys.remote_client import RemoteSigner, UnixTransport
    from tests.keys_fixtures import SHARED_SECRET, stop, vote_message, wait_for
    pin_file = write_private(tmp_path / "pin", PIN + "\n")
    secret_file = write_private(tmp_path / "secret", SHARED_SECRET.hex())
    ks = tmp_path / "ks.json"
    made = json.loads(cli("keys", "generate", "--keystore", ks, "--token", softhsm["token"],
                          "--pin-file", pin_file, "--kek-label", "signer-kek",
                          "--owner-key", "none").stdout)
    status = json.loads(cli("keys", "status", "--keystore", ks, "--pin-file", pin_file).stdout)
    assert status["token"].startswith("ok") and status["keystore"]["kek_label"] == "signer-kek"
    bad_pin = write_private(tmp_path / "badpin", "1111-nope")
    status = json.loads(cli("keys", "status", "--keystore", ks, "--pin-file", bad_pin).stdout)
    assert status["token"].startswith("WrongPinError") and "1111-nope" not in status["token"]

    sock = str(tmp_path / "s.sock")
    args = [sys.executable, "-m", "dusk_edge", "signer", "--keystore", str(ks), "--guard-dir",
            str(tmp_path / "guard"), "--secret-file", secret_file, "--unix", sock]
    refused = sp.run(args + ["--pin-file", bad_pin], capture_output=True, timeout=60)
    assert refused.returncode == 2 and b"WrongPinError" in refused.stderr
    assert b"1111-nope" not in refused.stderr + refused.stdout
    proc = sp.Popen(args + ["--pin-file", pin_file], stdout=sp.PIPE, stderr=sp.STDOUT)
    try:
        wait_for(lambda: _accepts(sock), 30, "signer socket", proc=proc)
        remote = RemoteSigner(UnixTransport(sock), SHARED_SECRET)
        msg = vote_message(1, 0, 2)
        sig = remote.sign_vote(1, 0, 2, msg)
        assert bls.verify_multisig([bytes.fromhex(made["public_key"])], msg, sig)
        remote.close()
    finally:
        output = stop(proc)
    assert PIN not in output and SHARED_SECRET.hex() not in output


def _accepts(path):
    import socket
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()
