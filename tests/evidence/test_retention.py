"""Retention with a frozen clock: 6 months after confirmed removal, longer under a hold."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from takedown.audit.models import AuditEvent
from takedown.config import Settings
from takedown.evidence import repository
from takedown.evidence.retention import add_months, collect_garbage, purge
from takedown.evidence.service import place_hold, release_hold
from takedown.evidence.storage import store_for_settings
from takedown.items.service import SYSTEM, get_item, transition
from takedown.kit.clock import FrozenClock
from tests.evidence.conftest import capture_one
from tests.factories import make_actor

REMOVED_AT = dt.datetime(2026, 3, 31, 12, 0, tzinfo=dt.UTC)


def _removed_capture(
    db_session: Session, session_factory: sessionmaker[Session], settings: Settings
) -> tuple[object, int, int]:
    actor = make_actor(db_session)
    item_id, cap_id = capture_one(db_session, session_factory, settings, actor.principal)
    item = get_item(db_session, SYSTEM, item_id)
    transition(
        db_session,
        SYSTEM,
        item,
        "removed",
        reason="verified offline",
        clock=FrozenClock(REMOVED_AT),
    )
    db_session.flush()
    return actor, item_id, cap_id


def test_add_months_clamps_to_month_end() -> None:
    assert add_months(REMOVED_AT, 6) == dt.datetime(2026, 9, 30, 12, 0, tzinfo=dt.UTC)
    assert add_months(dt.datetime(2026, 8, 31, tzinfo=dt.UTC), 6).day == 28


def test_nothing_is_purged_before_six_months_and_everything_after(
    db_session: Session, session_factory: sessionmaker[Session], ev_settings: Settings
) -> None:
    _actor, _item_id, cap_id = _removed_capture(db_session, session_factory, ev_settings)
    store = store_for_settings(ev_settings)
    shas = [f.sha256 for f in repository.files_of(db_session, cap_id)]
    clock = FrozenClock(dt.datetime(2026, 9, 30, 11, 59, tzinfo=dt.UTC))  # one minute short
    report = purge(db_session, store=store, clock=clock)
    assert cap_id not in [e.capture_id for e in report.purged]

    clock.advance(dt.timedelta(minutes=1))
    dry = purge(db_session, store=store, clock=clock, dry_run=True)
    assert [e.capture_id for e in dry.purged] == [cap_id]
    assert repository.capture(db_session, cap_id).status == "complete"  # type: ignore[union-attr]
    assert all(store.exists(s) for s in shas)

    done = purge(db_session, store=store, clock=clock)
    assert [e.capture_id for e in done.purged] == [cap_id]
    collect_garbage(db_session, store)
    cap = repository.capture(db_session, cap_id)
    assert cap is not None and cap.status == "purged" and cap.purged_at == clock.now()
    assert not any(store.exists(s) for s in shas)
    ev = db_session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "evidence.purged", AuditEvent.subject_id == str(cap_id)
        )
    ).one()
    details = json.loads(ev.details)
    assert "TCO Art. 6" in details["reason"] and set(details["deleted_sha256"]) == set(shas)

    again = purge(db_session, store=store, clock=clock)  # idempotent
    assert cap_id not in [e.capture_id for e in again.purged]


def test_a_hold_keeps_evidence_until_released(
    db_session: Session, session_factory: sessionmaker[Session], ev_settings: Settings
) -> None:
    actor, item_id, cap_id = _removed_capture(db_session, session_factory, ev_settings)
    store = store_for_settings(ev_settings)
    hold = place_hold(
        db_session,
        actor.principal,
        item_id,
        kind="court_request",
        reason="court asked to preserve",
        reference="Case 2026/17",
    )  # type: ignore[arg-type]
    later = FrozenClock(dt.datetime(2027, 6, 1, tzinfo=dt.UTC))
    report = purge(db_session, store=store, clock=later)
    assert cap_id in report.held and cap_id not in [e.capture_id for e in report.purged]

    release_hold(db_session, actor.principal, hold.id, clock=later)  # type: ignore[arg-type]
    report = purge(db_session, store=store, clock=later)
    assert cap_id in [e.capture_id for e in report.purged]


def test_an_item_that_reappeared_is_not_purged(
    db_session: Session, session_factory: sessionmaker[Session], ev_settings: Settings
) -> None:
    _actor, item_id, cap_id = _removed_capture(db_session, session_factory, ev_settings)
    item = get_item(db_session, SYSTEM, item_id)
    transition(
        db_session,
        SYSTEM,
        item,
        "reappeared",
        reason="back online",
        clock=FrozenClock(REMOVED_AT + dt.timedelta(days=3)),
    )
    report = purge(
        db_session,
        store=store_for_settings(ev_settings),
        clock=FrozenClock(dt.datetime(2028, 1, 1, tzinfo=dt.UTC)),
    )
    assert cap_id not in [e.capture_id for e in report.purged]


def test_bytes_shared_with_a_surviving_capture_are_kept(
    db_session: Session, session_factory: sessionmaker[Session], ev_settings: Settings
) -> None:
    actor, _item_id, cap_id = _removed_capture(db_session, session_factory, ev_settings)
    # Another item with the same image: its capture shares the image object.
    _, other_cap = capture_one(
        db_session,
        session_factory,
        ev_settings,
        actor.principal,
        url="http://hostile.test/page?copy=1",
    )
    store = store_for_settings(ev_settings)
    image = next(f for f in repository.files_of(db_session, cap_id) if f.role == "media")
    assert image.sha256 in {f.sha256 for f in repository.files_of(db_session, other_cap)}
    purge(db_session, store=store, clock=FrozenClock(dt.datetime(2027, 1, 1, tzinfo=dt.UTC)))
    collect_garbage(db_session, store)
    assert store.exists(image.sha256)
