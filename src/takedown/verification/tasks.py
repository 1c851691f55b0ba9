"""Background jobs: check every item that is due (the database says which), every minute
(``Settings.verification_tick_seconds``);
and check one on-demand request's items now.

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
from takedown.kit.jobs import Dispatcher, job, on_start, ticker

log = logging.getLogger("takedown.verification")


@lru_cache(maxsize=1)
def _factory() -> sessionmaker[Session]:
    settings = get_settings()
    settings.ensure_dirs()
    return make_sessionmaker(make_engine(settings.effective_database_url))


def _run(limit: int, per_host: int, request_id: int | None = None) -> None:
    """One run of the engine with the scheduler's settings (per-host limit, pacing,
    Retry-After, retries): an on-demand request is checked as politely as the schedule."""
    from takedown.kit.http import make_client
    from takedown.kit.politeness import shared_budget
    from takedown.verification.detectors import registry_from_db
    from takedown.verification.engine import EngineConfig
    from takedown.verification.policy import policy_for
    from takedown.verification.service import verify_due

    s = get_settings()

    def client() -> httpx.AsyncClient:
        return make_client(
            **s.http_client_options(), per_host_limit=per_host, max_connections=per_host * 5,
        )  # fmt: skip

    factory = _factory()
    with session_scope(factory) as session:
        registry = registry_from_db(session)
    # The host budget shared with monitoring's crawls in this process (kit.politeness).
    rep = verify_due(factory, client, registry=registry, limit=limit, request_id=request_id,
                     engine_config=EngineConfig(per_host_limit=per_host),
                     policy=policy_for(s.verification_confirm_seconds,
                                       s.verification_recheck_seconds),
                     budget=shared_budget())  # fmt: skip
    if rep.checked:
        what = f"request {request_id}" if request_id is not None else "schedule"
        log.info("verification (%s): %d checked, %s", what, rep.checked, rep.outcomes)


@job("verification.verify")
def verify_job(limit: int = 20_000, per_host: int = 16) -> None:
    _run(limit, per_host)


def _tick_seconds() -> float:
    return get_settings().verification_tick_seconds  # 60 unless TAKEDOWN_VERIFICATION_TICK_SECONDS


@ticker("verification.verify", _tick_seconds)
def verify_ticker() -> None:
    verify_job()


CHECK_REQUEST = "verification.check_request"


@job(CHECK_REQUEST)
def check_request_job(request_id: int, per_host: int = 16) -> None:
    """Check the due items of one on-demand request now.

    Idempotent: a second delivery finds them checked (no longer due) and does nothing.
    A lost message costs only time: the items are due, so the scheduler's next run
    takes them.
    """
    _run(100_000, per_host, request_id=request_id)


def record_check_request(session: Session, request_id: int) -> None:
    """Record the request's job in the outbox, in the request's own transaction: a crash
    after the commit cannot lose it (``runtime.outbox``)."""
    from takedown.runtime import outbox

    outbox.record(
        session, CHECK_REQUEST, {"request_id": request_id}, key=f"{CHECK_REQUEST}:{request_id}"
    )


def enqueue_check_request(
    dispatcher: Dispatcher | None, request_id: int, runtime: object | None = None
) -> None:
    """Hand a committed request to the job runtime: the web process's thread pool when
    embedded, a ``takedown worker`` through the broker when distributed. Where the outbox
    relay runs (``runtime``), it is woken to send the recorded job now. Never raises:
    if the broker is down, the outbox relays it later and the scheduler checks the items."""
    relay = getattr(runtime, "relay", None)
    if relay is not None:
        relay.kick()
        return
    if dispatcher is None:
        log.warning("no job dispatcher: request %d waits for the scheduler", request_id)
        return
    try:
        dispatcher.enqueue(CHECK_REQUEST, request_id=request_id)
    except Exception:
        log.exception("could not enqueue request %d; the scheduler will check it", request_id)


@on_start("verification.release_dead_leases")
def release_dead_leases() -> None:
    """Items a killed run had leased are due again at once, not when the lease expires."""
    from takedown.verification import repository

    with session_scope(_factory()) as session:
        n = repository.release_dead_leases(session)
    if n:
        log.warning("released %d check lease(s) of a stopped run", n)
