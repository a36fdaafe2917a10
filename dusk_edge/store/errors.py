"""Errors of the block store, each named for what the operator has to do."""
from dusk_edge.core.errors import DuskEdgeError


class StoreError(DuskEdgeError):
    """The block store cannot do what was asked."""


class StoreFullError(StoreError):
    """The disk is full (ENOSPC). Nothing committed is lost; appends resume once space returns."""


class StoreFormatError(StoreError):
    """The store was written by a newer (or unknown) on-disk format; refused rather than damaged."""


class StoreCorruptError(StoreError):
    """A stored record fails its checksum; the height is quarantined until `repair`."""


class StoreQuarantinedError(StoreError):
    """Appends are refused while a damaged height waits for `repair` from a good copy."""


class StoreLockedError(StoreError):
    """Another process has the store open."""
