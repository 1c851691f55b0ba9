"""Write-once, content-addressed evidence storage behind a small interface."""

from takedown.evidence.storage.base import EvidenceStore, StoredObject, sha256_hex
from takedown.evidence.storage.registry import get_store, register_backend, store_for_settings

__all__ = [
    "EvidenceStore",
    "StoredObject",
    "get_store",
    "register_backend",
    "sha256_hex",
    "store_for_settings",
]
