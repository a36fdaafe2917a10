"""Keystore: the BLS consensus key at rest (format in docs/keystore.md).

Two seals, one JSON document (version 1):
- ``scrypt-aes256gcm``: scrypt(passphrase, salt) gives 64 bytes; the first 32 are the AES-256-GCM
  key, the SHA-256 of the last 32 is stored as ``check``. A wrong passphrase fails ``check``
  (WrongPassphraseError); a right one whose GCM tag fails means the file was altered
  (KeystoreTamperedError).
- ``pkcs11-aes256gcm``: AES-256-GCM inside the token with a non-extractable key (the KEK); the file
  is useless without the token. A failed tag is tampering.
Both bind the public key and the seal parameters as GCM associated data, and the decrypted key must
reproduce the stored public key. Files are written 0600 atomically and refused if group/other can
read them. Nothing secret ever goes into an exception message.
"""
import hashlib
import json
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from dusk_edge.core.errors import CryptoError
from dusk_edge.crypto import bls
from dusk_edge.keys.errors import (KeystoreFormatError, KeystoreTamperedError,
                                   WrongPassphraseError)
from dusk_edge.keys.private_files import read_private_file, write_private_file

FORMAT = "dusk-edge-keystore"
VERSION = 1
SCHEME_SCRYPT = "scrypt-aes256gcm"
SCHEME_PKCS11 = "pkcs11-aes256gcm"
DEFAULT_SCRYPT = {"n": 1 << 15, "r": 8, "p": 1}
# Limits on what a file may ask of us (a hostile file must not make us allocate gigabytes).
MAX_SCRYPT_N = 1 << 20
MAX_SCRYPT_R = 32
MAX_SCRYPT_P = 16
MIN_SCRYPT_N = 1 << 10
NONCE_SIZE = 12
SALT_SIZE = 16
MAX_LABEL = 64
AAD_PREFIX = b"dusk-edge-keystore/v1\x00"


class ConsensusKey:
    """An unsealed BLS consensus key in RAM. repr() never shows the secret."""

    __slots__ = ("secret_key", "public_key")

    def __init__(self, secret_key, public_key=None):
        bls.load_secret_key(secret_key)
        self.secret_key = bytes(secret_key)
        self.public_key = public_key if public_key is not None else bls.public_key(secret_key)

    def __repr__(self):
        return "ConsensusKey(public_key=%s…)" % self.public_key.hex()[:16]


def generate_consensus_key(rng=os.urandom):
    """A fresh canonical non-zero BLS secret key from 64 random bytes (wide reduction)."""
    value = int.from_bytes(rng(64), "little") % (bls.R - 1) + 1
    return ConsensusKey(bls.secret_key_from_int(value))


def _aad(public_key_hex, seal_params):
    return AAD_PREFIX + json.dumps({"public_key": public_key_hex, "seal": seal_params},
                                   sort_keys=True, separators=(",", ":")).encode()


def _scrypt(passphrase, salt, n, r, p):
    if isinstance(passphrase, str):
        passphrase = passphrase.encode("utf-8")
    return Scrypt(salt=salt, length=64, n=n, r=r, p=p).derive(passphrase)


def seal_with_passphrase(key, passphrase, scrypt_params=None, rng=os.urandom):
    """Keystore document (dict) sealing ``key`` under ``passphrase``."""
    params = dict(DEFAULT_SCRYPT if scrypt_params is None else scrypt_params)
    _check_scrypt_params(params)
    salt = rng(SALT_SIZE)
    derived = _scrypt(passphrase, salt, params["n"], params["r"], params["p"])
    seal = {"scheme": SCHEME_SCRYPT,
            "kdf": {"n": params["n"], "r": params["r"], "p": params["p"], "salt": salt.hex()},
            "check": hashlib.sha256(derived[32:]).hexdigest()}
    nonce = rng(NONCE_SIZE)
    pk_hex = key.public_key.hex()
    ciphertext = AESGCM(derived[:32]).encrypt(nonce, key.secret_key, _aad(pk_hex, seal))
    return _document(pk_hex, seal, nonce, ciphertext)


def seal_with_token(key, token, kek_label, rng=os.urandom):
    """Keystore document sealing ``key`` with the token's AES key ``kek_label`` (created if absent)."""
    token.ensure_kek(kek_label)
    seal = {"scheme": SCHEME_PKCS11, "token_label": token.label, "kek_label": kek_label}
    nonce = rng(NONCE_SIZE)
    pk_hex = key.public_key.hex()
    ciphertext = token.kek_encrypt(kek_label, key.secret_key, nonce, _aad(pk_hex, seal))
    return _document(pk_hex, seal, nonce, ciphertext)


def _document(pk_hex, seal, nonce, ciphertext):
    return {"format": FORMAT, "version": VERSION, "public_key": pk_hex, "seal": seal,
            "nonce": nonce.hex(), "ciphertext": ciphertext.hex()}


