"""PKCS#11 token backend on python-pkcs11 (DESIGN.md §3, DEPENDENCIES.md §5).

The token holds two kinds of non-extractable keys: the owner key (Ed25519, or ECDSA P-256 for tokens
without EdDSA) that signs stake and transfer payloads inside the token, and an AES-256 key (the KEK)
that seals the BLS consensus key with AES-GCM, because HSMs do not sign BLS12-381.
Tokens are chosen by label (SoftHSM moves a token to a random slot id on init). Every PKCS#11
failure becomes a named error: an absent module, token or key is TokenMissingError, a refused PIN is
WrongPinError, a failed GCM tag is KeystoreTamperedError; the node never sees a raw PKCS#11 exception.
"""
import getpass
import hashlib
import os

from dusk_edge.keys.errors import (KeystoreTamperedError, PinSourceError, TokenError,
                                   TokenMissingError, WrongPinError)

OWNER_ED25519 = "ed25519"
OWNER_P256 = "p256"
OWNER_KINDS = (OWNER_ED25519, OWNER_P256)
MODULE_ENV = "DUSK_EDGE_PKCS11_MODULE"
DEFAULT_MODULES = ("/usr/lib/softhsm/libsofthsm2.so",
                   "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
                   "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
                   "/usr/lib/arm-linux-gnueabihf/softhsm/libsofthsm2.so")
MAX_PIN_LENGTH = 256


def _pkcs11():
    try:
        import pkcs11
    except ImportError:
        raise TokenMissingError(
            "python-pkcs11 is not installed (pip install python-pkcs11)") from None
    return pkcs11


def resolve_pin(pin_file=None, pin_env=None, prompt=False, label="token"):
    """The user PIN from a file (first line), an environment variable, or an interactive prompt."""
    if pin_file:
        try:
            with open(pin_file, "rb") as f:
                raw = f.read(MAX_PIN_LENGTH + 2)
        except OSError as exc:
            raise PinSourceError("cannot read PIN file %s: %s" % (pin_file, exc.strerror)) from None
        pin = raw.decode("utf-8", "replace").splitlines()[0] if raw.strip() else ""
    elif pin_env:
        pin = os.environ.get(pin_env, "")
    elif prompt:
        pin = getpass.getpass("PIN for %s: " % label)
    else:
        raise PinSourceError("no PIN source: give a PIN file, an environment variable or --prompt")
    if not pin or len(pin) > MAX_PIN_LENGTH:
        raise PinSourceError("the PIN source is empty or longer than %d characters" % MAX_PIN_LENGTH)
    return pin


def find_module(module_path=None):
    """Path of the PKCS#11 module: the argument, $DUSK_EDGE_PKCS11_MODULE, or SoftHSM's usual paths."""
    candidates = [module_path] if module_path else (
        [os.environ[MODULE_ENV]] if os.environ.get(MODULE_ENV) else list(DEFAULT_MODULES))
    for path in candidates:
        if os.path.exists(path):
            return path
    raise TokenMissingError("PKCS#11 module not found (tried %s)" % ", ".join(candidates))


def _map_error(exc, what):
    pkcs11 = _pkcs11()
    e = pkcs11.exceptions
    name = type(exc).__name__
    if isinstance(exc, (e.PinIncorrect, e.PinLocked, e.PinInvalid, e.PinLenRange, e.PinExpired)):
        return WrongPinError("token refused the PIN while %s (%s)" % (what, name))
    if isinstance(exc, (e.NoSuchToken, e.TokenNotPresent, e.DeviceRemoved, e.NoSuchKey,
                        e.SessionClosed, e.SessionHandleInvalid, e.ObjectHandleInvalid,
                        e.KeyHandleInvalid, e.TokenNotRecognised, e.SlotIDInvalid)):
        return TokenMissingError("token or key unavailable while %s (%s)" % (what, name))
    return TokenError("token failed while %s (%s)" % (what, name))


