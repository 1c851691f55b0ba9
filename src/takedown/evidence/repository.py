"""Every query of the evidence capability."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence

from sqlalchemy import func, or_, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from takedown.audit.models import AuditEvent
from takedown.db import write_lock
from takedown.evidence.models import CaptureStatus, EvidenceCapture, EvidenceFile, EvidenceHold
from takedown.items.models import Item, ItemStatus

SUBJECT = "evidence_capture"
HOLD_SUBJECT = "evidence_hold"
#: Subject of audit events about the object store itself (orphan collection).
STORE_SUBJECT = "evidence_store"
_STORE_WRITES_LOCK = 0x7A6B_0E51  # pg advisory lock id: writers of objects vs orphan deletion


def add(session: Session, row: EvidenceCapture | EvidenceFile | EvidenceHold) -> None:
    session.add(row)
    session.flush()


def capture(session: Session, capture_id: int, *, lock: bool = False) -> EvidenceCapture | None:
    """The capture; with ``lock``, its row locked and re-read (a concurrent finisher waits)."""
    if not lock:
        return session.get(EvidenceCapture, capture_id)
    return session.scalars(
        select(EvidenceCapture)
        .where(EvidenceCapture.id == capture_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()


def capture_of_job(session: Session, job_key: str, item_id: int) -> EvidenceCapture | None:
    """The capture a keyed job made of an item (at most one: a unique constraint)."""
    return session.scalars(
        select(EvidenceCapture).where(
            EvidenceCapture.job_key == job_key, EvidenceCapture.item_id == item_id
        )
    ).one_or_none()


def add_capture_of_job(session: Session, cap: EvidenceCapture) -> bool:
    """Insert a keyed job's capture; False if another delivery of the job inserted it first
    (the unique constraint on job and item), leaving the transaction usable."""
    try:
        with session.begin_nested():
            session.add(cap)
            session.flush()
    except IntegrityError:
        return False
    return True


def running_captures_before(
    session: Session, created_before: dt.datetime, *, limit: int = 500
) -> list[EvidenceCapture]:
    """Captures still ``running`` that started before ``created_before``, locked (rows
    another process holds are skipped)."""
    q = (
        select(EvidenceCapture)
        .where(
            EvidenceCapture.status == CaptureStatus.RUNNING.value,
            EvidenceCapture.created_at < created_before,
        )
        .order_by(EvidenceCapture.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.scalars(q))


def captures_by_ids(session: Session, ids: Sequence[int]) -> list[EvidenceCapture]:
    if not ids:
        return []
    rows = session.scalars(select(EvidenceCapture).where(EvidenceCapture.id.in_(list(ids))))
    return sorted(rows, key=lambda c: c.id)


def list_captures(
    session: Session,
    *,
    agency_id: int | None,
    item_ids: Sequence[int] | None = None,
    status: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[EvidenceCapture], int]:
    q = select(EvidenceCapture)
    if agency_id is not None:
        q = q.where(EvidenceCapture.agency_id == agency_id)
    if item_ids is not None:
        q = q.where(EvidenceCapture.item_id.in_(list(item_ids)))
    if status:
        q = q.where(EvidenceCapture.status == status)
    total = session.scalar(select(func.count()).select_from(q.subquery())) or 0
    rows = session.scalars(q.order_by(EvidenceCapture.id.desc()).limit(limit).offset(offset))
    return list(rows), total


def iter_captures(
    session: Session, *, agency_id: int | None, ids: Sequence[int] | None = None, batch: int = 500
) -> Iterator[EvidenceCapture]:
    last = 0
    while True:
        q = select(EvidenceCapture).where(EvidenceCapture.id > last)
        if agency_id is not None:
            q = q.where(EvidenceCapture.agency_id == agency_id)
        if ids is not None:
            q = q.where(EvidenceCapture.id.in_(list(ids)))
        rows = list(session.scalars(q.order_by(EvidenceCapture.id).limit(batch)))
        if not rows:
            return
        yield from rows
        last = rows[-1].id


def files_of(
    session: Session, capture_id: int, *, include_deleted: bool = False
) -> list[EvidenceFile]:
    q = select(EvidenceFile).where(EvidenceFile.capture_id == capture_id)
    if not include_deleted:
        q = q.where(EvidenceFile.deleted_at.is_(None))
    return list(session.scalars(q.order_by(EvidenceFile.id)))


def file(session: Session, file_id: int) -> EvidenceFile | None:
    return session.get(EvidenceFile, file_id)


def sha_in_use_elsewhere(session: Session, sha256: str, capture_id: int) -> bool:
    """Whether a live file of another capture (or a working copy) still needs these bytes."""
    q = (
        select(func.count())
        .select_from(EvidenceFile)
        .where(
            EvidenceFile.sha256 == sha256,
            EvidenceFile.capture_id != capture_id,
            EvidenceFile.deleted_at.is_(None),
        )
    )
    return bool(session.scalar(q))


def item(session: Session, item_id: int) -> Item | None:
    return session.get(Item, item_id)


def removal_candidates(session: Session, removed_before: dt.datetime) -> list[EvidenceCapture]:
    """Unpurged captures whose item is (still) removed and was removed before the cut-off."""
    q = (
        select(EvidenceCapture)
        .join(Item, Item.id == EvidenceCapture.item_id)
        .where(
            EvidenceCapture.status != CaptureStatus.PURGED.value,
            Item.status == ItemStatus.REMOVED.value,
            Item.status_changed_at <= removed_before,
        )
        .order_by(EvidenceCapture.id)
    )
    return list(session.scalars(q))


def active_holds(
    session: Session, item_ids: Sequence[int], now: dt.datetime
) -> dict[int, list[EvidenceHold]]:
    if not item_ids:
        return {}
    q = select(EvidenceHold).where(
        EvidenceHold.item_id.in_(list(item_ids)),
        EvidenceHold.released_at.is_(None),
        (EvidenceHold.until.is_(None)) | (EvidenceHold.until > now),
    )
    out: dict[int, list[EvidenceHold]] = {}
    for h in session.scalars(q):
        out.setdefault(h.item_id, []).append(h)
    return out


def hold(session: Session, hold_id: int) -> EvidenceHold | None:
    return session.get(EvidenceHold, hold_id)


def list_holds(
    session: Session, *, agency_id: int | None, item_id: int | None, active_only: bool
) -> list[EvidenceHold]:
    q = select(EvidenceHold)
    if agency_id is not None:
        q = q.where(EvidenceHold.agency_id == agency_id)
    if item_id is not None:
        q = q.where(EvidenceHold.item_id == item_id)
    if active_only:
        q = q.where(EvidenceHold.released_at.is_(None))
    return list(session.scalars(q.order_by(EvidenceHold.id)))


def holds_ending(
    session: Session, *, agency_id: int, before: dt.datetime, limit: int
) -> list[EvidenceHold]:
    """The agency's open holds whose ``until`` falls before ``before``, soonest first."""
    q = (
        select(EvidenceHold)
        .where(
            EvidenceHold.agency_id == agency_id,
            EvidenceHold.released_at.is_(None),
            EvidenceHold.until.is_not(None),
            EvidenceHold.until < before,
        )
        .order_by(EvidenceHold.until, EvidenceHold.id)
        .limit(limit)
    )
    return list(session.scalars(q))