def unseal(document, passphrase=None, token=None):
    """The ConsensusKey inside a parsed keystore document.

    Raises KeystoreFormatError (bad document), WrongPassphraseError, KeystoreTamperedError, or the
    token's errors (TokenMissingError, WrongPinError) for token-sealed files.
    """
    pk_hex, seal, nonce, ciphertext = _parse_document(document)
    aad = _aad(pk_hex, seal)
    if seal["scheme"] == SCHEME_SCRYPT:
        if passphrase is None:
            raise WrongPassphraseError("keystore is passphrase-sealed: a passphrase is required")
        kdf = seal["kdf"]
        derived = _scrypt(passphrase, bytes.fromhex(kdf["salt"]), kdf["n"], kdf["r"], kdf["p"])
        if hashlib.sha256(derived[32:]).hexdigest() != seal["check"]:
            raise WrongPassphraseError("wrong passphrase for this keystore")
        try:
            secret = AESGCM(derived[:32]).decrypt(nonce, ciphertext, aad)
        except InvalidTag:
            raise KeystoreTamperedError(
                "keystore failed authentication: the file was altered") from None
    else:
        if token is None:
            raise KeystoreFormatError("keystore is sealed by token %r: open the token first"
                                      % seal["token_label"])
        secret = token.kek_decrypt(seal["kek_label"], ciphertext, nonce, aad)
    try:
        key = ConsensusKey(secret)
    except CryptoError:
        raise KeystoreTamperedError("keystore holds an invalid secret key") from None
    if key.public_key.hex() != pk_hex:
        raise KeystoreTamperedError("keystore secret does not match its public key")
    return key


def _field(container, name, kind, where):
    value = container.get(name) if isinstance(container, dict) else None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise KeystoreFormatError("keystore field %s%s is missing or not %s"
                                  % (where, name, kind.__name__))
    return value


def _hex_field(container, name, size, where=""):
    text = _field(container, name, str, where)
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise KeystoreFormatError("keystore field %s%s is not hex" % (where, name)) from None
    if size is not None and len(raw) != size:
        raise KeystoreFormatError("keystore field %s%s must be %d bytes" % (where, name, size))
    return raw


def _parse_document(doc):
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise KeystoreFormatError("not a dusk-edge keystore (format field)")
    version = _field(doc, "version", int, "")
    if version > VERSION:
        raise KeystoreFormatError("keystore version %d is newer than this dusk-edge (%d): "
                                  "upgrade dusk-edge, do not downgrade" % (version, VERSION))
    if version != VERSION:
        raise KeystoreFormatError("unknown keystore version %d" % version)
    pk = _hex_field(doc, "public_key", bls.PUBLIC_KEY_SIZE)
    nonce = _hex_field(doc, "nonce", NONCE_SIZE)
    ciphertext = _hex_field(doc, "ciphertext", bls.SECRET_KEY_SIZE + 16)
    seal = _field(doc, "seal", dict, "")
    scheme = seal.get("scheme")
    if scheme == SCHEME_SCRYPT:
        kdf = _field(seal, "kdf", dict, "seal.")
        params = {k: _field(kdf, k, int, "seal.kdf.") for k in ("n", "r", "p")}
        _check_scrypt_params(params)
        _hex_field(kdf, "salt", SALT_SIZE, "seal.kdf.")
        _hex_field(seal, "check", 32, "seal.")
    elif scheme == SCHEME_PKCS11:
        for name in ("token_label", "kek_label"):
            if len(_field(seal, name, str, "seal.")) > MAX_LABEL:
                raise KeystoreFormatError("keystore field seal.%s is too long" % name)
    else:
        raise KeystoreFormatError("unknown keystore seal scheme")
    return pk.hex(), seal, nonce, ciphertext


def _check_scrypt_params(params):
    n, r, p = params["n"], params["r"], params["p"]
    if not (MIN_SCRYPT_N <= n <= MAX_SCRYPT_N) or n & (n - 1):
        raise KeystoreFormatError("scrypt n must be a power of two in [2^10, 2^20]")
    if not (1 <= r <= MAX_SCRYPT_R) or not (1 <= p <= MAX_SCRYPT_P):
        raise KeystoreFormatError("scrypt r must be 1..%d and p 1..%d" % (MAX_SCRYPT_R, MAX_SCRYPT_P))


def encode_document(document):
    return (json.dumps(document, indent=2, sort_keys=True) + "\n").encode()


def write_keystore(path, document):
    """Write a keystore document atomically with mode 0600."""
    write_private_file(path, encode_document(document))


def read_keystore(path):
    """Parse and validate a keystore file (mode must be 0600); returns the document dict."""
    raw = read_private_file(path)
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise KeystoreFormatError("keystore %s is not valid JSON" % path) from None
    _parse_document(document)
    return document


def open_keystore(path, passphrase=None, token=None):
    """Read ``path`` and return its ConsensusKey (see unseal for errors)."""
    return unseal(read_keystore(path), passphrase=passphrase, token=token)


def describe(document):
    """Non-secret summary of a keystore document for `keys status`."""
    pk_hex, seal, _, _ = _parse_document(document)
    summary = {"version": document["version"], "public_key": pk_hex, "scheme": seal["scheme"]}
    if seal["scheme"] == SCHEME_PKCS11:
        summary["token_label"] = seal["token_label"]
        summary["kek_label"] = seal["kek_label"]
    else:
        summary["scrypt_n"] = seal["kdf"]["n"]
    return summary
