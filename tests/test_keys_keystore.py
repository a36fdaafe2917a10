"""Keystore: passphrase seal round trip, named errors for wrong passphrase / tampering / bad files,
0600 atomic writes, limits, and no secret in messages."""
import copy
import json
import os
import stat

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from dusk_edge.core.errors import DuskEdgeError
from dusk_edge.crypto import bls
from dusk_edge.keys import keystore
from dusk_edge.keys.errors import (KeystoreError, KeystoreFormatError, KeystorePermissionError,
                                   KeystoreTamperedError, WrongPassphraseError)

FAST = {"n": 1 << 10, "r": 8, "p": 1}
PASS = "s3cret-passphrase-do-not-leak"
KEY = keystore.ConsensusKey(bls.secret_key_from_int(0x1234567890ABCDEF))


@pytest.fixture(scope="module")
def sealed():
    return keystore.seal_with_passphrase(KEY, PASS, FAST)


@pytest.mark.twin
def test_round_trip_restores_the_key(sealed):
    opened = keystore.unseal(copy.deepcopy(sealed), passphrase=PASS)
    assert opened.secret_key == KEY.secret_key
    assert opened.public_key == bls.public_key(KEY.secret_key)
    assert sealed["public_key"] == KEY.public_key.hex()


def test_default_scrypt_parameters_round_trip(tmp_path):
    doc = keystore.seal_with_passphrase(KEY, PASS)
    assert doc["seal"]["kdf"]["n"] == 1 << 15
    path = str(tmp_path / "ks.json")
    keystore.write_keystore(path, doc)
    assert keystore.open_keystore(path, PASS).secret_key == KEY.secret_key


@pytest.mark.twin
def test_wrong_passphrase_is_named(sealed):
    with pytest.raises(WrongPassphraseError) as info:
        keystore.unseal(sealed, passphrase="not it")
    assert PASS not in str(info.value) and "not it" not in str(info.value)


@pytest.mark.twin
def test_missing_passphrase_is_named(sealed):
    with pytest.raises(WrongPassphraseError):
        keystore.unseal(sealed)


@pytest.mark.twin
@pytest.mark.parametrize("field", ["ciphertext", "nonce"])
def test_flipped_byte_is_tampering(sealed, field):
    doc = copy.deepcopy(sealed)
    raw = bytearray(bytes.fromhex(doc[field]))
    raw[3] ^= 0x40
    doc[field] = raw.hex()
    with pytest.raises(KeystoreTamperedError):
        keystore.unseal(doc, passphrase=PASS)


@pytest.mark.twin
def test_swapped_public_key_is_tampering(sealed):
    doc = copy.deepcopy(sealed)
    doc["public_key"] = bls.public_key(bls.secret_key_from_int(7)).hex()
    with pytest.raises(KeystoreTamperedError):
        keystore.unseal(doc, passphrase=PASS)


@pytest.mark.twin
def test_changed_kdf_salt_cannot_open(sealed):
    # The salt feeds the passphrase check, so it shows as a wrong passphrase, never as a key.
    doc = copy.deepcopy(sealed)
    doc["seal"]["kdf"]["salt"] = "00" * 16
    with pytest.raises(WrongPassphraseError):
        keystore.unseal(doc, passphrase=PASS)


@pytest.mark.twin
def test_newer_version_is_refused_with_upgrade_hint(sealed):
    doc = dict(sealed, version=2)
    with pytest.raises(KeystoreFormatError, match="newer"):
        keystore.unseal(doc, passphrase=PASS)


@pytest.mark.twin
@pytest.mark.parametrize("n", [1 << 21, 1000, 1 << 9])
def test_scrypt_limits_are_enforced(sealed, n):
    doc = copy.deepcopy(sealed)
    doc["seal"]["kdf"]["n"] = n
    with pytest.raises(KeystoreFormatError):
        keystore.unseal(doc, passphrase=PASS)


@pytest.mark.twin
def test_token_sealed_file_without_token_is_named():
    doc = {"format": keystore.FORMAT, "version": 1, "public_key": KEY.public_key.hex(),
           "seal": {"scheme": keystore.SCHEME_PKCS11, "token_label": "t", "kek_label": "k"},
           "nonce": "00" * 12, "ciphertext": "00" * 48}
    with pytest.raises(KeystoreFormatError, match="token"):
        keystore.unseal(doc)


def _mutations(doc):
    """Every field removed, replaced by a wrong type, or made the wrong size."""
    flat = [((), k) for k in doc] + [(("seal",), k) for k in doc["seal"]] + \
           [(("seal", "kdf"), k) for k in doc["seal"]["kdf"]]
    for path, name in flat:
        for value in (None, 5, "zz", "00", [], {}, True, -1, 1 << 70):
            mutated = copy.deepcopy(doc)
            target = mutated
            for part in path:
                target = target[part]
            target[name] = value
            yield mutated
        mutated = copy.deepcopy(doc)
        target = mutated
        for part in path:
            target = target[part]
        del target[name]
        yield mutated


@pytest.mark.twin
def test_every_field_mutation_gives_a_named_error(sealed):
    count = 0
    for doc in _mutations(sealed):
        with pytest.raises(DuskEdgeError):
            keystore.unseal(doc, passphrase=PASS)
        count += 1
    assert count > 50


@pytest.mark.twin
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
                    max_leaves=12))
def test_random_documents_raise_only_named_errors(value):
    with pytest.raises(DuskEdgeError):
        keystore.unseal(value, passphrase=PASS)


def test_file_is_written_0600_atomically(tmp_path, sealed):
    path = str(tmp_path / "keystore.json")
    keystore.write_keystore(path, sealed)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert os.listdir(str(tmp_path)) == ["keystore.json"]   # no temp file left behind
    keystore.write_keystore(path, sealed)                     # replace works too
    assert keystore.open_keystore(path, PASS).secret_key == KEY.secret_key
    assert json.loads(open(path).read())["seal"]["scheme"] == keystore.SCHEME_SCRYPT


def test_group_readable_file_is_refused(tmp_path, sealed):
    path = str(tmp_path / "keystore.json")
    keystore.write_keystore(path, sealed)
    os.chmod(path, 0o644)
    with pytest.raises(KeystorePermissionError):
        keystore.open_keystore(path, PASS)


@pytest.mark.parametrize("content", [b"", b"{", b"\xff\xfe", b"[]", b'{"format": "x"}'])
def test_garbage_files_give_named_errors(tmp_path, content):
    path = str(tmp_path / "ks.json")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, content)
    os.close(fd)
    with pytest.raises(KeystoreFormatError):
        keystore.open_keystore(path, PASS)


def test_missing_and_oversized_files(tmp_path):
    with pytest.raises(KeystoreError, match="does not exist"):
        keystore.open_keystore(str(tmp_path / "nope.json"), PASS)
    path = str(tmp_path / "big.json")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, b" " * ((1 << 20) + 10))
    os.close(fd)
    with pytest.raises(KeystoreError, match="larger"):
        keystore.open_keystore(path, PASS)


@pytest.mark.twin
def test_repr_and_document_never_show_the_secret(sealed):
    secret_hex = KEY.secret_key.hex()
    assert secret_hex not in repr(KEY)
    assert secret_hex not in json.dumps(sealed)
    assert PASS not in json.dumps(sealed)
