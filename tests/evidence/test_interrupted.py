"""Captures a stopped process left running are marked failed (``interrupted``) by the
``evidence.interrupted`` ticker: the item page no longer shows them under way forever."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from takedown.audit.models import AuditEvent
from takedown.db import session_scope
from takedown.evidence import capturing
from takedown.evidence.models import CaptureStatus, EvidenceCapture
from takedown.kit.clock import FrozenClock
from takedown.kit.jobs import registered_tickers
from tests.evidence.conftest import make_item
from tests.evidence.hostile import HOST
from tests.factories import make_actor

T0 = dt.datetime(2026, 12, 6, 9, 0, tzinfo=dt.UTC)


def test_a_capture_running_for_an_hour_is_failed_as_interrupted_and_a_recent_one_is_not(
    db_session: Session, session_factory: sessionmaker[Session]
) -> None:
    actor = make_actor(db_session)
    old_item = make_item(db_session, actor.principal, f"http://{HOST}/old")
    new_item = make_item(db_session, actor.principal, f"http://{HOST}/new")
    db_session.commit()
    with session_scope(session_factory) as s:  # started, then the process was killed
        [old], _ = capturing._start(
            s, actor.principal, [old_item], with_screenshot=False, store_name="local",
            clock=FrozenClock(T0),
        )  # fmt: skip
        [new], _ = capturing._start(
            s, actor.principal, [new_item], with_screenshot=False, store_name="local",
            clock=FrozenClock(T0 + dt.timedelta(minutes=30)),
        )  # fmt: skip
    now = FrozenClock(T0 + dt.timedelta(minutes=61))
    with session_scope(session_factory) as s:
        failed = capturing.fail_interrupted(s, clock=now)
    assert [f.capture_id for f in failed] == [old.key]
    assert failed[0].failure_code == "interrupted"
    db_session.expire_all()
    rows = {c.id: c for c in db_session.scalars(select(EvidenceCapture))}
    assert rows[old.key].status == CaptureStatus.FAILED.value
    assert (rows[old.key].failure_reason or "").startswith("interrupted: still running 60 minutes")
    assert rows[new.key].status == CaptureStatus.RUNNING.value
    events = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "evidence.capture_failed")
    ).all()
    details = [json.loads(e.details) if isinstance(e.details, str) else e.details for e in events]
    assert [(e.subject_id, d["failure"]) for e, d in zip(events, details, strict=True)] == [
        (str(old.key), "interrupted")
    ]
    with session_scope(session_factory) as s:  # a second sweep changes nothing
        assert capturing.fail_interrupted(s, clock=now) == []


def test_the_sweep_is_a_registered_ticker() -> None:
    import takedown.evidence.tasks  # noqa: F401  (registers the jobs and tickers)

    assert "evidence.interrupted" in {t.name for t in registered_tickers()}
