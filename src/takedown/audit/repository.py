"""Every query of the audit capability."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from takedown.audit.models import AuditCheckpoint, AuditEvent
from takedown.db import write_lock

_LOCK_KEY = 0x7A6B_0001  # pg advisory lock id for appending to the chain


def lock_chain(session: Session) -> None:
    """Serialise appends: one writer at a time extends the chain (SQLite: the write lock,
    taken before the head is read, so two appends never read the same head)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
    else:
        write_lock(session)


def last_event(session: Session) -> AuditEvent | None:
    return session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).first()


def add(session: Session, event: AuditEvent) -> None:
    session.add(event)
    session.flush()


def iter_events(session: Session, batch: int = 2000) -> Iterator[AuditEvent]:
    last_id = 0
    while True:
        rows = session.scalars(
            select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id


def list_events(
    session: Session,
    *,
    agency_id: int | None,
    action: str | None,
    subject_type: str | None,
    subject_id: str | None,
    limit: int,
    offset: int,
) -> tuple[list[AuditEvent], int]:
    q = select(AuditEvent)
    if agency_id is not None:
        q = q.where(AuditEvent.actor_agency_id == agency_id)
    if action:
        q = q.where(AuditEvent.action == action)
    if subject_type:
        q = q.where(AuditEvent.subject_type == subject_type)
    if subject_id:
        q = q.where(AuditEvent.subject_id == subject_id)
    total = session.scalar(select(func.count()).select_from(q.subquery())) or 0
    rows = session.scalars(q.order_by(AuditEvent.id.desc()).limit(limit).offset(offset)).all()
    return list(rows), total


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEvent)) or 0


def last_checkpoint(session: Session) -> AuditCheckpoint | None:
    return session.scalars(
        select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc()).limit(1)
    ).first()


def add_checkpoint(session: Session, checkpoint: AuditCheckpoint) -> None:
    session.add(checkpoint)
    session.flush()


def checkpoints(session: Session) -> list[AuditCheckpoint]:
    return list(session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.id)))


def event(session: Session, event_id: int) -> AuditEvent | None:
    return session.get(AuditEvent, event_id)
