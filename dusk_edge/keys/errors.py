"""Named errors of key custody. Messages never contain secrets (keys, passphrases, PINs, shared
secrets); they name the file, the token label or the field instead."""
from dusk_edge.core.errors import DuskEdgeError, RemoteProtocolError


class KeyCustodyError(DuskEdgeError):
    """Base of every key-custody error."""


class KeystoreError(KeyCustodyError):
    """A keystore file is missing, malformed or unreadable."""


class KeystoreFormatError(KeystoreError, RemoteProtocolError):
    """The keystore file does not parse, has a bad field, or a version we do not know."""


class KeystorePermissionError(KeystoreError):
    """A key file is readable by group or others (it must be 0600)."""


class WrongPassphraseError(KeystoreError):
    """The passphrase does not open this keystore."""


class KeystoreTamperedError(KeystoreError, RemoteProtocolError):
    """The keystore was modified: authentication failed although the unsealing key was right."""


class TokenError(KeyCustodyError):
    """A PKCS#11 token or module failed."""


class TokenMissingError(TokenError):
    """The PKCS#11 module, the token (unplugged, never initialised) or a key object is absent."""


class WrongPinError(TokenError):
    """The token refused the PIN (or the PIN is locked)."""


class PinSourceError(TokenError):
    """No PIN could be read from the configured file, environment variable or prompt."""


class SigningRefusedError(KeyCustodyError):
    """The signer will not sign this request."""


class DoubleSignError(SigningRefusedError):
    """A signature for the same (round, iteration, step) over different data was already released,
    or the slot is below the pruned (finalized) floor where history is no longer kept."""


class DuplicateInstanceError(SigningRefusedError):
    """Another running instance signs with our key (seen on the network, or the guard is locked)."""


class SigningNotReadyError(SigningRefusedError):
    """The duplicate-instance listening window has not ended yet."""


class BadSignRequestError(SigningRefusedError):
    """The request is malformed: bad sizes, or the message does not match (round, iteration, step)."""


class GuardError(KeyCustodyError):
    """The double-sign guard history cannot be read, written or imported."""


class GuardCorruptError(GuardError, RemoteProtocolError):
    """A guard record in the middle of the history fails its checksum: refuse to sign."""


class SignerProtocolError(KeyCustodyError, RemoteProtocolError):
    """A remote-signer peer broke the framed protocol."""


class SignerAuthError(SignerProtocolError):
    """Mutual authentication with the remote signer failed (wrong secret or bad MAC)."""


class ReplayError(SignerProtocolError):
    """A remote-signer request reused a sequence number or came from an old session."""


class SignerUnavailableError(KeyCustodyError):
    """The remote signer cannot be reached (socket/serial line gone, timeout)."""
