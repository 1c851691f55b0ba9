"""The dead-letter queue: jobs whose attempts are used up, kept for a person to look at.

A worker tries a job ``MAX_ATTEMPTS`` times (``kit.jobs.run_job``); after the last
failure the job is written here instead of going back to the broker, so a malformed
message is never re-queued forever. ``retry`` records it in the outbox again (the
effect keys make a retry of a half-done job safe); the CLI (``takedown jobs failed``,
``takedown jobs retry``) and the admin page (``/admin/jobs``) use these functions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from takedown.db import session_scope
from takedown.kit.clock import Clock, SystemClock
from takedown.kit.errors import Conflict, NotFound
from takedown.runtime import repository as repo
from takedown.runtime.models import DeadJob


def record_dead(
    session: Session,
    job: str,
    kwargs: dict[str, Any],
    *,
    outbox_id: int | None,
    attempts: int,
    error: str,
    now: dt.datetime,
) -> DeadJob:
    row = repo.add_dead(
        session, job, kwargs, outbox_id=outbox_id, attempts=attempts, error=error, now=now
    )
    if outbox_id is not None:
        repo.mark_dead(session, outbox_id, now)
    return row


def failed(
    session: Session, *, include_retried: bool = False, limit: int = 200
) -> Sequence[DeadJob]:
    return repo.dead_jobs(session, include_retried=include_retried, limit=limit)


def retry(session: Session, dead_id: int, *, clock: Clock | None = None) -> int:
    """Record a dead job in the outbox again; returns the new outbox id."""
    now = (clock or SystemClock()).now()
    row = repo.dead_job(session, dead_id, lock=True)
    if row is None:
        raise NotFound(f"no failed job {dead_id}")
    if row.retried_at is not None:
        raise Conflict(f"failed job {dead_id} was already retried (outbox job {row.retried_as})")
    new_id = repo.add_outbox(session, row.job, dict(row.kwargs), None, now)
    assert new_id is not None  # no key: never a conflict
    row.retried_at = now
    row.retried_as = new_id
    return new_id


def retry_all(session: Session, *, clock: Clock | None = None) -> list[int]:
    return [retry(session, r.id, clock=clock) for r in repo.dead_jobs(session, limit=10_000)]


class DatabaseLedger:
    """``kit.jobs.JobLedger`` on the runtime tables: outbox jobs done, dead letters kept."""

    def __init__(self, factory: sessionmaker[Session], clock: Clock | None = None) -> None:
        self._factory = factory
        self._clock = clock or SystemClock()

    def finished(self, name: str, outbox_id: int) -> None:
        with session_scope(self._factory) as session:
            repo.mark_finished(session, outbox_id, self._clock.now())

    def dead(
        self,
        name: str,
        kwargs: dict[str, Any],
        *,
        outbox_id: int | None,
        attempts: int,
        error: str,
    ) -> None:
        with session_scope(self._factory) as session:
            record_dead(
                session, name, kwargs, outbox_id=outbox_id, attempts=attempts, error=error,
                now=self._clock.now(),
            )  # fmt: skip