def custody_events(
    session: Session, capture_ids: Sequence[int], hold_ids: Sequence[int] = ()
) -> list[AuditEvent]:
    """Audit events about these captures and holds, oldest first."""
    clauses = []
    if capture_ids:
        clauses.append(
            (AuditEvent.subject_type == SUBJECT)
            & AuditEvent.subject_id.in_([str(i) for i in capture_ids])
        )
    if hold_ids:
        clauses.append(
            (AuditEvent.subject_type == HOLD_SUBJECT)
            & AuditEvent.subject_id.in_([str(i) for i in hold_ids])
        )
    if not clauses:
        return []
    return list(session.scalars(select(AuditEvent).where(or_(*clauses)).order_by(AuditEvent.id)))


def holds_of_items(session: Session, item_ids: Sequence[int]) -> list[EvidenceHold]:
    if not item_ids:
        return []
    q = select(EvidenceHold).where(EvidenceHold.item_id.in_(list(item_ids)))
    return list(session.scalars(q.order_by(EvidenceHold.id)))


def chain_links(session: Session, first_id: int, last_id: int) -> Iterator[AuditEvent]:
    """Every audit event between two ids, in order (the custody segment's links)."""
    last = first_id - 1
    while True:
        rows = list(
            session.scalars(
                select(AuditEvent)
                .where(AuditEvent.id > last, AuditEvent.id <= last_id)
                .order_by(AuditEvent.id)
                .limit(5000)
            )
        )
        if not rows:
            return
        yield from rows
        last = rows[-1].id


