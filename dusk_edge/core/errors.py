# Named rejections, split by blame (the h11 rule):
#   RemoteProtocolError: a peer sent something wrong -> drop it, count it, maybe blocklist;
#   LocalProtocolError: we misused our own API -> a bug to fix.
# Never `assert` for validation: -O and MicroPython strip asserts.


class DuskEdgeError(Exception):
    """Base of every error dusk-edge raises on purpose."""


class RemoteProtocolError(DuskEdgeError):
    """Input from outside (a peer, a file, a user) breaks the protocol."""


class LocalProtocolError(DuskEdgeError):
    """Our own code called an API wrongly."""


class DecodeError(RemoteProtocolError):
    """Bytes do not decode: truncated, oversized, or a field out of range."""


class CryptoError(RemoteProtocolError):
    """A key, signature or proof is malformed (not merely invalid)."""


class ConfigError(DuskEdgeError):
    """A configuration, genesis or board profile names a bad field or value."""
