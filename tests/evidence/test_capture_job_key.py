"""A keyed capture job captures each item once however often it is delivered (#18.4):
a second delivery keeps the first's capture, a capture a killed worker left running is
finished on the same row, and a capture finished meanwhile by another delivery is not
stored twice (one manifest, one audit event)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from takedown.audit.models import AuditEvent
from takedown.config import Settings
from takedown.db import session_scope
from takedown.evidence import capturing, repository
from takedown.evidence.models import CaptureStatus, EvidenceCapture, EvidenceFile
from takedown.evidence.storage import store_for_settings
from takedown.kit.clock import SystemClock
from tests.evidence.conftest import TEST_LIMITS, make_item
from tests.evidence.hostile import HOST
from tests.factories import make_actor


def _captured_events(session: Session) -> int:
    return int(
        session.scalar(select(func.count()).where(AuditEvent.action == "evidence.captured")) or 0
    )


def test_a_capture_job_delivered_twice_captures_the_item_once(
    db_session: Session, session_factory: sessionmaker[Session], ev_settings: Settings
) -> None:
    actor = make_actor(db_session)
    item_id = make_item(db_session, actor.principal, f"http://{HOST}/page")
    db_session.commit()
    kw = {"settings": ev_settings, "limits": TEST_LIMITS, "job_key": "capture:1"}
    [first] = capturing.capture_items(session_factory, actor.principal, [item_id], **kw)  # type: ignore[arg-type]
    [again] = capturing.capture_items(session_factory, actor.principal, [item_id], **kw)  # type: ignore[arg-type]
    assert first.status == "complete" and first.capture_id is not None
    assert (again.capture_id, again.status) == (first.capture_id, "complete")
    assert again.manifest_sha256 == first.manifest_sha256
    db_session.expire_all()
    caps = db_session.scalars(select(EvidenceCapture).where(EvidenceCapture.item_id == item_id))
    assert [c.id for c in caps] == [first.capture_id]
    assert _captured_events(db_session) == 1
    # Another job (or none) is another observation: a capture of its own.
    [other] = capturing.capture_items(
        session_factory, actor.principal, [item_id], settings=ev_settings, limits=TEST_LIMITS,
        job_key="capture:2",
    )  # fmt: skip
    assert other.capture_id not in (None, first.capture_id)


def test_a_capture_left_running_by_a_killed_worker_is_finished_on_its_row(
    db_session: Session, session_factory: sessionmaker[Session], ev_settings: Settings
) -> None:
    actor = make_actor(db_session)
    item_id = make_item(db_session, actor.principal, f"http://{HOST}/page")
    db_session.commit()
    with session_scope(session_factory) as s:  # phase 1 committed, then the worker died
        [job], _ = capturing._start(
            s, actor.principal, [item_id], with_screenshot=False, store_name="local",
            clock=SystemClock(), job_key="capture:k",
        )  # fmt: skip
    [summary] = capturing.capture_items(
        session_factory, actor.principal, [item_id], settings=ev_settings, limits=TEST_LIMITS,
        job_key="capture:k",
    )  # fmt: skip
    assert (summary.capture_id, summary.status) == (job.key, "complete")
    db_session.expire_all()
    assert db_session.scalar(select(func.count()).where(EvidenceCapture.item_id == item_id)) == 1


def test_a_capture_finished_by_another_delivery_is_not_stored_twice(
    db_session: Session, session_factory: sessionmaker[Session], ev_settings: Settings
) -> None:
    actor = make_actor(db_session)
    item_id = make_item(db_session, actor.principal, f"http://{HOST}/page")
    db_session.commit()
    clock = SystemClock()
    with session_scope(session_factory) as s:
        [job], _ = capturing._start(
            s, actor.principal, [item_id], with_screenshot=False, store_name="local",
            clock=clock, job_key="capture:r",
        )  # fmt: skip
    # Two deliveries ran the same capture; each got its output.
    outputs = [
        capturing.run_sync(
            lambda: capturing.run_jobs([job], settings=ev_settings, limits=TEST_LIMITS)
        )[0]
        for _ in range(2)
    ]
    store = store_for_settings(ev_settings)
    stored = []
    for out in outputs:
        with session_scope(session_factory) as s:
            stored.append(capturing._finish(s, actor.principal, [out], store, clock))
    assert [len(x) for x in stored] == [1, 0]
    db_session.expire_all()
    cap = repository.capture(db_session, job.key)
    assert cap is not None and cap.status == CaptureStatus.COMPLETE.value
    manifests = db_session.scalar(
        select(func.count()).where(
            EvidenceFile.capture_id == cap.id, EvidenceFile.role == "manifest"
        )
    )
    assert manifests == 1
    assert _captured_events(db_session) == 1
