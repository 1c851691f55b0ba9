"""The referral rules: batches per platform, four eyes, deadlines, notice, holds, duplicates."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from takedown.items import service as items_service
from takedown.items.models import ItemStatus
from takedown.kit.clock import FrozenClock
from takedown.kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from takedown.platforms import authorities
from takedown.referrals import delivery, render, repository, service
from takedown.referrals.channels.portal import PortalChannel
from takedown.referrals.channels.registry import ChannelRegistry
from takedown.referrals.models import Delivery, ItemState, Notification, ReferralStatus
from tests.factories import make_actor
from tests.items.factories import make_assessed_item
from tests.referrals.factories import ensure_platform, make_team, x_item

JUST = "Official propaganda video of a designated group, with a call to attack."
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def order(session: Session, actor, items, clock, **kw):  # type: ignore[no-untyped-def]
    [res] = service.create_batches(
        session,
        actor.principal,
        item_ids=[i.id for i in items],
        kind="removal_order",
        reasons=["a", "c"],
        justification=JUST,
        clock=clock,
        **kw,
    )
    return res


def portal() -> ChannelRegistry:
    return ChannelRegistry([PortalChannel(FrozenClock(T0))])


def test_batches_are_grouped_per_platform(db_session: Session) -> None:
    team = make_team(db_session)
    ensure_platform(db_session, "x")
    ensure_platform(db_session, "youtube", domains=["youtube.com"], kind="video")
    a = x_item(db_session, team.analyst)
    b = x_item(db_session, team.analyst)
    c = make_assessed_item(
        db_session, team.analyst, url="https://www.youtube.com/watch?v=abcdefghijk"
    )
    res = service.create_batches(
        db_session, team.analyst.principal, item_ids=[a.id, b.id, c.id], kind="tos"
    )
    assert sorted((r.referral.platform, r.included) for r in res) == [("x", 2), ("youtube", 1)]
    assert all(r.referral.status == ReferralStatus.DRAFT.value for r in res)


def test_removal_order_needs_reasons_and_justification(db_session: Session) -> None:
    team = make_team(db_session)
    it = x_item(db_session, team.analyst)
    with pytest.raises(InvalidInput, match="reason"):
        service.create_batches(
            db_session,
            team.analyst.principal,
            item_ids=[it.id],
            kind="removal_order",
            justification=JUST,
        )
    with pytest.raises(InvalidInput, match="justification"):
        service.create_batches(
            db_session,
            team.analyst.principal,
            item_ids=[it.id],
            kind="removal_order",
            reasons=["a"],
        )
    with pytest.raises(InvalidInput, match="a-e"):
        service.create_batches(
            db_session,
            team.analyst.principal,
            item_ids=[it.id],
            kind="removal_order",
            reasons=["z"],
            justification=JUST,
        )


def test_four_eyes(db_session: Session) -> None:
    clock = FrozenClock(T0)
    team = make_team(db_session)
    ensure_platform(db_session, "x")
    res = order(db_session, team.supervisor, [x_item(db_session, team.analyst)], clock)
    ref = service.submit(db_session, team.supervisor.principal, res.referral.id, clock=clock)
    assert ref.status == ReferralStatus.PENDING_APPROVAL.value
    with pytest.raises(Forbidden, match="four-eyes"):
        service.approve(db_session, team.supervisor.principal, ref.id, clock=clock)
    with pytest.raises(Forbidden, match="supervisor"):
        service.approve(db_session, team.analyst.principal, ref.id, clock=clock)
    other_agency_sup = make_actor(db_session, role="supervisor")
    with pytest.raises(NotFound):
        service.approve(db_session, other_agency_sup.principal, ref.id, clock=clock)
    ref = service.approve(db_session, team.supervisor2.principal, ref.id, clock=clock)
    assert ref.status == ReferralStatus.APPROVED.value
    assert ref.approver_id == team.supervisor2.user.id != ref.author_id


def test_annex_i_has_every_section(db_session: Session) -> None:
    clock = FrozenClock(T0)
    team = make_team(db_session, country="FR")
    ensure_platform(db_session, "x", country="IE")
    admin = make_actor(db_session, role="admin", operator=True)
    authorities.update(
        db_session,
        admin.principal,
        "IE",
        {"name": "IE Coimisiún", "contact_point": "tco@ie-authority.example", "confirmed": True},
    )
    res = order(
        db_session,
        team.analyst,
        [x_item(db_session, team.analyst)],
        clock,
        disclosure_delayed=True,
        disclosure_delay_weeks=6,
    )
    service.submit(db_session, team.analyst.principal, res.referral.id, clock=clock)
    ref = service.approve(db_session, team.supervisor.principal, res.referral.id, clock=clock)
    doc = ref.annex
    s = doc["sections"]
    assert set(s) == {"A", "B", "C", "D", "E", "F"}
    assert s["A"]["issuing_state"] == "FR" and s["A"]["state_of_main_establishment"] == "IE"
    assert s["A"]["legal_representative"] == "x Legal Rep Ltd"
    assert s["A"]["contact_point"] == "tco@x.example"
    assert s["A"]["reference"] == ref.reference and s["A"]["issued_at"] == T0.isoformat()
    assert [r["letter"] for r in s["B"]["reasons"]] == ["a", "c"]
    assert s["B"]["justification"] == JUST and len(s["B"]["items"]) == 1
    assert s["C"]["disclosure_delayed"] is True and s["C"]["delay_weeks"] == 6
    assert s["D"]["copy_to_host_state"] is True and s["D"]["host_state_authority"] == "IE Coimisiún"
    assert s["D"]["host_state_contact"] == "tco@ie-authority.example" and "warnings" not in doc
    assert s["E"]["approved_by"] and len(s["E"]["seal"]) == 64
    assert "remedy" in s["F"]["redress"]
    html = render.as_html(db_session, ref)
    for heading in ("Section A", "Section B", "Section C", "Section D", "Section E", "Section F"):
        assert heading in html
    assert "<script" not in html


def test_first_order_to_a_platform_waits_12_hours_unless_emergency(db_session: Session) -> None:
    clock = FrozenClock(T0)
    team = make_team(db_session)
    ensure_platform(db_session, "x")
    first = order(db_session, team.analyst, [x_item(db_session, team.analyst)], clock).referral
    service.submit(db_session, team.analyst.principal, first.id, clock=clock)
    service.approve(db_session, team.supervisor.principal, first.id, clock=clock)
    assert first.not_before == T0 + dt.timedelta(hours=12)
    d = repository.delivery_for(db_session, first.id)
    assert d is not None and d.next_attempt_at == T0 + dt.timedelta(hours=12)
    assert delivery.run_due(db_session, portal(), clock=clock).attempted == 0
    # an emergency order goes at once
    urgent = order(
        db_session, team.analyst, [x_item(db_session, team.analyst)], clock, emergency=True
    )
    service.submit(db_session, team.analyst.principal, urgent.referral.id, clock=clock)
    service.approve(db_session, team.supervisor.principal, urgent.referral.id, clock=clock)
    assert urgent.referral.not_before is None
    assert delivery.run_due(db_session, portal(), clock=clock).delivered == 1
    # after the notice, the first goes; later orders need no new notice
    clock.advance(dt.timedelta(hours=12))
    assert delivery.run_due(db_session, portal(), clock=clock).delivered == 1
    later = order(db_session, team.analyst, [x_item(db_session, team.analyst)], clock).referral
    service.submit(db_session, team.analyst.principal, later.id, clock=clock)
    service.approve(db_session, team.supervisor.principal, later.id, clock=clock)
    assert later.not_before is None


def test_deadline_is_one_hour_from_receipt_and_overdue_orders_escalate(db_session: Session) -> None:
    clock = FrozenClock(T0)
    team = make_team(db_session)
    ensure_platform(db_session, "x")
    it = x_item(db_session, team.analyst)
    ref = order(db_session, team.analyst, [it], clock, emergency=True).referral
    service.submit(db_session, team.analyst.principal, ref.id, clock=clock)
    service.approve(db_session, team.supervisor.principal, ref.id, clock=clock)
    clock.advance(dt.timedelta(minutes=3))
    delivery.run_due(db_session, ChannelRegistry([PortalChannel(clock)]), clock=clock)
    assert ref.received_at == T0 + dt.timedelta(minutes=3)
    assert ref.deadline_at == ref.received_at + dt.timedelta(hours=1)
    assert it.status == ItemStatus.REFERRED.value
    clock.advance(dt.timedelta(minutes=59))
    assert ref.id not in [r.id for r in service.escalate_overdue(db_session, clock=clock)]
    clock.advance(dt.timedelta(minutes=2))
    assert ref.id in [r.id for r in service.escalate_overdue(db_session, clock=clock)]
    notified = {n.user_id for n in db_session.query(Notification).filter_by(referral_id=ref.id)}
    assert {team.analyst.user.id, team.supervisor.user.id} <= notified
    assert render.as_json(db_session, ref)["overdue"] is True
    assert ref.id not in [r.id for r in service.escalate_overdue(db_session, clock=clock)]  # once


def test_held_item_is_not_sent_and_names_the_contact(db_session: Session) -> None:
    team = make_team(db_session)
    holder = make_actor(db_session, role="analyst")
    holder.agency.contact_point = "deconfliction@holder.example"
    it = x_item(db_session, team.analyst)
    items_service.share_item(db_session, team.analyst.principal, it.id, holder.agency.id)
    items_service.place_hold(db_session, holder.principal, it.id, reason="ongoing investigation")
    free = x_item(db_session, team.analyst)
    [res] = service.create_batches(
        db_session, team.analyst.principal, item_ids=[it.id, free.id], kind="tos"
    )
    states = {i.item_id: i for i in res.items}
    assert states[it.id].state == ItemState.HELD.value
    assert "deconfliction@holder.example" in states[it.id].detail
    assert states[free.id].state == ItemState.INCLUDED.value
    [only_held] = service.create_batches(
        db_session, team.analyst.principal, item_ids=[it.id], kind="tos"
    )
    with pytest.raises(Conflict, match="no item"):
        service.submit(db_session, team.analyst.principal, only_held.referral.id)


def test_no_item_is_sent_twice_to_the_same_platform(db_session: Session) -> None:
    clock = FrozenClock(T0)
    a = make_team(db_session)
    b = make_actor(db_session, role="analyst")
    ensure_platform(db_session, "x")
    it = x_item(db_session, a.analyst)
    items_service.report_url(db_session, b.principal, it.canonical_url)
    items_service.assess(db_session, b.principal, it.id, "terrorist_content", ["a"])
    [first] = service.create_batches(db_session, a.analyst.principal, item_ids=[it.id], kind="tos")
    service.submit(db_session, a.analyst.principal, first.referral.id, clock=clock)
    [second] = service.create_batches(db_session, b.principal, item_ids=[it.id], kind="tos")
    [view] = second.items
    assert view.state == ItemState.DUPLICATE.value
    assert first.referral.reference in view.detail


def test_delivery_gives_up_after_max_attempts_and_records_each(db_session: Session) -> None:
    from takedown.referrals.channels.base import Attempt, Envelope

    class Broken:
        name = "portal"
        seen: list[str] = []

        def deliver(self, envelope: Envelope) -> Attempt:
            self.seen.append(envelope.idempotency_key)
            return Attempt(False, status_code=503, detail="down")

    clock = FrozenClock(T0)
    team = make_team(db_session)
    ensure_platform(db_session, "x")
    [res] = service.create_batches(
        db_session,
        team.analyst.principal,
        item_ids=[x_item(db_session, team.analyst).id],
        kind="tos",
    )
    service.submit(db_session, team.analyst.principal, res.referral.id, clock=clock)
    broken = Broken()
    reg = ChannelRegistry([broken])
    d = repository.delivery_for(db_session, res.referral.id)
    assert isinstance(d, Delivery)
    for _ in range(d.max_attempts):
        clock.advance(dt.timedelta(hours=2))
        delivery.run_due(db_session, reg, clock=clock)
    assert d.status == "gave_up" and d.attempts == d.max_attempts
    assert len(repository.attempts_of(db_session, d.id)) == d.max_attempts
    assert len(set(broken.seen)) == 1  # the same idempotency key every time
    assert res.referral.status == ReferralStatus.APPROVED.value  # never claimed as sent


def test_an_item_naming_no_content_is_never_ordered(db_session: Session) -> None:
    """Issue 12.4: ``https://x.com`` went into Section B. Intake now refuses it; a row stored
    before that (made here the old way) stays out of any batch, with the reason."""
    from takedown.items.models import Item

    team = make_team(db_session)
    ensure_platform(db_session, "x")
    content = x_item(db_session, team.analyst)
    home = make_assessed_item(db_session, team.analyst)
    home.identity, home.key = "x:page/x.com", "page/x.com"
    home.canonical_url = home.fetch_url = "https://x.com"
    db_session.flush()
    assert db_session.get(Item, home.id).status == ItemStatus.ASSESSED.value  # type: ignore[union-attr]
    res = order(db_session, team.analyst, [content, home], FrozenClock(T0))
    states = {i.item_id: i for i in res.items}
    assert states[content.id].state == ItemState.INCLUDED.value
    assert states[home.id].state == ItemState.NOT_READY.value
    assert "X's home page" in states[home.id].detail
    section_b = render.document(db_session, res.referral)["sections"]["B"]
    assert [i["item_id"] for i in section_b["items"]] == [content.id]
