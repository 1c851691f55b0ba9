"""Batches from a selection (the queue's POST /referrals/new) and "send now" on a batch page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from takedown.items import service as items_service
from takedown.referrals import service
from takedown.referrals.models import Referral
from tests.factories import Actor, make_actor
from tests.items.factories import make_assessed_item
from tests.referrals.factories import ensure_platform, make_team, x_item

HTML = {"Accept": "text/html"}


@pytest.fixture
def web(app_factory: Any) -> Iterator[TestClient]:
    with TestClient(app_factory(), raise_server_exceptions=False) as c:
        yield c


def _h(actor: Actor) -> dict[str, str]:
    return {**HTML, **actor.headers}


def _new(web: TestClient, actor: Actor, ids: list[int], kind: str, **extra: Any) -> Any:
    data = {"item_ids": [str(i) for i in ids], "kind": kind, **extra}
    return web.post("/referrals/new", data=data, headers=_h(actor), follow_redirects=False)


def test_one_platform_redirects_to_the_batch_with_held_items_explained(
    web: TestClient, db_session: Session
) -> None:
    team = make_team(db_session)
    ensure_platform(db_session, "x")
    holder = make_actor(db_session, role="analyst")
    holder.agency.contact_point = "deconfliction@holder.example"
    held = x_item(db_session, team.analyst)
    items_service.share_item(db_session, team.analyst.principal, held.id, holder.agency.id)
    items_service.place_hold(db_session, holder.principal, held.id, reason="investigation")
    free = x_item(db_session, team.analyst)
    db_session.commit()
    r = _new(web, team.analyst, [held.id, free.id], "tos")
    assert r.status_code == 303
    rows = db_session.query(Referral).filter_by(agency_id=team.analyst.agency.id).all()
    assert len(rows) == 1 and r.headers["location"] == f"/referrals/{rows[0].id}"
    page = web.get(r.headers["location"], headers=_h(team.analyst))
    assert "1 item(s) to send; 1 not sent (held)" in page.text
    assert "deconfliction@holder.example" in page.text
    assert f'href="/referrals/{rows[0].id}/document"' in page.text
    assert "as the platform receives it" in page.text


def test_several_platforms_redirect_to_the_filtered_list(
    web: TestClient, db_session: Session
) -> None:
    team = make_team(db_session)
    ensure_platform(db_session, "x")
    ensure_platform(db_session, "telegram", domains=["t.me"])
    a = x_item(db_session, team.analyst)
    b = make_assessed_item(db_session, team.analyst, url="https://t.me/batchchannel/42")
    other = make_team(db_session)
    x_item(db_session, other.analyst)
    db_session.commit()
    r = _new(web, team.analyst, [a.id, b.id], "tos")
    assert r.status_code == 303
    loc = r.headers["location"]
    assert loc.startswith("/referrals?ids=")
    page = web.get(loc, headers=_h(team.analyst))
    assert page.text.count('data-testid="referral-row"') == 2
    assert "2 draft batches created, one per platform" in page.text


def test_a_removal_order_asks_for_its_justification(web: TestClient, db_session: Session) -> None:
    team = make_team(db_session)
    ensure_platform(db_session, "x")
    it = x_item(db_session, team.analyst)
    db_session.commit()
    # From the queue: the form comes first, with nothing marked wrong yet (#13.6).
    r = _new(web, team.analyst, [it.id], "order")
    assert r.status_code == 200 and "New removal order" in r.text
    assert "f-justification-error" not in r.text and "There is a problem" not in r.text
    assert "Justification: required for a removal order" in r.text
    assert "Justification: required for a removal order <span" not in r.text  # no "(optional)"
    assert 'value="a" checked' in r.text  # the assessed Art. 2(7) category, preselected
    assert db_session.query(Referral).filter_by(agency_id=team.analyst.agency.id).count() == 0
    # Sent from the form without a justification: now it is an error, beside the field.
    r = _new(web, team.analyst, [it.id], "order", reasons_sent="1", reasons=["a"])
    assert r.status_code == 422 and 'id="f-justification-error"' in r.text
    r = _new(web, team.analyst, [it.id], "order", reasons_sent="1", reasons=["a"],
             justification="Synthetic poster urging attacks; assessed under (a).")  # fmt: skip
    assert r.status_code == 303
    ref = db_session.query(Referral).filter_by(agency_id=team.analyst.agency.id).one()
    assert ref.kind == "removal_order" and ref.reasons == ["a"]
    assert _new(web, team.analyst, [], "tos").status_code == 422
    assert 'id="f-kind-error"' in _new(web, team.analyst, [it.id], "fax").text


def test_an_emergency_order_skips_the_prior_notice(web: TestClient, db_session: Session) -> None:
    team = make_team(db_session)
    ensure_platform(db_session, "x", channel="portal")
    it = x_item(db_session, team.analyst)
    db_session.commit()
    asked = _new(web, team.analyst, [it.id], "order")
    assert asked.status_code == 200 and 'name="emergency" value="1"' in asked.text
    just = "Synthetic poster urging attacks; assessed under (a)."
    r = _new(web, team.analyst, [it.id], "order", reasons_sent="1", reasons=["a"],
             justification=just, emergency="1")  # fmt: skip
    assert r.status_code == 303
    ref = db_session.query(Referral).filter_by(agency_id=team.analyst.agency.id).one()
    assert ref.kind == "removal_order" and ref.emergency
    service.submit(db_session, team.analyst.principal, ref.id)
    service.approve(db_session, team.supervisor.principal, ref.id)
    db_session.commit()
    assert ref.not_before is None  # a first order to x, sent at once: no 12-hour notice
    # A ToS referral is never an emergency, whatever the form says.
    tos = _new(web, team.analyst, [x_item(db_session, team.analyst).id], "tos", emergency="1")
    assert tos.status_code == 303
    newest = db_session.query(Referral).filter_by(kind="tos").order_by(Referral.id.desc()).first()
    assert newest is not None and not newest.emergency


def test_another_agencys_item_is_refused(web: TestClient, db_session: Session) -> None:
    team = make_team(db_session)
    ensure_platform(db_session, "x")
    mine = x_item(db_session, make_team(db_session).analyst)
    db_session.commit()
    r = _new(web, team.analyst, [mine.id], "tos")
    assert r.status_code == 422 and mine.canonical_url not in r.text
    assert db_session.query(Referral).filter_by(agency_id=team.analyst.agency.id).count() == 0


def test_send_now_delivers_and_shows_attempts(web: TestClient, db_session: Session) -> None:
    team = make_team(db_session)
    ensure_platform(db_session, "x")
    it = x_item(db_session, team.analyst)
    [res] = service.create_batches(
        db_session, team.analyst.principal, item_ids=[it.id], kind="tos", channel="portal"
    )
    rid = res.referral.id
    db_session.commit()
    page = web.get(f"/referrals/{rid}", headers=_h(team.analyst))
    assert f'action="/referrals/{rid}/deliver"' not in page.text  # a draft is not sent
    r = web.post(f"/referrals/{rid}/deliver", headers=_h(team.analyst), follow_redirects=False)
    assert r.status_code == 303
    assert "not approved" in web.get(r.headers["location"], headers=_h(team.analyst)).text
    service.submit(db_session, team.analyst.principal, rid)
    db_session.commit()
    page = web.get(f"/referrals/{rid}", headers=_h(team.analyst))
    assert f'action="/referrals/{rid}/deliver"' in page.text
    r = web.post(f"/referrals/{rid}/deliver", headers=_h(team.analyst), follow_redirects=False)
    assert r.status_code == 303
    page = web.get(f"/referrals/{rid}", headers=_h(team.analyst))
    assert "Sent and received by the platform" in page.text
    assert page.text.count('data-testid="delivery-attempt"') == 1
    assert "published on the portal" in page.text
    # The portal returns no acknowledgement: batch and delivery agree it is sent/delivered.
    status = re.search(r'data-testid="delivery-status">([^<]*)', page.text)
    assert status is not None and status.group(1).startswith("portal: delivered after 1")
    assert "the platform returned no acknowledgement" in page.text
    db_session.expire_all()
    ref = db_session.get(Referral, rid)
    assert ref is not None and ref.received_at is not None
    assert f'action="/referrals/{rid}/deliver"' not in page.text  # never twice
    r = web.post(f"/referrals/{rid}/deliver", headers=_h(team.analyst), follow_redirects=False)
    assert r.status_code == 303
    db_session.expire_all()
    assert db_session.get(Referral, rid).status == "sent"  # type: ignore[union-attr]
