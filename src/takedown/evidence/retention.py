"""Retention: keep evidence 6 months after the item's confirmed removal, longer under a hold.

TCO Art. 6 asks that removed content and related data be preserved for six
months. The clock starts when the item's status became ``removed`` (the
verification capability confirms removals); an item that reappeared is not
removed, so its evidence stays. An active hold (investigation, court request)
keeps everything of the item. The purge job is idempotent: a purged capture
keeps its row, hashes and audit trail, only the bytes go, and only bytes no
surviving capture still uses.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from takedown.accounts.principal import Principal
from takedown.accounts.service import SYSTEM
from takedown.audit.service import record
from takedown.db import session_scope
from takedown.evidence import repository
from takedown.evidence.models import CaptureStatus, EvidenceCapture
from takedown.evidence.storage import EvidenceStore
from takedown.kit.clock import Clock, SystemClock

RETENTION_MONTHS = 6


def add_months(when: dt.datetime, months: int) -> dt.datetime:
    """Calendar months, clamping the day (31 Aug + 6 months = 28/29 Feb)."""
    month0 = when.month - 1 + months
    year = when.year + month0 // 12
    month = month0 % 12 + 1
    day = min(when.day, calendar.monthrange(year, month)[1])
    return when.replace(year=year, month=month, day=day)


def retain_until(session: Session, cap: EvidenceCapture) -> dt.datetime | None:
    """When this capture becomes due (ignoring holds); None while the item is not removed."""
    item = repository.item(session, cap.item_id)
    if item is None or item.status != "removed":
        return None
    return add_months(item.status_changed_at, RETENTION_MONTHS)


@dataclass
class PurgeEntry:
    capture_id: int
    item_id: int
    removed_at: dt.datetime
    due_at: dt.datetime
    deleted: list[str] = field(default_factory=list)
    kept_shared: list[str] = field(default_factory=list)


@dataclass
class PurgeReport:
    dry_run: bool
    purged: list[PurgeEntry] = field(default_factory=list)
    held: list[int] = field(default_factory=list)  # capture ids kept by a hold


def purge(
    session: Session,
    *,
    store: EvidenceStore,
    clock: Clock | None = None,
    dry_run: bool = False,
    actor: Principal = SYSTEM,
) -> PurgeReport:
    """Mark every capture past retention and not held as purged; audit each one.

    The bytes are deleted by ``collect_garbage`` once this transaction commits.
    """
    now = (clock or SystemClock()).now()
    # Six calendar months are never shorter than 181 days: a superset, refined below.
    cutoff = now - dt.timedelta(days=181)
    candidates = repository.removal_candidates(session, cutoff)
    holds = repository.active_holds(session, sorted({c.item_id for c in candidates}), now)
    report = PurgeReport(dry_run=dry_run)
    for cap in candidates:
        item = repository.item(session, cap.item_id)
        if item is None:
            continue
        due = add_months(item.status_changed_at, RETENTION_MONTHS)
        if due > now:
            continue
        if cap.item_id in holds:
            report.held.append(cap.id)
            continue
        entry = PurgeEntry(cap.id, cap.item_id, item.status_changed_at, due)
        files = repository.files_of(session, cap.id)
        for f in files:
            if repository.sha_in_use_elsewhere(session, f.sha256, cap.id):
                entry.kept_shared.append(f.sha256)
            else:
                entry.deleted.append(f.sha256)
        report.purged.append(entry)
        if dry_run:
            continue
        for f in files:
            f.deleted_at = now
        session.flush()
        reason = (
            f"retention: item {cap.item_id} removed at {item.status_changed_at.isoformat()}; "
            f"{RETENTION_MONTHS} months (TCO Art. 6) elapsed on {due.isoformat()}; no active hold"
        )
        cap.status = CaptureStatus.PURGED.value
        cap.purged_at = now
        cap.purge_reason = reason
        cap.text_excerpt = None  # content, not metadata: it goes with the files
        record(
            session,
            actor,
            "evidence.purged",
            repository.SUBJECT,
            cap.id,
            {
                "item_id": cap.item_id,
                "reason": reason,
                "manifest_sha256": cap.manifest_sha256,
                "deleted_sha256": sorted(set(entry.deleted)),
                "kept_shared_sha256": sorted(set(entry.kept_shared)),
            },
            clock=clock,
        )
    return report


def collect_garbage(
    session: Session, store: EvidenceStore, among: Sequence[str] | None = None
) -> list[str]:
    """Delete the objects that only purged files referenced (only those in ``among``).

    Run after the purge's transaction committed: bytes go last, so a crash
    never loses bytes the database still claims, and the next run finishes
    what a crashed one started (idempotent). Takes the store-writes lock exclusive
    first, like orphan collection (``orphans``): a new capture of the same bytes (a
    re-upload of removed media) that has ``put`` them and not yet committed its rows
    holds the lock shared, so its object is never deleted under it.
    """
    repository.lock_store_writes(session, exclusive=True)
    removed = []
    for sha in repository.orphaned_shas(session, among):
        if store.delete(sha):
            removed.append(sha)
    return removed


def run_purge(
    session_factory: sessionmaker[Session],
    *,
    store: EvidenceStore,
    clock: Clock | None = None,
    dry_run: bool = False,
    chunk: int = 500,
) -> tuple[PurgeReport, list[str]]:
    """The purge job: mark and audit in one transaction, then delete the bytes, a chunk
    per transaction (captures wait for the store-writes lock one chunk at most)."""
    with session_scope(session_factory) as session:
        report = purge(session, store=store, clock=clock, dry_run=dry_run)
    if dry_run:
        return report, []
    with session_scope(session_factory) as session:
        candidates = repository.orphaned_shas(session)
    removed: list[str] = []
    for start in range(0, len(candidates), chunk):
        with session_scope(session_factory) as session:
            removed += collect_garbage(session, store, candidates[start : start + chunk])
    return report, removed
