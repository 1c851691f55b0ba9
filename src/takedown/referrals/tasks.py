"""Background jobs: deliver what is due (capturing evidence first), flag overdue orders,
ask platforms' status APIs for the removal times they state.

All are idempotent: the delivery rows say what is due, and an acknowledged
delivery is never picked again; escalation flags an order once; a removal time
is kept once (the earliest statement).
"""

from __future__ import annotations

import logging
from functools import lru_cache

from sqlalchemy.orm import Session, sessionmaker

from takedown.config import get_settings
from takedown.db import make_engine, make_sessionmaker, session_scope
from takedown.kit.jobs import job, on_start, ticker

log = logging.getLogger("takedown.referrals")


@lru_cache(maxsize=1)
def _factory() -> sessionmaker[Session]:
    settings = get_settings()
    settings.ensure_dirs()
    return make_sessionmaker(make_engine(settings.effective_database_url))


@job("referrals.deliver")
def deliver_job(limit: int = 200) -> None:
    from takedown.referrals import delivery

    settings = get_settings()
    channels = delivery.default_channels(settings)
    rep = delivery.deliver_due(_factory(), settings, channels, limit=limit)
    if rep.attempted:
        log.info("referral deliveries: %s", rep)


@job("referrals.escalate")
def escalate_job() -> None:
    from takedown.referrals import service

    with session_scope(_factory()) as session:
        flagged = service.escalate_overdue(session)
    if flagged:
        log.warning("overdue removal orders: %s", ", ".join(r.reference for r in flagged))


@job("referrals.poll_status")
def poll_status_job(limit: int = 500) -> None:
    from takedown.kit.http import make_sync_client
    from takedown.referrals import status

    settings = get_settings()
    client = make_sync_client(**settings.http_client_options(), timeout=30.0)
    with client, session_scope(_factory()) as session:
        rep = status.poll(session, client, limit=limit)
    if rep.stated or rep.failed:
        log.info("referral status: %s", rep)


@ticker("referrals.poll_status", 300)
def poll_status_ticker() -> None:
    poll_status_job()


@ticker("referrals.deliver", 30)
def deliver_ticker() -> None:
    deliver_job()


@ticker("referrals.escalate", 60)
def escalate_ticker() -> None:
    escalate_job()


@on_start("referrals.release_dead_senders")
def release_dead_senders() -> None:
    """Deliveries a killed process was sending are free again (their next attempt reuses
    the idempotency key, and the interrupted attempt stays on record)."""
    from takedown.referrals import repository

    with session_scope(_factory()) as session:
        n = repository.release_dead_senders(session)
    if n:
        log.warning("released %d delivery claim(s) of a stopped process", n)
