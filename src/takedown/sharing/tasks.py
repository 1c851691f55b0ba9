"""Background jobs of sharing: publish live shares again, pull partners that are due.

Both are idempotent and ask the database what is due: publishing unchanged data adds
nothing (deterministic STIX), and a pull resumes from the partner's checkpoint, with
every object keyed by source, id and version in the inbox.
"""

from __future__ import annotations

import logging
from functools import lru_cache

from sqlalchemy.orm import Session, sessionmaker

from takedown.config import get_settings
from takedown.db import make_engine, make_sessionmaker, session_scope
from takedown.kit.clock import SystemClock
from takedown.kit.jobs import job, ticker

log = logging.getLogger("takedown.sharing")


@lru_cache(maxsize=1)
def _factory() -> sessionmaker[Session]:
    settings = get_settings()
    settings.ensure_dirs()
    return make_sessionmaker(make_engine(settings.effective_database_url))


def publish_due(factory: sessionmaker[Session], limit: int = 500) -> int:
    """Publish every live share that may have changed; one transaction per share."""
    from takedown.sharing import publish, repository

    with session_scope(factory) as session:
        ids = repository.live_shares(session, limit)
    added = 0
    for share_id in ids:
        try:
            with session_scope(factory) as session:
                share = repository.share(session, share_id)
                if share is None or share.revoked_at is not None or not publish.due(session, share):
                    continue
                added += publish.publish_share(session, share, now=SystemClock().now()).added
        except Exception:
            log.exception("publishing share %s failed; it is tried again next time", share_id)
    return added


@job("sharing.publish")
def publish_job() -> None:
    added = publish_due(_factory())
    if added:
        log.info("sharing: %d new object versions published", added)


@ticker("sharing.publish", 300)
def publish_ticker() -> None:
    publish_job()


def pull_due(factory: sessionmaker[Session], limit: int = 20) -> int:
    """Pull every partner that is due (the database says which); returns how many."""
    from takedown.sharing import client, repository

    settings = get_settings()
    with session_scope(factory) as session:
        due = repository.due_partners(session, SystemClock().now(), limit)
    for partner_id in due:
        try:
            client.pull(factory, partner_id, pages=client.taxii_pages(settings))
        except Exception:
            log.exception("pulling partner %s failed; retried later", partner_id)
    return len(due)


@job("sharing.pull")
def pull_job() -> None:
    pull_due(_factory())


@ticker("sharing.pull", 60)
def pull_ticker() -> None:
    pull_job()
