"""Orphan collection: delete stored objects that no row names, once they are old enough.

A capture writes its objects (``store.put``) before the transaction that records its
``EvidenceFile`` rows commits. A process killed in between, or a capture whose storage
step failed and rolled back, leaves objects nothing names; retention never sees them (it
only deletes bytes of captures it purges). This sweep lists the store, keeps everything
a row names or that is younger than the grace period, and deletes the rest.

Why a committing capture never loses an object (the race argument):

1. **Grace.** Only objects last written more than ``grace`` (24 h by default) ago are
   candidates, so the objects a running capture has just written are not even looked at.
   Grace alone is not enough: ``put`` of bytes already stored writes nothing and leaves
   the old age, so a new capture of the same bytes as an old orphan (the same page
   captured again after a killed run) names an *old* object.
2. **The store-writes lock** (``repository.lock_store_writes``). Every transaction that
   puts objects and then commits rows naming them (``capturing._finish``,
   ``service.make_working_copy``) takes it shared *before* its first ``put`` and holds it
   until it commits or rolls back. The sweep takes it exclusive, then checks the
   candidates' references once more and deletes, in one short transaction per chunk.
   While the sweep holds it, no transaction is between a ``put`` and its commit, so every
   object any writer will name is either named by a committed row, which the re-check
   (a statement issued after the lock was granted, so after those commits) sees and
   keeps, or will be ``put`` by a writer that gets the lock after the sweep's commit and
   then finds the object absent and writes it again.
3. The first reference check runs without the lock and only narrows the candidates, so a
   sweep of a store where nothing is orphaned never takes the lock. The sweep never
   *queues* for it either (PostgreSQL: ``pg_try_advisory_xact_lock``, retried for up to
   ``lock_wait``): a waiting exclusive request would make every new capture wait behind
   it. A chunk that cannot get the lock is left for the next run (``busy``).

The sweep's audit event (``evidence.orphans_deleted``: count, bytes, every hash) is
recorded in its own transaction after the deletes, never while the exclusive lock is
held: a capture in a caller's transaction may already hold the audit chain's lock when
it asks for the store lock, and the reverse order would deadlock. The objects deleted
here were never part of a committed capture, so no custody record names them.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from takedown.accounts.principal import Principal
from takedown.accounts.service import SYSTEM
from takedown.audit.service import record
from takedown.db import session_scope
from takedown.evidence import repository
from takedown.evidence.storage import EvidenceStore
from takedown.evidence.storage.base import ObjectEntry
from takedown.kit.clock import Clock, SystemClock
from takedown.kit.errors import InvalidInput
from takedown.kit.progress import NullProgress, ProgressSink

log = logging.getLogger(__name__)

#: An object younger than this may belong to a capture still running or about to commit.
ORPHAN_GRACE = dt.timedelta(hours=24)
#: Objects looked up (and deleted) per transaction: bounds each query's IN list and how
#: long the exclusive lock is held.
CHUNK = 500
#: How long a chunk tries for the lock before it is left to the next run, and how often.
LOCK_WAIT = dt.timedelta(seconds=30)
LOCK_RETRY_SECONDS = 0.1


@dataclass
class OrphanReport:
    dry_run: bool
    grace: dt.timedelta
    cutoff: dt.datetime
    scanned: int = 0
    young: int = 0  # not judged: written after the cut-off
    referenced: int = 0  # old enough, and a row names them
    #: Deleted (or, in a dry run, would be deleted).
    deleted: list[ObjectEntry] = field(default_factory=list)
    #: Unreferenced at first look, named by a row by the time of the locked re-check.
    kept_late: list[str] = field(default_factory=list)
    #: Candidates left for the next run: writers held the lock for all of ``lock_wait``.
    busy: list[str] = field(default_factory=list)
    #: The store refused the delete (logged); the next run tries again.
    failed: list[str] = field(default_factory=list)
    #: Partial writes of killed ``put`` calls removed (or, in a dry run, found).
    temporaries: int = 0

    @property
    def deleted_bytes(self) -> int:
        return sum(e.size for e in self.deleted)


def _lock_exclusive(session: Session, wait: dt.timedelta) -> bool:
    """The store-writes lock, exclusive, retried for up to ``wait`` (never queued: see
    ``repository.try_lock_store_writes``)."""
    deadline = time.monotonic() + wait.total_seconds()
    while True:
        if repository.try_lock_store_writes(session):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(LOCK_RETRY_SECONDS)


def _sweep(
    session_factory: sessionmaker[Session],
    store: EvidenceStore,
    chunk: Sequence[ObjectEntry],
    report: OrphanReport,
    lock_wait: dt.timedelta,
) -> None:
    with session_scope(session_factory) as session:
        named = repository.referenced_shas(session, [e.sha256 for e in chunk])
    suspects = [e for e in chunk if e.sha256 not in named]
    report.referenced += len(chunk) - len(suspects)
    if not suspects:
        return
    if report.dry_run:
        report.deleted.extend(suspects)
        return
    with session_scope(session_factory) as session:
        if not _lock_exclusive(session, lock_wait):
            report.busy.extend(e.sha256 for e in suspects)
            return
        named = repository.referenced_shas(session, [e.sha256 for e in suspects])
        for e in suspects:
            if e.sha256 in named:
                report.kept_late.append(e.sha256)
                continue
            try:
                gone = store.delete(e.sha256)
            except Exception:  # e.g. S3 Object Lock: the others still go, the next run retries
                log.exception("orphan %s could not be deleted", e.sha256)
                report.failed.append(e.sha256)
                continue
            if gone:
                report.deleted.append(e)


def collect_orphans(
    session_factory: sessionmaker[Session],
    *,
    store: EvidenceStore,
    grace: dt.timedelta = ORPHAN_GRACE,
    clock: Clock | None = None,
    dry_run: bool = False,
    actor: Principal = SYSTEM,
    progress: ProgressSink | None = None,
    chunk: int = CHUNK,
    lock_wait: dt.timedelta = LOCK_WAIT,
) -> OrphanReport:
    """Delete every object no row names that was last written before ``now - grace``.

    Opens its own short transactions (see the module docstring for why the deletes run
    under the store-writes lock and the audit event after them). ``dry_run`` lists what
    would go and changes nothing. Idempotent: a crashed run is finished by the next one.
    """
    if grace < dt.timedelta(0):
        raise InvalidInput("the grace period cannot be negative")
    if not callable(getattr(store, "entries", None)):
        # A storage plug-in written before ``entries`` joined the interface.
        raise InvalidInput(
            f"the {store.name!r} evidence store does not list its objects with their age "
            "(EvidenceStore.entries): orphan collection cannot judge what is old enough"
        )
    now = (clock or SystemClock()).now()
    sink = progress or NullProgress()
    report = OrphanReport(dry_run=dry_run, grace=grace, cutoff=now - grace)
    pending: list[ObjectEntry] = []
    for entry in store.entries():
        report.scanned += 1
        sink.advance()
        if entry.modified > report.cutoff:
            report.young += 1
            continue
        pending.append(entry)
        if len(pending) >= chunk:
            _sweep(session_factory, store, pending, report, lock_wait)
            pending = []
    if pending:
        _sweep(session_factory, store, pending, report, lock_wait)
    drop = getattr(store, "drop_temporaries", None)  # optional for older plug-ins
    report.temporaries = drop(report.cutoff, dry_run=dry_run) if callable(drop) else 0
    if (report.deleted or report.temporaries) and not dry_run:
        with session_scope(session_factory) as session:
            record(
                session,
                actor,
                "evidence.orphans_deleted",
                repository.STORE_SUBJECT,
                store.name,
                {
                    "count": len(report.deleted),
                    "bytes": report.deleted_bytes,
                    "grace_hours": grace.total_seconds() / 3600,
                    "cutoff": report.cutoff.isoformat(),
                    "scanned": report.scanned,
                    "deleted_sha256": sorted(e.sha256 for e in report.deleted),
                    "temporaries": report.temporaries,
                },
                clock=clock,
            )
    return report
