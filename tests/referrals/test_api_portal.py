"""The API and the platform portal: the whole referral cycle over HTTP, and isolation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from takedown.audit.models import AuditEvent
from takedown.items.models import ItemStatus
from takedown.kit.clock import FrozenClock
from takedown.referrals import delivery
from takedown.referrals.channels.portal import PortalChannel
from takedown.referrals.channels.registry import ChannelRegistry
from tests.factories import Actor, make_actor, make_agency
from tests.referrals.apputil import client_for
from tests.referrals.factories import ensure_platform, make_team, x_item

JUST = "Official propaganda video of a designated group, with a call to attack."


@pytest.fixture
def api(app_factory: Any) -> Iterator[TestClient]:
    with client_for(app_factory) as c:
        yield c


def liaison(session: Session, slug: str) -> Actor:
    agency = make_agency(session, kind="platform", platform_slug=slug, country="IE")
    return make_actor(session, agency, role="liaison")


def deliver(session: Session) -> None:
    delivery.run_due(session, ChannelRegistry([PortalChannel()]))
    session.flush()


def test_order_cycle_over_the_api_with_portal_answers(api: TestClient, db_session: Session) -> None:
    team = make_team(db_session)
    ensure_platform(db_session, "x")
    items = [x_item(db_session, team.analyst) for _ in range(3)]
    r = api.post(
        "/api/v1/referrals",
        headers=team.analyst.headers,
        json={
            "item_ids": [i.id for i in items],
            "kind": "removal_order",
            "reasons": ["a"],
            "justification": JUST,
            "emergency": True,
            "channel": "portal",
        },
    )
    assert r.status_code == 201, r.text
    [batch] = r.json()
    rid = batch["id"]
    assert batch["included"] == 3
    assert (
        api.post(f"/api/v1/referrals/{rid}/submit", headers=team.analyst.headers).status_code == 200
    )
    # the author cannot approve; another supervisor can
    r = api.post(f"/api/v1/referrals/{rid}/approve", headers=team.analyst.headers)
    assert r.status_code == 403
    r = api.post(f"/api/v1/referrals/{rid}/approve", headers=team.supervisor.headers)
    assert r.status_code == 200 and r.json()["status"] == "approved"
    deliver(db_session)
    doc = api.get(f"/api/v1/referrals/{rid}", headers=team.analyst.headers).json()
    assert doc["status"] == "sent" and doc["deadline_at"]
    assert set(doc["document"]["sections"]) == set("ABCDEF")
    html = api.get(f"/api/v1/referrals/{rid}/document.html", headers=team.analyst.headers)
    assert html.status_code == 200 and "Section F" in html.text
    assert "unsafe-inline" in html.headers["content-security-policy"]
    csv = api.get(f"/api/v1/referrals/{rid}/export.csv", headers=team.analyst.headers)
    assert csv.status_code == 200 and len(csv.text.splitlines()) == 4

    x_liaison = liaison(db_session, "x")
    listing = api.get("/api/v1/referrals", headers=x_liaison.headers).json()
    assert [r["id"] for r in listing["items"]] == [rid]
    base = f"/api/v1/referrals/{rid}/items"
    r = api.post(
        f"{base}/{items[0].id}/response", headers=x_liaison.headers, json={"response": "removed"}
    )
    assert r.status_code == 200 and r.json()["item_status"] == ItemStatus.REMOVED.value
    r = api.post(
        f"{base}/{items[1].id}/response",
        headers=x_liaison.headers,
        json={
            "response": "cannot_comply",
            "reason": "manifest_error",
            "text": "The URL points at a news report about the group.",
        },
    )
    assert r.status_code == 200 and r.json()["item_status"] == ItemStatus.STILL_ONLINE.value
    r = api.post(
        f"{base}/{items[2].id}/response",
        headers=x_liaison.headers,
        json={"response": "cannot_comply", "reason": "because"},
    )
    assert r.status_code == 422
    r = api.post(
        f"{base}/{items[0].id}/response", headers=x_liaison.headers, json={"response": "removed"}
    )
    assert r.status_code == 409  # answered once
    # the analyst cannot answer for the platform
    r = api.post(
        f"{base}/{items[2].id}/response", headers=team.analyst.headers, json={"response": "removed"}
    )
    assert r.status_code == 403
    actions = {e.action for e in db_session.query(AuditEvent).filter_by(subject_id=str(rid))}
    assert {"referral.annex_ii", "referral.annex_iii", "referral.delivered"} <= actions


def test_liaison_of_another_platform_sees_nothing(api: TestClient, db_session: Session) -> None:
    team = make_team(db_session)
    ensure_platform(db_session, "x")
    it = x_item(db_session, team.analyst)
    r = api.post(
        "/api/v1/referrals",
        headers=team.analyst.headers,
        json={"item_ids": [it.id], "kind": "tos", "channel": "portal"},
    )
    rid = r.json()[0]["id"]
    api.post(f"/api/v1/referrals/{rid}/submit", headers=team.analyst.headers)
    deliver(db_session)
    yt = liaison(db_session, "youtube")
    assert api.get("/api/v1/referrals", headers=yt.headers).json()["items"] == []
    for path in (
        f"/api/v1/referrals/{rid}",
        f"/api/v1/referrals/{rid}/document.html",
        f"/api/v1/referrals/{rid}/export.csv",
        f"/api/v1/referrals/{rid}/stats",
    ):
        assert api.get(path, headers=yt.headers).status_code == 404, path
    r = api.post(
        f"/api/v1/referrals/{rid}/items/{it.id}/response",
        headers=yt.headers,
        json={"response": "removed"},
    )
    assert r.status_code == 404
    # another agency's analyst neither
    other = make_actor(db_session, role="analyst")
    assert api.get(f"/api/v1/referrals/{rid}", headers=other.headers).status_code == 404
    assert api.get("/api/v1/referrals", headers=other.headers).json()["items"] == []
    # and the x liaison does not see drafts
    r = api.post(
        "/api/v1/referrals",
        headers=team.analyst.headers,
        json={"item_ids": [x_item(db_session, team.analyst).id], "kind": "tos"},
    )
    draft = r.json()[0]["id"]
    x = liaison(db_session, "x")
    assert api.get(f"/api/v1/referrals/{draft}", headers=x.headers).status_code == 404


def test_checks_api_is_scoped_to_visible_items(api: TestClient, db_session: Session) -> None:
    from takedown.platforms.detectors.base import Outcome
    from takedown.verification.engine import CheckResult
    from takedown.verification.service import record_results, schedule_items

    clock = FrozenClock(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC))
    team = make_team(db_session)
    it = x_item(db_session, team.analyst)
    schedule_items(db_session, [it.id], clock=clock)
    record_results(
        db_session,
        [CheckResult(it.id, it.fetch_url, Outcome.ONLINE, "HTTP 200", "x", clock.now(), 200)],
        clock=clock,
    )
    mine = api.get("/api/v1/checks", headers=team.analyst.headers).json()
    assert [c["item_id"] for c in mine["items"]] == [it.id]
    other = make_actor(db_session)
    assert api.get("/api/v1/checks", headers=other.headers).json()["total"] == 0
    assert api.get(f"/api/v1/checks/items/{it.id}", headers=other.headers).status_code == 404
    tl = api.get(f"/api/v1/checks/items/{it.id}", headers=team.analyst.headers).json()
    assert [c["outcome"] for c in tl["checks"]] == ["online"]
