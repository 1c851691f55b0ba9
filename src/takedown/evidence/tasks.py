"""Background jobs: capture on request, the retention purge, orphan collection (idempotent).

A capture job without a key re-run after a crash creates a new capture (captures are
observations at a time, never "the same" twice); with a key it captures each item once
(``capturing._start``). The purge only acts on what
is due and not yet purged, and its byte deletion finishes what a crashed run
started.
"""

from __future__ import annotations

import logging
from functools import lru_cache

from sqlalchemy.orm import Session, sessionmaker

from takedown.config import get_settings
from takedown.db import make_engine, make_sessionmaker, session_scope
from takedown.kit.jobs import job, ticker

log = logging.getLogger("takedown.evidence")
PURGE_EVERY_SECONDS = 6 * 3600
ORPHANS_EVERY_SECONDS = 3600


@lru_cache(maxsize=1)
def _factory() -> sessionmaker[Session]:
    settings = get_settings()
    settings.ensure_dirs()
    return make_sessionmaker(make_engine(settings.effective_database_url))


@job("evidence.capture")
def capture_job(
    item_ids: list[int], user_id: int, with_screenshot: bool = False, key: str | None = None
) -> None:
    """Capture the items. With ``key`` (the caller's name for this request, e.g. its outbox
    key) each item is captured once however often the job is delivered: a capture an
    earlier delivery finished is kept, one a killed worker left running is run again."""
    from takedown.accounts import service as accounts
    from takedown.evidence.capturing import capture_items

    with session_scope(_factory()) as session:
        user = accounts.get_user(session, user_id)
        principal = accounts.principal_for(
            user, accounts.get_agency(session, user.agency_id), via="job"
        )
    results = capture_items(
        _factory(), principal, item_ids, settings=get_settings(),
        with_screenshot=with_screenshot, job_key=key,
    )  # fmt: skip
    failed = [r for r in results if r.status != "complete"]
    if failed:
        log.warning("evidence capture: %d of %d failed", len(failed), len(results))


@job("evidence.purge")
def purge_job(dry_run: bool = False) -> None:
    from takedown.evidence.retention import run_purge
    from takedown.evidence.storage import store_for_settings

    report, deleted = run_purge(
        _factory(), store=store_for_settings(get_settings()), dry_run=dry_run
    )
    log.info(
        "evidence purge: %d captures purged, %d held, %d objects deleted",
        len(report.purged),
        len(report.held),
        len(deleted),
    )


@ticker("evidence.purge", PURGE_EVERY_SECONDS)
def purge_ticker() -> None:
    purge_job()


@job("evidence.interrupted")
def interrupted_job() -> None:
    """Captures a stopped process left running are marked failed (``interrupted``)."""
    from takedown.evidence.capturing import fail_interrupted

    with session_scope(_factory()) as session:
        failed = fail_interrupted(session)
    if failed:
        log.warning("evidence: %d capture(s) left running by a stopped process", len(failed))


@ticker("evidence.interrupted", 300)
def interrupted_ticker() -> None:
    interrupted_job()


@job("evidence.orphans")
def orphans_job(dry_run: bool = False) -> None:
    """Objects no row names (a capture killed between ``put`` and commit), older than
    ``evidence_orphan_grace_hours``, are deleted and the run audited."""
    import datetime as dt

    from takedown.evidence.orphans import collect_orphans
    from takedown.evidence.storage import store_for_settings

    settings = get_settings()
    report = collect_orphans(
        _factory(),
        store=store_for_settings(settings),
        grace=dt.timedelta(hours=settings.evidence_orphan_grace_hours),
        dry_run=dry_run,
    )
    if report.deleted:
        log.warning(
            "evidence orphans: %d object(s), %d bytes %s",
            len(report.deleted),
            report.deleted_bytes,
            "would be deleted" if dry_run else "deleted",
        )
    if report.failed or report.busy:
        log.warning(
            "evidence orphans: %d refused by the store, %d left while captures held the lock",
            len(report.failed),
            len(report.busy),
        )


@ticker("evidence.orphans", ORPHANS_EVERY_SECONDS)
def orphans_ticker() -> None:
    orphans_job()


@job("evidence.media")
def media_job(limit: int = 200) -> None:
    """Run the media hooks (matching) on media captured with ``defer_hooks``."""
    from takedown.evidence.capturing import process_pending_media
    from takedown.evidence.storage import store_for_settings

    with session_scope(_factory()) as session:
        n = process_pending_media(session, store=store_for_settings(get_settings()), limit=limit)
    if n:
        log.info("evidence media hooks: %d files", n)


@ticker("evidence.media", 60)
def media_ticker() -> None:
    media_job()
