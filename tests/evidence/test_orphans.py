"""Orphan collection: objects no row names are deleted once older than the grace period,
on both backends (local files, S3 through moto's server) and both databases; an object a
capture names, a young one, a dry run, and one named while the sweep runs are kept."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from takedown.audit.models import AuditEvent
from takedown.db import session_scope
from takedown.evidence import capturing, repository
from takedown.evidence.models import EvidenceCapture, EvidenceFile
from takedown.evidence.orphans import collect_orphans
from takedown.evidence.storage import EvidenceStore
from takedown.evidence.storage.base import ObjectEntry
from takedown.evidence.storage.local import LocalStore
from takedown.kit.clock import FrozenClock
from takedown.kit.errors import InvalidInput
from takedown.kit.jobs import registered_tickers
from tests.conftest import own_database
from tests.evidence.cliproc import LAUNCH
from tests.evidence.conftest import make_item
from tests.evidence.hostile import HOST
from tests.evidence.test_storage_contract import _s3, s3_endpoint  # noqa: F401 (fixture)
from tests.factories import make_actor

DAY = dt.timedelta(hours=24)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _later(hours: float) -> FrozenClock:
    """A clock ``hours`` past the real time (objects get the real time when written)."""
    return FrozenClock(_now() + dt.timedelta(hours=hours))


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> EvidenceStore:
    if request.param == "local":
        return LocalStore(tmp_path / "evidence")
    endpoint = request.getfixturevalue("s3_endpoint")
    return _s3(endpoint, f"orph-{abs(hash(str(tmp_path))) % 10**8}")


def _name(session: Session, sha: str, *, manifest_only: bool = False) -> int:
    """A committed capture naming ``sha`` (as a file, or only as its manifest hash)."""
    actor = make_actor(session)
    item_id = make_item(session, actor.principal, f"http://{HOST}/n/{sha[:12]}")
    cap = EvidenceCapture(
        item_id=item_id,
        agency_id=actor.agency.id,
        status="complete",
        manifest_sha256=sha if manifest_only else None,
    )
    repository.add(session, cap)
    if not manifest_only:
        repository.add(
            session, EvidenceFile(capture_id=cap.id, role="media", name="m", sha256=sha, size=1)
        )
    session.commit()
    return cap.id


def _orphan_events(session: Session) -> list[dict[str, object]]:
    session.expire_all()
    rows = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "evidence.orphans_deleted")
    ).all()
    return [json.loads(e.details) if isinstance(e.details, str) else e.details for e in rows]


def test_an_old_orphan_goes_and_a_named_object_stays(
    db_session: Session, session_factory: sessionmaker[Session], store: EvidenceStore
) -> None:
    orphan = store.put(b"left by a killed capture")
    named = store.put(b"named by a file row").sha256
    manifest = store.put(b"named only as a manifest").sha256
    _name(db_session, named)
    _name(db_session, manifest, manifest_only=True)

    report = collect_orphans(session_factory, store=store, clock=_later(25))

    assert [e.sha256 for e in report.deleted] == [orphan.sha256]
    assert not store.exists(orphan.sha256)
    assert store.exists(named) and store.exists(manifest)
    assert report.scanned == 3 and report.referenced == 2 and report.young == 0
    [event] = _orphan_events(db_session)
    assert event["count"] == 1 and event["bytes"] == orphan.size
    assert event["deleted_sha256"] == [orphan.sha256]
    # a second run finds nothing and records nothing
    assert collect_orphans(session_factory, store=store, clock=_later(25)).deleted == []
    assert len(_orphan_events(db_session)) == 1


def test_partial_writes_of_a_killed_put_go_once_old_enough(
    db_session: Session, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    """A process killed between writing ``.tmp-*`` and linking it leaves the temporary file,
    which names no object: removed after the grace period like an orphan (dry run: counted,
    kept), and written in the run's audit event."""
    store = LocalStore(tmp_path / "evidence")
    kept = store.put(b"a finished write").sha256
    shard = store.objects / kept[:2] / kept[2:4]
    old, young = shard / ".tmp-killed", shard / ".tmp-in-progress"
    old.write_bytes(b"half of an object")
    young.write_bytes(b"being written now")
    two_days_ago = (_now() - dt.timedelta(hours=48)).timestamp()
    os.utime(old, (two_days_ago, two_days_ago))
    _name(db_session, kept)

    dry = collect_orphans(session_factory, store=store, clock=_later(1), dry_run=True)
    assert dry.temporaries == 1 and old.exists()
    report = collect_orphans(session_factory, store=store, clock=_later(1))
    assert report.temporaries == 1 and report.deleted == []
    assert not old.exists() and young.exists() and store.exists(kept)
    [event] = _orphan_events(db_session)
    assert event["temporaries"] == 1 and event["count"] == 0


