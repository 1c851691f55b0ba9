"""The supervisor's and the author's actions on a batch before it goes out (#13.3): edit a
draft or pending order (four eyes kept), send an order back with a reason, cancel, and
escalate an order held by the 12-hour prior notice to an emergency order."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy.orm import Session

from takedown.audit.models import AuditEvent
from takedown.kit.clock import FrozenClock
from takedown.kit.errors import Conflict, Forbidden, InvalidInput
from takedown.referrals import delivery, repository, service
from takedown.referrals.channels.base import Attempt
from takedown.referrals.models import ReferralStatus
from tests.factories import make_actor
from tests.referrals.factories import ensure_platform, make_team, x_item
from tests.referrals.test_service import JUST, T0, order, portal


def _events(session: Session, referral_id: int, action: str) -> list[dict[str, object]]:
    rows = (
        session.query(AuditEvent)
        .filter_by(subject_type="referral", subject_id=str(referral_id), action=action)
        .order_by(AuditEvent.id)
        .all()
    )
    return [json.loads(r.details) for r in rows]


def test_edit_changes_an_order_audited_and_the_editor_cannot_approve(db_session: Session) -> None:
    clock = FrozenClock(T0)
    team = make_team(db_session)
    ensure_platform(db_session, "x")
    one, two = x_item(db_session, team.analyst), x_item(db_session, team.analyst)
    ref = order(db_session, team.analyst, [one, two], clock).referral
    service.submit(db_session, team.analyst.principal, ref.id, clock=clock)
    new_just = "Synthetic video urging attacks on a named venue; assessed under (a) and (b)."
    service.edit(
        db_session, team.supervisor.principal, ref.id,
        reasons=["a", "b"], justification=new_just, remove_items=[two.id], clock=clock,
    )  # fmt: skip
    assert ref.reasons == ["a", "b"] and ref.justification == new_just
    assert [ri.item_id for ri, _ in repository.items_of(db_session, ref.id)] == [one.id]
    [ev] = _events(db_session, ref.id, "referral.edit")
    assert ev["removed_items"] == [two.id] and ev["reasons"] == ["a", "b"]
    # Four eyes: the supervisor who edited it cannot approve it; another one can.
    with pytest.raises(Forbidden, match="you edited this order"):
        service.approve(db_session, team.supervisor.principal, ref.id, clock=clock)
    service.approve(db_session, team.supervisor2.principal, ref.id, clock=clock)
    assert ref.status == ReferralStatus.APPROVED.value
    with pytest.raises(Conflict, match="only a draft or an order awaiting approval"):
        service.edit(db_session, team.supervisor2.principal, ref.id, justification=JUST)


def test_edit_keeps_an_order_valid(db_session: Session) -> None:
    team = make_team(db_session)
    ensure_platform(db_session, "x")
    it = x_item(db_session, team.analyst)
    ref = order(db_session, team.analyst, [it], FrozenClock(T0)).referral
    with pytest.raises(InvalidInput, match="justification"):
        service.edit(db_session, team.analyst.principal, ref.id, justification="too short")
    with pytest.raises(InvalidInput, match="at least one Art"):
        service.edit(db_session, team.analyst.principal, ref.id, reasons=[])
    with pytest.raises(InvalidInput, match="keeps at least one item"):
        service.edit(db_session, team.analyst.principal, ref.id, remove_items=[it.id])
    colleague = make_actor(db_session, team.analyst.agency, role="analyst")
    with pytest.raises(Forbidden, match="author or a supervisor"):
        service.edit(db_session, colleague.principal, ref.id, justification=JUST + "!")
    assert ref.justification == JUST and _events(db_session, ref.id, "referral.edit") == []


def test_send_back_needs_a_reason_and_tells_the_author(db_session: Session) -> None:
    clock = FrozenClock(T0)
    team = make_team(db_session)
    ensure_platform(db_session, "x")
    ref = order(db_session, team.analyst, [x_item(db_session, team.analyst)], clock).referral
    service.submit(db_session, team.analyst.principal, ref.id, clock=clock)
    with pytest.raises(InvalidInput, match="reason"):
        service.reject(db_session, team.supervisor.principal, ref.id, reason="  ")
    with pytest.raises(Forbidden):
        service.reject(db_session, team.analyst.principal, ref.id, reason="mine")
    service.reject(db_session, team.supervisor.principal, ref.id, reason="Cite the venue.")
    assert ref.status == ReferralStatus.DRAFT.value
    [note] = service.notifications(db_session, team.analyst.principal)
    assert note.referral_id == ref.id and "sent back to you: Cite the venue." in note.message
    # Sent back twice: one notification, the newest reason.
    service.submit(db_session, team.analyst.principal, ref.id, clock=clock)
    service.reject(db_session, team.supervisor.principal, ref.id, reason="And the date.")
    [note] = service.notifications(db_session, team.analyst.principal)
    assert note.message.endswith("And the date.")


def test_an_order_held_by_the_prior_notice_can_be_escalated(db_session: Session) -> None:
    clock = FrozenClock(T0)
    team = make_team(db_session)
    ensure_platform(db_session, "x")
    ref = order(db_session, team.analyst, [x_item(db_session, team.analyst)], clock).referral
    service.submit(db_session, team.analyst.principal, ref.id, clock=clock)
    service.approve(db_session, team.supervisor.principal, ref.id, clock=clock)
    assert ref.not_before == T0 + dt.timedelta(hours=12)
    assert delivery.run_due(db_session, portal(), clock=clock).attempted == 0
    why = "Livestream of an ongoing attack, spreading now."
    with pytest.raises(Forbidden):
        service.escalate_to_emergency(db_session, team.analyst.principal, ref.id, reason=why)
    with pytest.raises(InvalidInput, match="justify the emergency"):
        service.escalate_to_emergency(db_session, team.supervisor.principal, ref.id, reason="now")
    service.escalate_to_emergency(
        db_session, team.supervisor.principal, ref.id, reason=why, clock=clock
    )
    assert ref.emergency and ref.not_before is None
    [ev] = _events(db_session, ref.id, "referral.emergency")
    assert ev["reason"] == why
    assert delivery.run_due(db_session, portal(), clock=clock).delivered == 1
    with pytest.raises(Conflict):
        service.escalate_to_emergency(db_session, team.supervisor.principal, ref.id, reason=why)


def test_cancel_is_refused_while_a_sender_holds_the_delivery(db_session: Session) -> None:
    """A cancel that lands between a sender's claim and its answer would be overwritten by
    the answer (the order marked sent after it was cancelled): it is refused instead, and
    allowed once the attempt has ended without getting through."""
    clock = FrozenClock(T0)
    team = make_team(db_session)
    ensure_platform(db_session, "x")
    ref = order(db_session, team.analyst, [x_item(db_session, team.analyst)], clock).referral
    service.submit(db_session, team.analyst.principal, ref.id, clock=clock)
    service.approve(db_session, team.supervisor.principal, ref.id, clock=clock)
    clock.advance(dt.timedelta(hours=13))
    d = repository.delivery_for(db_session, ref.id)
    assert d is not None
    started = delivery.claim(db_session, d.id, clock=clock)
    assert started is not None  # a sender holds it; the channel is "answering"
    with pytest.raises(Conflict, match="being sent right now"):
        service.cancel(db_session, team.supervisor.principal, ref.id, clock=clock)
    assert ref.status == ReferralStatus.APPROVED.value
    delivery.finish(db_session, started, Attempt(False, detail="timed out"), clock=clock)
    service.cancel(db_session, team.supervisor.principal, ref.id, clock=clock)  # now it may
    db_session.refresh(d)
    assert ref.status == ReferralStatus.CANCELLED.value and d.status == "gave_up"
    assert delivery.run_due(db_session, portal(), clock=clock).attempted == 0


def test_cancel_an_approved_order_before_it_goes(db_session: Session) -> None:
    clock = FrozenClock(T0)
    team = make_team(db_session)
    ensure_platform(db_session, "x")
    ref = order(db_session, team.analyst, [x_item(db_session, team.analyst)], clock).referral
    service.submit(db_session, team.analyst.principal, ref.id, clock=clock)
    service.approve(db_session, team.supervisor.principal, ref.id, clock=clock)
    service.cancel(db_session, team.supervisor.principal, ref.id, clock=clock)
    assert ref.status == ReferralStatus.CANCELLED.value
    clock.advance(dt.timedelta(hours=13))
    assert delivery.run_due(db_session, portal(), clock=clock).attempted == 0
