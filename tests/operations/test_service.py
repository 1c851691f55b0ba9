"""Operations: participants, items by id/import/query, folding, visibility, holds, legal events."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from sqlalchemy.orm import Session

from takedown.accounts.service import SYSTEM
from takedown.items import service as items
from takedown.items.repository import ItemFilters
from takedown.kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from takedown.operations import legal, metrics, service
from takedown.referrals.models import ReferralItem
from tests.factories import make_actor, make_agency
from tests.items.factories import make_item
from tests.operations.factories import T0, make_operation


def _three(db: Session):  # type: ignore[no-untyped-def]
    lead = make_actor(db, make_agency(db, country="NL"), role="supervisor")
    b = make_actor(db, make_agency(db, country="BE"))
    c = make_actor(db, make_agency(db, country="DE"))
    op = make_operation(db, lead, participants=[b.agency, c.agency])
    return lead, b, c, op


def test_duplicates_fold_and_every_agency_is_credited(db_session: Session) -> None:
    lead, b, c, op = _three(db_session)
    url = "https://x.com/synthetic_fold/status/99"
    i1 = make_item(db_session, lead, url=url)
    i2 = make_item(db_session, b, url="https://twitter.com/synthetic_fold/status/99?s=20")
    i3 = make_item(db_session, c, url="https://mobile.x.com/synthetic_fold/status/99")
    assert i1.id == i2.id == i3.id
    for who in (lead, b, c):
        r = service.add_items(db_session, who.principal, op.id, [i1.id])
        assert r.added == 1
    again = service.add_items(db_session, b.principal, op.id, [i1.id])
    assert (again.added, again.already) == (0, 1)
    m = metrics.compute(db_session, op, T0).data
    f = m["figures"]
    # three reports (one per agency) of one item: two duplicates folded, all by other agencies
    assert (f["items"], f["reports"], f["duplicates_folded"]) == (1, 3, 2)
    assert f["reported_by_several"] == 1
    assert sorted(r["items"] for r in m["contributions"]) == [1, 1, 1]
    assert all(r["only_this_agency"] == 0 for r in m["contributions"])


def test_participants_see_shared_items_outsiders_see_nothing(db_session: Session) -> None:
    lead, b, c, op = _three(db_session)
    outsider = make_actor(db_session, make_agency(db_session))
    shared = make_item(db_session, b)
    private = make_item(db_session, b)  # b's, never added to the operation
    service.add_items(db_session, b.principal, op.id, [shared.id])
    assert items.get_item(db_session, c.principal, shared.id).id == shared.id
    assert items.get_item(db_session, lead.principal, shared.id).id == shared.id
    with pytest.raises(NotFound):
        items.get_item(db_session, c.principal, private.id)
    with pytest.raises(NotFound):
        items.get_item(db_session, outsider.principal, shared.id)
    with pytest.raises(NotFound):
        service.get_operation(db_session, outsider.principal, op.id)
    rows, total = items.list_items(db_session, outsider.principal, ItemFilters(ids=[shared.id]))
    assert total == 0 and rows == []
    # c sees b's shared item but cannot pass it on to another operation
    with pytest.raises(Forbidden):
        service.add_items(db_session, c.principal, op.id, [shared.id])
    with pytest.raises(NotFound):
        service.add_items(db_session, c.principal, op.id, [private.id])
    # a liaison does not gain sight of the operation's items through it
    liaison_agency = make_agency(db_session, kind="platform", platform_slug="x")
    liaison = make_actor(db_session, liaison_agency, role="liaison")
    with pytest.raises(NotFound):
        items.get_item(db_session, liaison.principal, shared.id)


def test_import_into_the_operation(db_session: Session) -> None:
    lead, b, _c, op = _three(db_session)
    data = (
        b"url\nhttps://t.me/synthetic_chan_a/12\nhttps://t.me/s/synthetic_chan_a/12\n"
        b"https://t.me/synthetic_chan_b\nnot a url\n"
    )
    job, res = service.import_into(
        db_session, b.principal, op.id, io.BytesIO(data), filename="b.csv"
    )
    assert job.rows_bad == 1
    assert res.added == 2  # two distinct items; the /s/ form folded
    again = service.add_import(db_session, b.principal, op.id, job.id)
    assert again.added == 0 and again.already == 2
    with pytest.raises(NotFound):
        service.add_import(db_session, lead.principal, op.id, job.id)  # not lead's import


def test_query_and_observers(db_session: Session) -> None:
    lead, b, _c, op = _three(db_session)
    a1 = make_item(db_session, b, url="https://t.me/synthetic_q1")
    make_item(db_session, b, url="https://x.com/synthetic_q2")
    items.assess(
        db_session, b.principal, a1.id, "terrorist_content", ["a"], group="Synthetic Group"
    )
    r = service.add_by_query(db_session, b.principal, op.id, service.ItemQuery(platform="telegram"))
    assert r.added == 1
    r2 = service.add_by_query(
        db_session, b.principal, op.id, service.ItemQuery(label="synthetic group")
    )
    assert (r2.added, r2.already) == (0, 1)
    r3 = service.add_by_query(
        db_session, b.principal, op.id, service.ItemQuery(q="SYNTHETIC_Q2", kind="account")
    )
    assert (r3.added, r3.already) == (1, 0)
    r4 = service.add_by_query(
        db_session, b.principal, op.id, service.ItemQuery(q="synthetic_q", status=("new",))
    )
    assert (r4.added, r4.already) == (0, 1)  # the assessed telegram item is not "new"
    with pytest.raises(InvalidInput):
        service.add_by_query(db_session, b.principal, op.id, service.ItemQuery())
    with pytest.raises(InvalidInput):
        service.add_by_query(db_session, b.principal, op.id, service.ItemQuery(status=("bogus",)))
    obs = make_actor(db_session, make_agency(db_session))
    service.add_participant(db_session, lead.principal, op.id, obs.agency.id, "observer")
    mine = make_item(db_session, obs)
    with pytest.raises(Forbidden):
        service.add_items(db_session, obs.principal, op.id, [mine.id])
    assert service.get_operation(db_session, obs.principal, op.id).id == op.id


def test_lifecycle_and_lead_only(db_session: Session) -> None:
    lead, b, _c, op = _three(db_session)
    with pytest.raises(Forbidden):
        service.set_status(db_session, b.principal, op.id, "running")
    with pytest.raises(Conflict):
        service.set_status(db_session, lead.principal, op.id, "closed")
    service.set_status(db_session, lead.principal, op.id, "running")
    assert op.started_at is not None
    service.set_status(db_session, lead.principal, op.id, "closed")
    item = make_item(db_session, b)
    with pytest.raises(Conflict):
        service.add_items(db_session, b.principal, op.id, [item.id])
    with pytest.raises(Forbidden):
        service.add_participant(db_session, b.principal, op.id, b.agency.id, "observer")
    analyst = make_actor(db_session, lead.agency)
    with pytest.raises(Forbidden):
        service.create_operation(db_session, analyst.principal, name="x", starts_at=T0)
    with pytest.raises(InvalidInput):
        service.create_operation(
            db_session, lead.principal, name="x", starts_at=T0, ends_at=T0 - dt.timedelta(hours=1)
        )
    with pytest.raises(InvalidInput):
        service.create_operation(
            db_session, lead.principal, name="x", starts_at=T0, targets={"bogus": ["a"]}
        )


def test_held_items_are_listed_to_their_holder_with_requests(db_session: Session) -> None:
    lead, b, c, op = _three(db_session)
    item = make_item(db_session, b)
    items.assess(db_session, b.principal, item.id, "terrorist_content", ["a"])
    service.add_items(db_session, b.principal, op.id, [item.id])
    items.place_hold(db_session, c.principal, item.id, reason="synthetic investigation")
    # the lead refers the whole operation: the held item is not sent, the request counted
    results = service.refer(db_session, lead.principal, op.id)
    states = [
        ri.state
        for res in results
        for ri in db_session.query(ReferralItem).filter_by(referral_id=res.referral.id)
    ]
    assert states == ["held"]
    held_c = service.held_items(db_session, c.principal, op.id)
    assert [(h.item.id, h.requests) for h in held_c] == [(item.id, 1)]
    assert service.held_items(db_session, b.principal, op.id) == []
    assert metrics.compute(db_session, op, T0).data["figures"]["held"] == 1
    with pytest.raises(Forbidden):
        service.refer(db_session, b.principal, op.id)


def test_legal_events(db_session: Session) -> None:
    sup = make_actor(
        db_session, make_agency(db_session, kind="competent_authority"), role="supervisor"
    )
    ev = legal.record_legal_event(
        db_session,
        sup.principal,
        kind="penalty",
        outcome="imposed",
        occurred_at=T0,
        platform="x",
        amount_eur="1500.5",
    )
    assert str(ev.amount_eur) == "1500.50"
    for kwargs in (
        {"kind": "nonsense", "outcome": "imposed"},
        {"kind": "penalty", "outcome": "upheld"},
        {"kind": "penalty", "outcome": "imposed", "amount_eur": "-1"},
    ):
        with pytest.raises(InvalidInput):
            legal.record_legal_event(db_session, sup.principal, occurred_at=T0, **kwargs)  # type: ignore[arg-type]
    analyst = make_actor(db_session, sup.agency)
    with pytest.raises(Forbidden):
        legal.record_legal_event(
            db_session, analyst.principal, kind="review", outcome="pending", occurred_at=T0
        )
    rows, total = legal.list_legal_events(db_session, sup.principal)
    assert total == 1 and rows[0].id == ev.id
    assert legal.list_legal_events(db_session, analyst.principal)[1] == 1
    assert legal.list_legal_events(db_session, make_actor(db_session).principal)[1] == 0
    assert service.list_operations(db_session, SYSTEM)[1] >= 0
