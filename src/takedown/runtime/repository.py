"""SQL of the runtime ledger (both engines; PostgreSQL's row locks where they matter)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, delete, func, or_, select, text, update
from sqlalchemy.orm import Session

from takedown.db import is_postgres
from takedown.runtime.models import DeadJob, JobEffect, Lease, OutboxJob, OutboxState, WorkerBeat


def _insert(session: Session) -> Any:
    if is_postgres(session):
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert


# -- outbox -------------------------------------------------------------------------------


def add_outbox(
    session: Session, job: str, kwargs: dict[str, Any], key: str | None, now: dt.datetime
) -> int | None:
    """Record a job; returns its id, or None when its key was already recorded."""
    values = {
        "job": job,
        "kwargs": kwargs,
        "key": key,
        "state": OutboxState.PENDING.value,
        "due_at": now,
        "relays": 0,
        "created_at": now,
    }
    stmt = _insert(session)(OutboxJob).values(**values)
    if key is not None:
        stmt = stmt.on_conflict_do_nothing(index_elements=["key"])
    new_id = session.execute(stmt.returning(OutboxJob.id)).scalar()
    return int(new_id) if new_id is not None else None


def claim_due(session: Session, now: dt.datetime, limit: int) -> Sequence[OutboxJob]:
    """Jobs to relay now (new ones, and relayed ones not done in time), locked so that
    two relays never send the same row in the same round (PostgreSQL: SKIP LOCKED)."""
    stmt = (
        select(OutboxJob)
        .where(
            OutboxJob.state.in_([OutboxState.PENDING.value, OutboxState.RELAYED.value]),
            OutboxJob.due_at <= now,
        )
        .order_by(OutboxJob.due_at, OutboxJob.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return session.scalars(stmt).all()


def mark_finished(session: Session, outbox_id: int, now: dt.datetime) -> None:
    session.execute(
        update(OutboxJob)
        .where(OutboxJob.id == outbox_id, OutboxJob.state != OutboxState.DEAD.value)
        .values(state=OutboxState.DONE.value, finished_at=now)
    )


def mark_dead(session: Session, outbox_id: int, now: dt.datetime) -> None:
    session.execute(
        update(OutboxJob)
        .where(OutboxJob.id == outbox_id)
        .values(state=OutboxState.DEAD.value, finished_at=now)
    )


def outbox_row(session: Session, outbox_id: int) -> OutboxJob | None:
    return session.get(OutboxJob, outbox_id)


def outbox_counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(OutboxJob.state, func.count()).group_by(OutboxJob.state))
    return {str(state): int(n) for state, n in rows}


def oldest_unrelayed(session: Session) -> dt.datetime | None:
    return session.scalar(
        select(func.min(OutboxJob.created_at)).where(OutboxJob.state == OutboxState.PENDING.value)
    )


def prune_outbox(session: Session, before: dt.datetime) -> int:
    result = session.execute(
        delete(OutboxJob).where(
            OutboxJob.state == OutboxState.DONE.value, OutboxJob.finished_at < before
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


# -- effects ------------------------------------------------------------------------------


def claim_effect(session: Session, key: str, job: str, now: dt.datetime) -> bool:
    """Insert the effect's key in the caller's transaction; False if it already happened.

    On PostgreSQL a second transaction inserting the same key waits for the first and
    then inserts nothing, so two deliveries racing each other still do the effect once."""
    stmt = (
        _insert(session)(JobEffect)
        .values(key=key, job=job, done_at=now)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(JobEffect.key)
    )
    return session.execute(stmt).scalar() is not None


def effect_done(session: Session, key: str) -> bool:
    return session.get(JobEffect, key) is not None


# -- dead letters -------------------------------------------------------------------------


def add_dead(
    session: Session,
    job: str,
    kwargs: dict[str, Any],
    *,
    outbox_id: int | None,
    attempts: int,
    error: str,
    now: dt.datetime,
) -> DeadJob:
    row = DeadJob(
        job=job, kwargs=kwargs, outbox_id=outbox_id, attempts=attempts, error=error, failed_at=now
    )
    session.add(row)
    session.flush()
    return row


def dead_jobs(
    session: Session, *, include_retried: bool = False, limit: int = 200
) -> Sequence[DeadJob]:
    stmt = select(DeadJob).order_by(DeadJob.failed_at.desc(), DeadJob.id.desc()).limit(limit)
    if not include_retried:
        stmt = stmt.where(DeadJob.retried_at.is_(None))
    return session.scalars(stmt).all()


def dead_job(session: Session, dead_id: int, *, lock: bool = False) -> DeadJob | None:
    stmt = select(DeadJob).where(DeadJob.id == dead_id)
    if lock:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()


def count_dead(session: Session) -> int:
    return int(
        session.scalar(
            select(func.count()).select_from(DeadJob).where(DeadJob.retried_at.is_(None))
        )
        or 0
    )


# -- leases -------------------------------------------------------------------------------

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def try_lease(
    session: Session,
    name: str,
    holder: str,
    *,
    now: dt.datetime,
    ttl: dt.timedelta,
    min_interval: dt.timedelta | None = None,
) -> bool:
    """Take the lease if it is free, expired or already ours (and, with ``min_interval``,
    if its last run is that old). One UPDATE: the database decides who wins."""
    session.execute(
        _insert(session)(Lease)
        .values(name=name, holder=None, expires_at=_EPOCH, runs=0)
        .on_conflict_do_nothing(index_elements=["name"])
    )
    cond = [
        Lease.name == name,
        or_(Lease.holder.is_(None), Lease.expires_at < now, Lease.holder == holder),
    ]
    if min_interval is not None:
        cond.append(or_(Lease.last_run_at.is_(None), Lease.last_run_at <= now - min_interval))
    result = session.execute(
        update(Lease).where(*cond).values(holder=holder, acquired_at=now, expires_at=now + ttl)
    )
    return int(getattr(result, "rowcount", 0) or 0) == 1


def renew_lease(
    session: Session, name: str, holder: str, *, now: dt.datetime, ttl: dt.timedelta
) -> bool:
    """Extend our lease; False when another process has taken it since (ours expired)."""
    result = session.execute(
        update(Lease).where(Lease.name == name, Lease.holder == holder).values(expires_at=now + ttl)
    )
    return int(getattr(result, "rowcount", 0) or 0) == 1


def release_lease(session: Session, name: str, holder: str, *, now: dt.datetime, ran: bool) -> None:
    values: dict[str, Any] = {"holder": None, "expires_at": now}
    if ran:
        values["last_run_at"] = now
        values["runs"] = Lease.runs + 1
    session.execute(
        update(Lease).where(Lease.name == name, Lease.holder == holder).values(**values)
    )


def leases(session: Session) -> Sequence[Lease]:
    return session.scalars(select(Lease).order_by(Lease.name)).all()


# -- worker heartbeats --------------------------------------------------------------------


def beat(
    session: Session, worker_id: str, kind: str, hostname: str, pid: int, now: dt.datetime
) -> None:
    stmt = _insert(session)(WorkerBeat).values(
        id=worker_id, kind=kind, hostname=hostname, pid=pid, started_at=now, seen_at=now
    )
    session.execute(stmt.on_conflict_do_update(index_elements=["id"], set_={"seen_at": now}))


def forget_worker(session: Session, worker_id: str) -> None:
    session.execute(delete(WorkerBeat).where(WorkerBeat.id == worker_id))


def workers(session: Session) -> Sequence[WorkerBeat]:
    return session.scalars(select(WorkerBeat).order_by(WorkerBeat.seen_at.desc())).all()


def forget_workers_before(session: Session, before: dt.datetime) -> int:
    result = session.execute(delete(WorkerBeat).where(WorkerBeat.seen_at < before))
    return int(getattr(result, "rowcount", 0) or 0)


# -- host budget (PostgreSQL) -------------------------------------------------------------


def reserve_host_slot(conn: Connection, host: str, interval: float) -> float:
    """Book ``host``'s next slot, timed by the database's clock; returns the wait (s)."""
    row = conn.execute(
        text(
            "INSERT INTO runtime_host_budget (host, next_slot) "
            "VALUES (:host, extract(epoch from clock_timestamp()) + :i) "
            "ON CONFLICT (host) DO UPDATE SET next_slot = greatest("
            "  runtime_host_budget.next_slot, extract(epoch from clock_timestamp())) + :i "
            "RETURNING next_slot - :i - extract(epoch from clock_timestamp())"
        ),
        {"host": host, "i": interval},
    ).scalar()
    return max(0.0, float(row or 0.0))


# -- doctor -------------------------------------------------------------------------------


def database_now(session: Session) -> dt.datetime:
    if is_postgres(session):
        value = session.execute(text("SELECT clock_timestamp()")).scalar_one()
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)  # type: ignore[no-any-return]
    raw = session.execute(text("SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')")).scalar_one()
    return dt.datetime.fromisoformat(str(raw)).replace(tzinfo=dt.UTC)


def database_version(session: Session) -> str:
    if is_postgres(session):
        return str(session.execute(text("SHOW server_version")).scalar_one()).split()[0]
    return str(session.execute(text("SELECT sqlite_version()")).scalar_one())
