"""The Art. 4(1) copy of a cross-border removal order to the host state's competent
authority: sent once with the order (a delivery of its own), never for a domestic order or
a ToS referral, "not sent" with the reason when the registry has no confirmed contact
point, then "Send copy" once it is set; two senders send it once."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from takedown.audit.models import AuditEvent
from takedown.db import session_scope
from takedown.kit.clock import FrozenClock
from takedown.kit.errors import Conflict
from takedown.platforms import authorities
from takedown.referrals import delivery, host_copy, repository, service
from takedown.referrals.channels.base import Attempt, Envelope
from takedown.referrals.channels.email import message_id
from takedown.referrals.channels.registry import ChannelRegistry
from takedown.referrals.models import Delivery, DeliveryKind, DeliveryStatus, Referral
from tests.factories import Actor, make_actor
from tests.referrals.factories import Team, ensure_platform, make_team, x_item
from tests.referrals.test_delivery_race import race_factory  # noqa: F401 (fixture)

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
JUST = "Synthetic stand-in for official propaganda of a designated group (test)."
AUTHORITY = "tco-ie@authority.example"


class FakeChannel:
    """Records what it was handed; thread-safe enough for the race (list.append)."""

    def __init__(self, name: str, *, pause: float = 0.0, ok: bool = True) -> None:
        self.name = name
        self.sent: list[Envelope] = []
        self.pause = pause
        self.ok = ok

    def deliver(self, envelope: Envelope) -> Attempt:
        self.sent.append(envelope)
        if self.pause:
            time.sleep(self.pause)
        if not self.ok:
            return Attempt(False, detail="451 try later")
        return Attempt(True, detail="250 accepted")


def _channels() -> tuple[ChannelRegistry, FakeChannel, FakeChannel]:
    portal, mail = FakeChannel("portal"), FakeChannel("email")
    return ChannelRegistry([portal, mail]), portal, mail


def _authority(session: Session, admin: Actor, **changes: Any) -> None:
    authorities.update(session, admin.principal, "IE", changes)


def _order(session: Session, team: Team, clock: FrozenClock | None = None) -> Referral:
    """An approved emergency order (no 12-hour notice) to x, established in IE."""
    ensure_platform(session, "x", country="IE")
    [res] = service.create_batches(
        session, team.analyst.principal, item_ids=[x_item(session, team.analyst).id],
        kind="removal_order", reasons=["a"], justification=JUST, emergency=True,
        channel="portal", clock=clock,
    )  # fmt: skip
    service.submit(session, team.analyst.principal, res.referral.id, clock=clock)
    return service.approve(session, team.supervisor.principal, res.referral.id, clock=clock)


def _actions(session: Session, ref: Referral) -> list[str]:
    rows = session.scalars(
        select(AuditEvent.action).where(
            AuditEvent.subject_type == "referral", AuditEvent.subject_id == str(ref.id)
        )
    ).all()
    return [str(a) for a in rows]


def test_a_cross_border_order_sends_one_copy_to_the_authority(db_session: Session) -> None:
    clock = FrozenClock(T0)
    team = make_team(db_session, country="FR")
    admin = make_actor(db_session, role="admin", operator=True)
    _authority(db_session, admin, name="Coimisiún na Meán", contact_point=AUTHORITY,
               confirmed=True)  # fmt: skip
    ref = _order(db_session, team, clock)
    assert host_copy.state(db_session, ref).status == "waiting"
    assert AUTHORITY in host_copy.state(db_session, ref).message
    reg, portal, mail = _channels()
    rep = delivery.run_due(db_session, reg, clock=clock)
    assert rep.delivered == 1 and rep.copies_sent == 1
    assert [e.reference for e in portal.sent] == [ref.reference]
    [copy] = mail.sent
    assert copy.copy_to == AUTHORITY and copy.copy_authority == "Coimisiún na Meán (IE)"
    assert copy.idempotency_key == f"{ref.reference}:host-copy"
    assert message_id(copy.idempotency_key, "iru@agency.example") == (
        f"<{ref.reference}.host-copy@agency.example>"
    )
    # the same frozen order document the platform received
    assert copy.document == portal.sent[0].document
    assert copy.document["sections"]["D"]["copy_to_host_state"] is True
    st = host_copy.state(db_session, ref)
    assert st.status == "sent" and st.sent_at == T0 and st.recipient == AUTHORITY
    assert st.message.startswith("Copy to host state (Art. 4): sent at 2026-03-02 09:00 UTC")
    assert ref.status == "sent"  # the copy changed nothing about the order
    assert "referral.host_copy_sent" in _actions(db_session, ref)
    # later rounds send nothing again
    clock.advance(dt.timedelta(hours=1))
    rep = delivery.run_due(db_session, reg, clock=clock)
    assert rep.attempted == 0 and rep.copies_sent == 0 and len(mail.sent) == 1
    copy_row = repository.delivery_for(db_session, ref.id, DeliveryKind.HOST_COPY.value)
    assert copy_row is not None and len(repository.attempts_of(db_session, copy_row.id)) == 1


def test_a_domestic_order_and_a_tos_referral_send_no_copy(db_session: Session) -> None:
    clock = FrozenClock(T0)
    admin = make_actor(db_session, role="admin", operator=True)
    _authority(db_session, admin, name="Coimisiún na Meán", contact_point=AUTHORITY,
               confirmed=True)  # fmt: skip
    irish = make_team(db_session, country="IE")
    domestic = _order(db_session, irish, clock)
    french = make_team(db_session, country="FR")
    [res] = service.create_batches(
        db_session, french.analyst.principal, item_ids=[x_item(db_session, french.analyst).id],
        kind="tos", channel="portal", clock=clock,
    )  # fmt: skip
    tos = service.submit(db_session, french.analyst.principal, res.referral.id, clock=clock)
    reg, _portal, mail = _channels()
    rep = delivery.run_due(db_session, reg, clock=clock)
    assert rep.delivered == 2 and rep.copies_sent == 0 and mail.sent == []
    for ref in (domestic, tos):
        assert repository.delivery_for(db_session, ref.id, DeliveryKind.HOST_COPY.value) is None
        assert host_copy.state(db_session, ref).status == "not_applicable"


def test_no_contact_point_sends_the_order_and_says_why_then_send_copy_sends_it_once(
    committing_db: tuple[Session, sessionmaker[Session]],
) -> None:
    session, factory = committing_db
    team = make_team(session, country="FR")
    admin = make_actor(session, role="admin", operator=True)
    _authority(session, admin, name="Coimisiún na Meán", contact_point=None, confirmed=False)
    ref = _order(session, team)
    waiting = host_copy.state(session, ref)
    assert waiting.status == "waiting" and waiting.warn
    assert "no confirmed contact point for Coimisiún na Meán (IE)" in waiting.message
    session.commit()
    reg, portal, mail = _channels()
    rep = delivery.deliver_due(factory, _settings(), reg)
    assert rep.delivered == 1 and len(portal.sent) == 1 and mail.sent == []
    session.expire_all()
    ref = service.get_referral(session, team.analyst.principal, ref.id)
    assert ref.status == "sent"  # the platform's deadline runs: the order went out
    st = host_copy.state(session, ref)
    assert st.status == "not_sent" and st.can_send
    assert st.message == (
        "Copy to host state (Art. 4): not sent — no confirmed contact point for "
        "Coimisiún na Meán (IE); set it in Administration → TCO authorities: the next "
        "delivery round sends it (or Send copy)"
    )
    assert "referral.host_copy_not_sent" in _actions(session, ref)
    with pytest.raises(Conflict, match="no confirmed contact point"):
        delivery.send_copy(factory, team.analyst.principal, ref.id, reg)
    assert mail.sent == []
    _authority(session, admin, contact_point=AUTHORITY, confirmed=True)
    session.commit()
    attempt = delivery.send_copy(factory, team.analyst.principal, ref.id, reg)
    assert attempt.ok and [e.copy_to for e in mail.sent] == [AUTHORITY]
    with pytest.raises(Conflict, match="sent at"):
        delivery.send_copy(factory, team.analyst.principal, ref.id, reg)
    delivery.deliver_due(factory, _settings(), reg)
    assert len(mail.sent) == 1 and len(portal.sent) == 1
    session.expire_all()
    assert host_copy.state(session, ref).status == "sent"
    assert "referral.host_copy_requested" in _actions(session, ref)


def test_a_copy_not_sent_goes_by_itself_once_the_contact_point_is_recorded(
    committing_db: tuple[Session, sessionmaker[Session]],
) -> None:
    """Art. 4(1) wants the copy with the order: once the registry has a confirmed contact
    point, the next delivery round queues and sends it (audited, once); until then rounds
    leave it not sent."""
    session, factory = committing_db
    team = make_team(session, country="FR")
    admin = make_actor(session, role="admin", operator=True)
    _authority(session, admin, name="Coimisiún na Meán", contact_point=None, confirmed=False)
    ref = _order(session, team)
    session.commit()
    reg, portal, mail = _channels()
    delivery.deliver_due(factory, _settings(), reg)
    delivery.deliver_due(factory, _settings(), reg)  # still no contact point: nothing
    session.expire_all()
    assert host_copy.state(session, ref).status == "not_sent" and mail.sent == []
    _authority(session, admin, contact_point=AUTHORITY, confirmed=True)
    session.commit()
    rep = delivery.deliver_due(factory, _settings(), reg)
    assert rep.copies_sent == 1 and [e.copy_to for e in mail.sent] == [AUTHORITY]
    delivery.deliver_due(factory, _settings(), reg)
    assert len(mail.sent) == 1 and len(portal.sent) == 1
    session.expire_all()
    assert host_copy.state(session, ref).status == "sent"
    queued = session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "referral.host_copy_queued",
            AuditEvent.subject_id == str(ref.id),
        )
    ).all()
    assert len(queued) == 1 and "recorded after the order" in str(queued[0].details)


def test_a_failing_copy_is_retried_with_backoff_then_fails_with_its_reason(
    db_session: Session,
) -> None:
    clock = FrozenClock(T0)
    team = make_team(db_session, country="FR")
    admin = make_actor(db_session, role="admin", operator=True)
    _authority(db_session, admin, name="Coimisiún na Meán", contact_point=AUTHORITY,
               confirmed=True)  # fmt: skip
    ref = _order(db_session, team, clock)
    portal, mail = FakeChannel("portal"), FakeChannel("email", ok=False)
    reg = ChannelRegistry([portal, mail])
    delivery.run_due(db_session, reg, clock=clock)
    assert ref.status == "sent"  # a failing copy never holds the order back
    st = host_copy.state(db_session, ref)
    assert st.status == "pending" and st.attempts == 1 and "451" in st.reason
    assert st.next_attempt_at is not None and st.next_attempt_at > T0
    delivery.run_due(db_session, reg, clock=clock)  # not due yet
    assert len(mail.sent) == 1
    for _ in range(10):
        clock.advance(dt.timedelta(hours=2))
        delivery.run_due(db_session, reg, clock=clock)
    st = host_copy.state(db_session, ref)
    assert st.status == "failed" and st.attempts == 8 and st.can_send
    assert "failed after 8 attempt(s)" in st.message and "451 try later" in st.message
    assert len(portal.sent) == 1 and len(mail.sent) == 8
    assert "referral.host_copy_failed" in _actions(db_session, ref)


def _settings() -> Any:
    from takedown.config import Settings

    return Settings(capture_before_referral=False, check_before_referral=False)


@pytest.mark.slow
def test_send_copy_and_the_job_racing_send_the_copy_once(
    race_factory: sessionmaker[Session],  # noqa: F811
) -> None:
    rounds = 8
    with session_scope(race_factory) as s:
        team = make_team(s, country="FR")
        admin = make_actor(s, role="admin", operator=True)
        _authority(s, admin, name="Coimisiún na Meán", contact_point=None, confirmed=False)
        ids = [_order(s, team).id for _ in range(rounds)]
        principal = team.analyst.principal
    portal, mail = FakeChannel("portal"), FakeChannel("email", pause=0.02)
    reg = ChannelRegistry([portal, mail])
    delivery.deliver_due(race_factory, _settings(), reg)  # orders out, copies not sent
    assert len(portal.sent) == rounds and mail.sent == []
    with session_scope(race_factory) as s:
        _authority(s, admin, contact_point=AUTHORITY, confirmed=True)
        # the job would find them due too: make them pending again, as a retry would be
        for rid in ids:
            row = repository.delivery_for(s, rid, DeliveryKind.HOST_COPY.value)
            assert row is not None and row.status == DeliveryStatus.NOT_SENT.value
    errors: list[BaseException] = []
    refused: Counter[str] = Counter()
    for rid in ids:
        go = threading.Barrier(3)

        def click(rid: int = rid, go: threading.Barrier = go) -> None:
            go.wait()
            try:
                delivery.send_copy(race_factory, principal, rid, reg)
            except Conflict as exc:
                refused[exc.detail[:30]] += 1
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        def job(go: threading.Barrier = go) -> None:
            go.wait()
            try:
                delivery.deliver_due(race_factory, _settings(), reg)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=f) for f in (click, click, job)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    assert not errors, errors[:3]
    per_ref = Counter(e.reference for e in mail.sent)
    assert len(per_ref) == rounds and set(per_ref.values()) == {1}, per_ref
    # Each round at least one of the two clicks was refused; the job's first round also queued
    # (and sent) every copy whose authority now has a contact point, so later clicks find
    # theirs sent already: sent once either way.
    assert rounds <= sum(refused.values()) <= 2 * rounds
    with session_scope(race_factory) as s:
        copies = s.scalars(select(Delivery).where(Delivery.kind == "host_copy")).all()
        assert {c.status for c in copies} == {DeliveryStatus.DELIVERED.value}
        assert {c.attempts for c in copies} == {1}
    assert len(portal.sent) == rounds