class Token:
    """An open, logged-in session on one token. Use open_token(); close() when done."""

    def __init__(self, session, label):
        self._session = session
        self.label = label

    def close(self):
        try:
            self._session.close()
        except Exception:  # noqa: BLE001 - a removed token cannot be closed cleanly; nothing to do
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _call(self, what, fn, *args, **kwargs):
        pkcs11 = _pkcs11()
        try:
            return fn(*args, **kwargs)
        except pkcs11.exceptions.PKCS11Error as exc:
            raise _map_error(exc, what) from None

    # consensus-key wrapping ------------------------------------------------------------------

    def _kek(self, kek_label):
        pkcs11 = _pkcs11()
        return self._call("finding AES key %r" % kek_label, self._session.get_key,
                          object_class=pkcs11.ObjectClass.SECRET_KEY,
                          key_type=pkcs11.KeyType.AES, label=kek_label)

    def ensure_kek(self, kek_label):
        """Create the non-extractable AES-256 key ``kek_label`` unless it exists."""
        pkcs11 = _pkcs11()
        try:
            return self._kek(kek_label)
        except TokenMissingError:
            pass
        attr = pkcs11.Attribute
        template = {attr.EXTRACTABLE: False, attr.SENSITIVE: True, attr.ENCRYPT: True,
                    attr.DECRYPT: True, attr.WRAP: True, attr.UNWRAP: True}
        return self._call("generating AES key %r" % kek_label, self._session.generate_key,
                          pkcs11.KeyType.AES, 256, label=kek_label, store=True, template=template)

    def kek_encrypt(self, kek_label, plaintext, nonce, aad):
        from pkcs11.mechanisms import GCMParams
        kek = self._kek(kek_label)
        return self._call("sealing with %r" % kek_label, kek.encrypt, plaintext,
                          mechanism=_pkcs11().Mechanism.AES_GCM,
                          mechanism_param=GCMParams(nonce, aad=aad))

    def kek_decrypt(self, kek_label, ciphertext, nonce, aad):
        pkcs11 = _pkcs11()
        from pkcs11.mechanisms import GCMParams
        kek = self._kek(kek_label)
        try:
            return kek.decrypt(ciphertext, mechanism=pkcs11.Mechanism.AES_GCM,
                               mechanism_param=GCMParams(nonce, aad=aad))
        except (pkcs11.exceptions.GeneralError, pkcs11.exceptions.EncryptedDataInvalid,
                pkcs11.exceptions.EncryptedDataLenRange, pkcs11.exceptions.FunctionFailed):
            raise KeystoreTamperedError("keystore failed authentication in the token: "
                                        "the file was altered or sealed by another AES key") from None
        except pkcs11.exceptions.PKCS11Error as exc:
            raise _map_error(exc, "unsealing with %r" % kek_label) from None

    # owner key -------------------------------------------------------------------------------

    def generate_owner_key(self, label, kind=OWNER_ED25519):
        """Generate a non-extractable owner key pair in the token; returns its public key bytes."""
        pkcs11 = _pkcs11()
        from pkcs11.util.ec import encode_named_curve_parameters
        if kind not in OWNER_KINDS:
            raise TokenError("owner key kind must be one of %s" % ", ".join(OWNER_KINDS))
        key_type = pkcs11.KeyType.EC_EDWARDS if kind == OWNER_ED25519 else pkcs11.KeyType.EC
        curve = "1.3.101.112" if kind == OWNER_ED25519 else "secp256r1"
        params = self._call("preparing %s parameters" % kind, self._session.create_domain_parameters,
                            key_type, {pkcs11.Attribute.EC_PARAMS: encode_named_curve_parameters(curve)},
                            local=True)
        private_template = {pkcs11.Attribute.EXTRACTABLE: False, pkcs11.Attribute.SENSITIVE: True}
        self._call("generating %s owner key" % kind, params.generate_keypair, store=True,
                   label=label, private_template=private_template)
        return self.owner_public_key(label, kind)

    def _owner_keys(self, label, kind, object_class):
        pkcs11 = _pkcs11()
        key_type = pkcs11.KeyType.EC_EDWARDS if kind == OWNER_ED25519 else pkcs11.KeyType.EC
        return self._call("finding owner key %r" % label, self._session.get_key,
                          object_class=object_class, key_type=key_type, label=label)

    def owner_public_key(self, label, kind=OWNER_ED25519):
        """Ed25519: the raw 32-byte key. P-256: DER SubjectPublicKeyInfo."""
        pkcs11 = _pkcs11()
        from pkcs11.util.ec import encode_ec_public_key
        pub = self._owner_keys(label, kind, pkcs11.ObjectClass.PUBLIC_KEY)
        if kind == OWNER_ED25519:
            point = self._call("reading owner public key", pub.__getitem__, pkcs11.Attribute.EC_POINT)
            if len(point) == 34 and point[:2] == b"\x04\x20":
                return bytes(point[2:])
            if len(point) == 32:
                return bytes(point)
            raise TokenError("unexpected Ed25519 EC_POINT encoding from the token")
        return self._call("encoding owner public key", encode_ec_public_key, pub)

    def sign_owner(self, label, message, kind=OWNER_ED25519):
        """Ed25519 signature (64 B), or raw r||s P-256 over SHA-256(message) (SoftHSM has no
        CKM_ECDSA_SHA256, so the host hashes)."""
        pkcs11 = _pkcs11()
        priv = self._owner_keys(label, kind, pkcs11.ObjectClass.PRIVATE_KEY)
        if kind == OWNER_ED25519:
            return self._call("signing with the owner key", priv.sign, message,
                              mechanism=pkcs11.Mechanism.EDDSA)
        digest = hashlib.sha256(message).digest()
        return self._call("signing with the owner key", priv.sign, digest,
                          mechanism=pkcs11.Mechanism.ECDSA)


def open_token(token_label, pin, module_path=None):
    """Open a logged-in read-write session on the token labelled ``token_label``."""
    pkcs11 = _pkcs11()
    path = find_module(module_path)
    try:
        lib = pkcs11.lib(path)
    except Exception as exc:  # noqa: BLE001 - python-pkcs11 raises plain RuntimeError on dlopen failure
        raise TokenMissingError(
            "cannot load PKCS#11 module %s (%s)" % (path, type(exc).__name__)) from None
    try:
        token = lib.get_token(token_label=token_label)
        try:
            session = token.open(user_pin=pin, rw=True)
        except pkcs11.exceptions.UserAlreadyLoggedIn:
            # PKCS#11 login is per process and token: another open session of ours already
            # logged in, and a new session shares that login.
            session = token.open(rw=True)
    except pkcs11.exceptions.PKCS11Error as exc:
        raise _map_error(exc, "opening token %r" % token_label) from None
    return Token(session, token_label)


def rescan_tokens(module_path=None):
    """Re-initialise the module so tokens plugged in (or initialised) since start-up are seen."""
    pkcs11 = _pkcs11()
    try:
        pkcs11.lib(find_module(module_path)).reinitialize()
    except pkcs11.exceptions.PKCS11Error as exc:
        raise _map_error(exc, "rescanning tokens") from None
