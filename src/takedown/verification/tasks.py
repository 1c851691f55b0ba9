"""Background job: check every item that is due (the database says which), every minute.

Idempotent: due items are leased while a run checks them, and each result
moves its schedule on; a crashed run's leases expire and the items are due
again.
"""

from __future__ import annotations

import logging
from functools import lru_cache

import httpx
from sqlalchemy.orm import Session, sessionmaker

from takedown.config import get_settings
from takedown.db import make_engine, make_sessionmaker, session_scope
from takedown.kit.jobs import job, ticker

log = logging.getLogger("takedown.verification")


@lru_cache(maxsize=1)
def _factory() -> sessionmaker[Session]:
    settings = get_settings()
    settings.ensure_dirs()
    return make_sessionmaker(make_engine(settings.effective_database_url))


@job("verification.verify")
def verify_job(limit: int = 20_000, per_host: int = 16) -> None:
    from takedown.kit.http import make_client
    from takedown.verification.detectors import registry_from_db
    from takedown.verification.engine import EngineConfig
    from takedown.verification.service import verify_due

    s = get_settings()

    def client() -> httpx.AsyncClient:
        return make_client(
            **s.http_client_options(), per_host_limit=per_host, max_connections=per_host * 5,
        )  # fmt: skip

    factory = _factory()
    with session_scope(factory) as session:
        registry = registry_from_db(session)
    rep = verify_due(factory, client, registry=registry, limit=limit,
                     engine_config=EngineConfig(per_host_limit=per_host))  # fmt: skip
    if rep.checked:
        log.info("verification: %d checked, %s", rep.checked, rep.outcomes)


@ticker("verification.verify", 60)
def verify_ticker() -> None:
    verify_job()