def last_event_id(session: Session) -> int:
    return int(session.scalar(select(func.max(AuditEvent.id))) or 0)


def orphaned_shas(session: Session, among: Sequence[str] | None = None) -> list[str]:
    """Objects referenced only by deleted (purged) file rows (only those in ``among``)."""
    live = select(EvidenceFile.sha256).where(EvidenceFile.deleted_at.is_(None))
    q = select(EvidenceFile.sha256).where(
        EvidenceFile.deleted_at.is_not(None), EvidenceFile.sha256.not_in(live)
    )
    if among is not None:
        q = q.where(EvidenceFile.sha256.in_(sorted(set(among))))
    return sorted(set(session.scalars(q.distinct())))


def media_pending_hooks(session: Session, limit: int) -> list[EvidenceFile]:
    q = (
        select(EvidenceFile)
        .join(EvidenceCapture, EvidenceCapture.id == EvidenceFile.capture_id)
        .where(
            EvidenceFile.role == "media",
            EvidenceFile.hooks_done_at.is_(None),
            EvidenceFile.deleted_at.is_(None),
            EvidenceCapture.status == CaptureStatus.COMPLETE.value,
        )
        .order_by(EvidenceFile.id)
        .limit(limit)
    )
    return list(session.scalars(q))


def lock_store_writes(session: Session, *, exclusive: bool) -> None:
    """Order object writers against orphan deletion, until the transaction ends.

    A transaction that ``put``s objects and then commits rows naming them takes this
    shared (``exclusive=False``) before its first ``put``; orphan collection takes it
    exclusive around its last reference check and the deletes. So while the collector
    holds it, no transaction sits between a ``put`` and its commit. PostgreSQL: a
    transaction-level advisory lock (shared writers never wait for each other); SQLite:
    the database's write lock, which serialises both sides anyway.
    """
    if session.get_bind().dialect.name == "postgresql":
        fn = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
        session.execute(text(f"SELECT {fn}(:k)"), {"k": _STORE_WRITES_LOCK})
    else:
        write_lock(session)


def try_lock_store_writes(session: Session) -> bool:
    """``lock_store_writes(exclusive=True)`` without queueing on PostgreSQL: False at once
    while a writer holds it. A waiting exclusive request would make every new capture queue
    behind it; orphan collection can simply come back later. SQLite: the write lock (its
    wait is bounded by the busy timeout)."""
    if session.get_bind().dialect.name == "postgresql":
        got = session.scalar(
            text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": _STORE_WRITES_LOCK}
        )
        return bool(got)
    write_lock(session)
    return True


def referenced_shas(session: Session, shas: Sequence[str]) -> set[str]:
    """Which of ``shas`` a row still names: a file of any capture (a purged file's bytes
    are retention's to delete, ``orphaned_shas``) or a capture's manifest. The caller
    passes chunks, never the whole store; files are looked up by their index, and only
    what no file names is looked for among manifests (that column has no index, and every
    manifest has its file row anyway)."""
    wanted = sorted(set(shas))
    if not wanted:
        return set()
    found = set(session.scalars(select(EvidenceFile.sha256).where(EvidenceFile.sha256.in_(wanted))))
    rest = [s for s in wanted if s not in found]
    if rest:
        found.update(
            s
            for s in session.scalars(
                select(EvidenceCapture.manifest_sha256).where(
                    EvidenceCapture.manifest_sha256.in_(rest)
                )
            )
            if s
        )
    return found
