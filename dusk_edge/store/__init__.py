"""The flash-friendly block store (DESIGN.md §6, docs/storage.md)."""
from dusk_edge.store.block_store import BlockStore, StoredBlock, store_path
from dusk_edge.store.errors import (StoreCorruptError, StoreError, StoreFormatError, StoreFullError,
                                    StoreLockedError, StoreQuarantinedError)

__all__ = ["BlockStore", "StoredBlock", "store_path", "StoreError", "StoreFullError",
           "StoreFormatError", "StoreCorruptError", "StoreQuarantinedError", "StoreLockedError"]