def test_a_store_plug_in_that_cannot_list_ages_gets_a_clear_error(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    """A storage plug-in written before ``entries`` joined the interface: one clear
    message naming the store, not an AttributeError every hour; nothing deleted."""

    class OldPlugin:
        name = "vendor-vault"

        def __init__(self, inner: LocalStore) -> None:
            self.inner = inner

        def keys(self) -> Iterator[str]:
            return self.inner.keys()

    inner = LocalStore(tmp_path / "evidence")
    kept = inner.put(b"whatever it holds").sha256
    with pytest.raises(InvalidInput, match="'vendor-vault' evidence store does not list"):
        collect_orphans(session_factory, store=OldPlugin(inner), clock=_later(25))  # type: ignore[arg-type]
    assert inner.exists(kept)


def test_a_young_orphan_is_kept(
    db_session: Session, session_factory: sessionmaker[Session], store: EvidenceStore
) -> None:
    young = store.put(b"a capture may still be about to commit this").sha256
    report = collect_orphans(session_factory, store=store, clock=_later(23))
    assert report.deleted == [] and report.young == 1
    assert store.exists(young)
    assert _orphan_events(db_session) == []
    # the grace period is a parameter: with 1 h the same object is old enough
    report = collect_orphans(
        session_factory, store=store, clock=_later(2), grace=dt.timedelta(hours=1)
    )
    assert [e.sha256 for e in report.deleted] == [young]


def test_a_dry_run_lists_and_deletes_nothing(
    db_session: Session, session_factory: sessionmaker[Session], store: EvidenceStore
) -> None:
    orphan = store.put(b"would go").sha256
    report = collect_orphans(session_factory, store=store, clock=_later(25), dry_run=True)
    assert [e.sha256 for e in report.deleted] == [orphan]
    assert store.exists(orphan)
    assert _orphan_events(db_session) == []


class _Passes:
    """A store double that hands what orphan collection calls to a real store."""

    def __init__(self, inner: EvidenceStore) -> None:
        self.inner, self.name = inner, inner.name

    def entries(self) -> Iterator[ObjectEntry]:
        return self.inner.entries()

    def delete(self, sha256: str) -> bool:
        return self.inner.delete(sha256)

    def drop_temporaries(self, before: dt.datetime, *, dry_run: bool = False) -> int:
        return self.inner.drop_temporaries(before, dry_run=dry_run)


class _NamedWhileListing(_Passes):
    """A store whose listing, once done, lets a capture name an object and commit: what
    happens when a capture of the same bytes commits between the listing and the delete."""

    def __init__(self, inner: EvidenceStore, after_listing: Callable[[], None]) -> None:
        super().__init__(inner)
        self.after_listing = after_listing

    def entries(self) -> Iterator[ObjectEntry]:
        yield from list(self.inner.entries())
        self.after_listing()


def test_an_object_named_after_the_listing_is_kept(
    db_session: Session, session_factory: sessionmaker[Session], store: EvidenceStore
) -> None:
    sha = store.put(b"the same page, captured again").sha256
    wrapped = _NamedWhileListing(store, lambda: _name(db_session, sha))
    report = collect_orphans(
        session_factory,
        store=wrapped,  # type: ignore[arg-type]
        clock=_later(25),
        chunk=10,
    )
    assert store.exists(sha)
    assert report.deleted == []
    assert _orphan_events(db_session) == []


def test_an_object_named_between_the_first_look_and_the_delete_is_kept(
    db_session: Session,
    session_factory: sessionmaker[Session],
    store: EvidenceStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The first reference check (without the lock) finds nothing; a capture commits right
    after it; the locked re-check before the delete must see that capture."""
    sha = store.put(b"named just after the first look").sha256
    real = repository.referenced_shas
    calls: list[int] = []

    def first_look_then_commit(session: Session, shas: list[str]) -> set[str]:
        found = real(session, shas)
        calls.append(len(calls))
        if len(calls) == 1:
            _name(db_session, sha)
        return found

    monkeypatch.setattr(repository, "referenced_shas", first_look_then_commit)
    report = collect_orphans(session_factory, store=store, clock=_later(25))
    assert len(calls) == 2  # the first look, then the re-check under the lock
    assert store.exists(sha)
    assert report.deleted == [] and report.kept_late == [sha]
    assert _orphan_events(db_session) == []


class _RefusesOne(_Passes):
    """A store that refuses to delete one object (S3 Object Lock, a permission)."""

    def __init__(self, inner: EvidenceStore, refused: str) -> None:
        super().__init__(inner)
        self.refused = refused

    def delete(self, sha256: str) -> bool:
        if sha256 == self.refused:
            raise PermissionError("object locked")
        return self.inner.delete(sha256)


def test_a_refused_delete_does_not_keep_the_others(
    db_session: Session, session_factory: sessionmaker[Session], store: EvidenceStore
) -> None:
    locked = store.put(b"under object lock").sha256
    free = store.put(b"deletable").sha256
    report = collect_orphans(
        session_factory,
        store=_RefusesOne(store, locked),  # type: ignore[arg-type]
        clock=_later(25),
    )
    assert report.failed == [locked] and [e.sha256 for e in report.deleted] == [free]
    assert store.exists(locked) and not store.exists(free)
    [event] = _orphan_events(db_session)
    assert event["deleted_sha256"] == [free]


@pytest.fixture(params=["sqlite", "postgresql"])
def real_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    """A database of its own with real connections: a writer's lock blocks another one."""
    with own_database(request.param, tmp_path, "takedown_orphans", pool_size=4) as factory:
        yield factory


def test_a_capture_between_put_and_commit_keeps_its_object(
    real_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    """The capture puts bytes an old orphan already holds (``put`` writes nothing, so the
    object stays old), then commits while the sweep runs: the sweep waits for the
    store-writes lock, re-checks, and keeps the object."""
    store = LocalStore(tmp_path / "evidence")
    sha = store.put(b"old orphan, captured again").sha256
    with session_scope(real_factory) as s:
        actor = make_actor(s)
        item_id = make_item(s, actor.principal, f"http://{HOST}/again")
        agency_id = actor.agency.id
    writer = real_factory()
    try:
        repository.lock_store_writes(writer, exclusive=False)  # as capturing._finish does
        assert store.put(b"old orphan, captured again").created is False
        cap = EvidenceCapture(item_id=item_id, agency_id=agency_id, status="complete")
        repository.add(writer, cap)
        repository.add(
            writer, EvidenceFile(capture_id=cap.id, role="media", name="m", sha256=sha, size=1)
        )
        result: list[object] = []
        sweep = threading.Thread(
            target=lambda: result.append(
                collect_orphans(real_factory, store=store, clock=_later(25))
            )
        )
        sweep.start()
        time.sleep(0.5)  # the sweep reaches the lock and waits (not a timing assertion)
        assert store.exists(sha), "deleted while a capture naming it had not committed yet"
        writer.commit()
    finally:
        writer.close()
    sweep.join(timeout=60)
    assert not sweep.is_alive()
    assert store.exists(sha)
    [report] = result
    assert report.deleted == []  # type: ignore[attr-defined]


# PostgreSQL only: SQLite has one writer, so there the sweep waits for it (busy timeout).
@pytest.mark.parametrize("real_factory", ["postgresql"], indirect=True)
def test_the_sweep_never_queues_behind_a_busy_writer(
    real_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    """While a writer holds the lock for longer than ``lock_wait``, the chunk is left for
    the next run instead of queueing (a queued exclusive request would stall captures)."""
    store = LocalStore(tmp_path / "evidence")
    sha = store.put(b"orphan, while a long capture commits").sha256
    writer = real_factory()
    try:
        repository.lock_store_writes(writer, exclusive=False)
        report = collect_orphans(
            real_factory, store=store, clock=_later(25), lock_wait=dt.timedelta(seconds=0.3)
        )
    finally:
        writer.rollback()
        writer.close()
    assert report.busy == [sha] and report.deleted == [] and store.exists(sha)
    report = collect_orphans(real_factory, store=store, clock=_later(25))
    assert [e.sha256 for e in report.deleted] == [sha] and not store.exists(sha)


def test_retention_keeps_purged_bytes_a_new_capture_is_committing(
    real_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    """Retention's byte deletion has the same race (a re-upload of removed media captured
    again while the purge deletes): it waits for the lock and re-checks too."""
    from takedown.evidence.retention import run_purge

    store = LocalStore(tmp_path / "evidence")
    data = b"removed media, uploaded again"
    sha = store.put(data).sha256
    with session_scope(real_factory) as s:
        actor = make_actor(s)
        item_id = make_item(s, actor.principal, f"http://{HOST}/purged")
        agency_id = actor.agency.id
        old = EvidenceCapture(item_id=item_id, agency_id=agency_id, status="purged")
        repository.add(s, old)
        repository.add(
            s,
            EvidenceFile(
                capture_id=old.id, role="media", name="m", sha256=sha, size=1, deleted_at=_now()
            ),
        )
    writer = real_factory()
    try:
        repository.lock_store_writes(writer, exclusive=False)
        assert store.put(data).created is False
        cap = EvidenceCapture(item_id=item_id, agency_id=agency_id, status="complete")
        repository.add(writer, cap)
        repository.add(
            writer, EvidenceFile(capture_id=cap.id, role="media", name="m", sha256=sha, size=1)
        )
        result: list[list[str]] = []
        purge = threading.Thread(
            target=lambda: result.append(run_purge(real_factory, store=store)[1])
        )
        purge.start()
        time.sleep(0.5)  # the purge reaches the lock and waits (not a timing assertion)
        assert store.exists(sha), "deleted while a capture naming it had not committed yet"
        writer.commit()
    finally:
        writer.close()
    purge.join(timeout=60)
    assert not purge.is_alive()
    assert result == [[]] and store.exists(sha)


def test_captures_take_the_store_lock_before_their_first_put(
    db_session: Session,
    session_factory: sessionmaker[Session],
    ev_settings: object,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    from tests.evidence.conftest import TEST_LIMITS

    events: list[str] = []
    real_lock = repository.lock_store_writes

    def spy_lock(session: Session, *, exclusive: bool) -> None:
        events.append("lock-exclusive" if exclusive else "lock-shared")
        real_lock(session, exclusive=exclusive)

    class SpyStore(LocalStore):
        def put(self, data: bytes):  # type: ignore[no-untyped-def]
            events.append("put")
            return super().put(data)

    monkeypatch.setattr(repository, "lock_store_writes", spy_lock)
    actor = make_actor(db_session)
    item_id = make_item(db_session, actor.principal, f"http://{HOST}/page")
    db_session.commit()
    [summary] = capturing.capture_items(
        session_factory,
        actor.principal,
        [item_id],
        settings=ev_settings,  # type: ignore[arg-type]
        store=SpyStore(tmp_path / "spy"),
        limits=TEST_LIMITS,
    )
    assert summary.status == "complete", summary
    assert "put" in events and events[0] == "lock-shared"


def test_the_sweep_is_an_hourly_ticker() -> None:
    import takedown.evidence.tasks  # noqa: F401  (registers the jobs and tickers)

    tickers = {t.name: t for t in registered_tickers()}
    assert "evidence.orphans" in tickers


SETUP = (
    "from takedown.config import get_settings\n"
    "from takedown.db import make_engine\n"
    "from takedown.migrate import upgrade\n"
    "s = get_settings(); s.ensure_dirs()\n"
    "upgrade(make_engine(s.effective_database_url))\n"
)


def test_cli_dry_run_lists_then_the_run_deletes(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "TAKEDOWN_DATA_DIR": str(tmp_path / "var"),
        "PYTHONPATH": f"{root}:{root / 'src'}",
    }
    env.pop("TAKEDOWN_DATABASE_URL", None)
    env.pop("TAKEDOWN_EVIDENCE_STORAGE", None)
    subprocess.run([sys.executable, "-c", SETUP], env=env, cwd=root, check=True, timeout=120)
    store = LocalStore(tmp_path / "var" / "evidence")
    old = store.put(b"orphan from a killed capture, two days old").sha256
    young = store.put(b"orphan written a minute ago").sha256
    path = store.objects / old[:2] / old[2:4] / old
    two_days_ago = time.time() - 2 * 86400
    os.utime(path, (two_days_ago, two_days_ago))

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", LAUNCH, "evidence", "orphans", *args], env=env, cwd=root,
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip

    r = run("--dry-run", "--format", "json", "--no-progress")
    assert r.returncode == 0, r.stdout + r.stderr
    assert [row["sha256"] for row in json.loads(r.stdout)] == [old]
    assert store.exists(old)

    r = run()
    assert r.returncode == 0, r.stdout + r.stderr
    assert "deleted 1 orphaned objects" in r.stdout
    assert not store.exists(old) and store.exists(young)
