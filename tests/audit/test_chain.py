from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from takedown.audit import repository
from takedown.audit.service import record, verify
from tests.factories import make_actor


def _events(session: Session, n: int) -> list[int]:
    actor = make_actor(session)
    return [
        record(session, actor.principal, "test.event", "thing", i, {"i": i, "é": "ü"}).id
        for i in range(n)
    ]


def test_chain_verifies(db_session: Session) -> None:
    _events(db_session, 5)
    result = verify(db_session)
    assert result.ok and result.checked == repository.count(db_session)


def test_edit_is_detected_at_that_row(db_session: Session) -> None:
    ids = _events(db_session, 6)
    db_session.execute(
        text("UPDATE audit_events SET details = :d WHERE id = :i"), {"d": '{"i":99}', "i": ids[3]}
    )
    db_session.expire_all()
    result = verify(db_session)
    assert not result.ok and result.first_bad_id == ids[3] and "edited" in (result.reason or "")


def test_deletion_is_detected_at_the_next_row(db_session: Session) -> None:
    ids = _events(db_session, 6)
    db_session.execute(text("DELETE FROM audit_events WHERE id = :i"), {"i": ids[2]})
    db_session.expire_all()
    result = verify(db_session)
    assert not result.ok and result.first_bad_id == ids[3]


def test_rehashed_edit_still_breaks_the_next_link(db_session: Session) -> None:
    """An attacker who edits a row and recomputes its hash breaks the following link."""
    from takedown.audit.models import AuditEvent
    from takedown.audit.service import compute_hash

    ids = _events(db_session, 4)
    ev = db_session.get(AuditEvent, ids[1])
    assert ev is not None
    ev.details = '{"i":1,"forged":true}'
    ev.hash = compute_hash(
        prev_hash=ev.prev_hash,
        at=ev.at,
        actor_user_id=ev.actor_user_id,
        actor_agency_id=ev.actor_agency_id,
        action=ev.action,
        subject_type=ev.subject_type,
        subject_id=ev.subject_id,
        details=ev.details,
    )
    db_session.flush()
    result = verify(db_session)
    assert not result.ok and result.first_bad_id == ids[2]
