"""Public error types (re-exported from the MicroPython-compatible core)."""
from dusk_edge.core.errors import (  # noqa: F401
    ConfigError,
    CryptoError,
    DecodeError,
    DuskEdgeError,
    LocalProtocolError,
    RemoteProtocolError,
)
