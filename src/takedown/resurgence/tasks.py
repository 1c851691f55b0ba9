"""Background jobs: scan what is due every minute; probe predicted successors slowly.

Idempotent: due rows are deleted in the transaction that stores their
candidates, so a crashed run leaves them due; a probe moves its prediction's
next probe on in the transaction that records it.
"""

from __future__ import annotations

import logging
from functools import lru_cache

import httpx
from sqlalchemy.orm import Session, sessionmaker

from takedown.config import get_settings
from takedown.db import make_engine, make_sessionmaker, session_scope
from takedown.kit.jobs import job, ticker

log = logging.getLogger("takedown.resurgence")


@lru_cache(maxsize=1)
def _factory() -> sessionmaker[Session]:
    settings = get_settings()
    settings.ensure_dirs()
    return make_sessionmaker(make_engine(settings.effective_database_url))


@job("resurgence.scan")
def scan_job(limit: int = 500) -> None:
    from takedown.resurgence.service import run_due

    with session_scope(_factory()) as session:
        rep = run_due(session, limit=limit)
    if rep.seen or rep.removed:
        log.info("resurgence: %s", rep)


@ticker("resurgence.scan", 60)
def scan_ticker() -> None:
    scan_job()


@job("resurgence.probe")
def probe_job(limit: int = 50, per_host: int = 5) -> None:
    from takedown.kit.http import make_client
    from takedown.resurgence.predictions import probe_due

    s = get_settings()

    def client() -> httpx.AsyncClient:
        return make_client(**s.http_client_options(), per_host_limit=1, max_connections=4)

    from takedown.verification.detectors import registry_from_db

    with session_scope(_factory()) as session:
        registry = registry_from_db(session)
        states = probe_due(session, client, limit=limit, per_host=per_host, registry=registry)
    if states:
        log.info("resurgence probes: %s", dict(states))


@ticker("resurgence.probe", 300)
def probe_ticker() -> None:
    probe_job()
