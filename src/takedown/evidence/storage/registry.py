"""Storage backends by name; built-ins register the same way plug-ins would.

A backend is registered as a factory ``(settings) -> EvidenceStore``. Which
one a deployment uses is the setting ``evidence_storage`` ("local" unless
set); S3 options come from ``evidence_s3_*`` settings. The settings are read
with ``getattr`` defaults so this module works before the lead adds them to
``Settings``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from importlib.metadata import entry_points

from takedown.config import Settings
from takedown.evidence.storage.base import EvidenceStore
from takedown.evidence.storage.local import LocalStore
from takedown.evidence.storage.s3 import S3Store
from takedown.kit.errors import Conflict, InvalidInput

Factory = Callable[[Settings], EvidenceStore]
ENTRY_POINT_GROUP = "takedown.plugins"

_backends: dict[str, Factory] = {}
_lock = threading.Lock()
_plugins_loaded = False


def register_backend(name: str, factory: Factory) -> Factory:
    with _lock:
        if name in _backends:
            raise Conflict(f"an evidence storage backend named {name!r} is already registered")
        _backends[name] = factory
    return factory


def backend_names() -> list[str]:
    _load_plugins()
    return sorted(_backends)


def _local(settings: Settings) -> EvidenceStore:
    return LocalStore(settings.evidence_dir)


def _s3(settings: Settings) -> EvidenceStore:
    if not settings.evidence_s3_bucket:
        raise InvalidInput("evidence storage 's3' needs TAKEDOWN_EVIDENCE_S3_BUCKET")
    return S3Store(
        bucket=settings.evidence_s3_bucket,
        prefix=settings.evidence_s3_prefix,
        endpoint_url=settings.evidence_s3_url or None,
        region=settings.evidence_s3_region or None,
        access_key=settings.evidence_s3_access_key or None,
        secret_key=settings.evidence_s3_secret_key or None,
    )


register_backend("local", _local)
register_backend("s3", _s3)


def _load_plugins() -> None:
    """Entry points named ``evidence_storage.<name>`` provide extra backends."""
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name.startswith("evidence_storage.") and ep.name not in _backends:
            register_backend(ep.name.split(".", 1)[1], ep.load())


def get_store(name: str, settings: Settings) -> EvidenceStore:
    _load_plugins()
    factory = _backends.get(name)
    if factory is None:
        raise InvalidInput(f"no evidence storage backend named {name!r}; have {backend_names()}")
    return factory(settings)


def store_for_settings(settings: Settings, name: str | None = None) -> EvidenceStore:
    """The configured store (``evidence_storage`` setting, "local" by default)."""
    chosen = name or settings.evidence_storage or "local"
    return get_store(chosen, settings)
