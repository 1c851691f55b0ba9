"""The registry's domains, as the canonicaliser sees them.

``canonicalize`` is pure: it knows the built-in platforms by their rules and any
other host only through ``canon.dispatch.set_registry_hosts``. This module fills
that map from the ``platforms`` table:

- at once in the process that creates a platform or changes its domains
  (``platforms.service`` calls ``load``), so the next URL reported there is
  already the new platform's;
- at most ``MAX_AGE`` seconds late in every other process (more web processes, a
  worker, the CLI), which call ``ensure_fresh`` before they canonicalise
  (``items.service.report_url``, the intake). One small query (the registry holds tens
  of rows) per ``MAX_AGE`` per process.
"""

from __future__ import annotations

import threading
import time

from sqlalchemy.orm import Session

from takedown.platforms import repository
from takedown.platforms.canon.dispatch import set_registry_hosts
from takedown.platforms.models import PlatformKind

MAX_AGE = 30.0  # seconds
# Kinds whose home page is content (a website is its own item); the home, login, search...
# pages of every other kind name no content (``canon.nocontent``).
SITE_KINDS = (PlatformKind.WEBSITE.value, PlatformKind.ONION.value)

_lock = threading.Lock()
_loaded_at: float | None = None


def load(session: Session) -> dict[str, str]:
    """Read every platform's domains (what this session sees, unflushed changes aside)."""
    global _loaded_at
    hosts = repository.domains_by_slug(session)
    mapping = {domain: slug for slug, domains in hosts for domain in domains}
    sites = repository.slugs_of_kinds(session, SITE_KINDS)
    with _lock:
        set_registry_hosts(mapping, sites)
        _loaded_at = time.monotonic()
    return mapping


def ensure_fresh(session: Session, *, max_age: float = MAX_AGE) -> None:
    """Reload when the map is older than ``max_age`` seconds (or was never loaded)."""
    loaded = _loaded_at
    if loaded is None or time.monotonic() - loaded > max_age:
        load(session)


def forget() -> None:
    """Empty the map and force the next ``ensure_fresh`` to read it (tests)."""
    global _loaded_at
    with _lock:
        set_registry_hosts({})
        _loaded_at = None
