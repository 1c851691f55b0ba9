"""The portal and referral pages: liaisons see and answer only their platform's batches."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from takedown.items.models import ItemStatus
from takedown.referrals import repository
from takedown.referrals.models import Referral
from takedown.verification.repository import schedules_for
from tests.referrals.apputil import client_for
from tests.referrals.factories import ensure_platform, make_team, x_item
from tests.referrals.test_api_portal import deliver, liaison


@pytest.fixture
def web(app_factory: Any) -> Iterator[TestClient]:
    with client_for(app_factory) as c:
        yield c


def test_portal_lists_and_answers_only_own_platform(web: TestClient, db_session: Session) -> None:
    team = make_team(db_session)
    ensure_platform(db_session, "x")
    it = x_item(db_session, team.analyst)
    r = web.post(
        "/api/v1/referrals",
        headers=team.analyst.headers,
        json={"item_ids": [it.id], "kind": "tos", "channel": "portal"},
    )
    rid = r.json()[0]["id"]
    web.post(f"/api/v1/referrals/{rid}/submit", headers=team.analyst.headers)
    deliver(db_session)
    ref = r.json()[0]["reference"]
    x = liaison(db_session, "x")
    page = web.get("/portal", headers=x.headers)
    assert page.status_code == 200 and ref in page.text
    other = liaison(db_session, "telegram")
    assert ref not in web.get("/portal", headers=other.headers).text
    assert web.get(f"/referrals/{rid}", headers=other.headers).status_code == 404
    detail = web.get(f"/referrals/{rid}", headers=x.headers)
    assert "Confirm removal of the selected items (Annex II)" in detail.text
    r = web.post(
        f"/referrals/{rid}/items/{it.id}/respond",
        headers=x.headers,
        data={"response": "removed"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    db_session.refresh(it)
    assert it.status == ItemStatus.REMOVED.value
    r = web.post(
        f"/referrals/{rid}/items/{it.id}/respond",
        headers=other.headers,
        data={"response": "removed"},
        follow_redirects=False,
    )
    assert r.status_code == 404


def test_analyst_pages_and_timeline(web: TestClient, db_session: Session) -> None:
    team = make_team(db_session)
    it = x_item(db_session, team.analyst)
    r = web.post(
        "/api/v1/referrals",
        headers=team.analyst.headers,
        json={"item_ids": [it.id], "kind": "tos", "channel": "portal"},
    )
    rid = r.json()[0]["id"]
    page = web.get("/referrals", headers=team.analyst.headers)
    assert page.status_code == 200 and r.json()[0]["reference"] in page.text
    doc = web.get(f"/referrals/{rid}/document", headers=team.analyst.headers)
    assert doc.status_code == 200 and "not a removal order" in doc.text
    web.post(f"/referrals/{rid}/submit", headers=team.analyst.headers)
    deliver(db_session)
    tl = web.get(f"/verification/items/{it.id}", headers=team.analyst.headers)
    assert tl.status_code == 200 and "Under verification since" in tl.text
    assert web.get("/verification", headers=team.analyst.headers).status_code == 200


def test_a_draft_batch_says_its_items_are_not_sent_yet(
    web: TestClient, db_session: Session
) -> None:
    """Before anything is sent the items column reads "In the batch", never "Sent: yes"
    (#13.14); once delivered, it says "Sent" and "yes"."""
    team = make_team(db_session)
    it = x_item(db_session, team.analyst)
    r = web.post(
        "/api/v1/referrals",
        headers=team.analyst.headers,
        json={"item_ids": [it.id], "kind": "tos", "channel": "portal"},
    )
    rid = r.json()[0]["id"]
    draft = web.get(f"/referrals/{rid}", headers=team.analyst.headers).text
    assert '<th scope="col">In the batch</th>' in draft and '<th scope="col">Sent</th>' not in draft
    assert 'data-testid="item-sent">included, not sent yet<' in draft
    web.post(f"/referrals/{rid}/submit", headers=team.analyst.headers)
    deliver(db_session)
    sent = web.get(f"/referrals/{rid}", headers=team.analyst.headers).text
    assert '<th scope="col">Sent</th>' in sent and 'data-testid="item-sent">yes<' in sent


def test_portal_annex_ii_carries_the_time_of_removal(web: TestClient, db_session: Session) -> None:
    team = make_team(db_session)
    ensure_platform(db_session, "x")
    items = [x_item(db_session, team.analyst) for _ in range(2)]
    r = web.post(
        "/api/v1/referrals",
        headers=team.analyst.headers,
        json={"item_ids": [i.id for i in items], "kind": "tos", "channel": "portal"},
    )
    rid = r.json()[0]["id"]
    web.post(f"/api/v1/referrals/{rid}/submit", headers=team.analyst.headers)
    deliver(db_session)
    x = liaison(db_session, "x")
    assert 'name="removed_at"' in web.get(f"/referrals/{rid}", headers=x.headers).text
    received = db_session.get(Referral, rid).received_at  # type: ignore[union-attr]
    assert received is not None
    url = f"/referrals/{rid}/items/{items[0].id}/respond"
    r = web.post(url, headers=x.headers, data={"response": "removed", "removed_at": "soon"},
                 follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    db_session.expire_all()
    assert repository.referral_item(db_session, rid, items[0].id).response is None  # type: ignore[union-attr]
    later = received.astimezone(dt.UTC).replace(tzinfo=None)  # the form's local time is UTC
    web.post(url, headers=x.headers, data={"response": "removed", "removed_at": later.isoformat()},
             follow_redirects=False)  # fmt: skip
    r = web.post(
        f"/api/v1/referrals/{rid}/items/{items[1].id}/response",
        headers=x.headers,
        json={"response": "removed", "removed_at": "2000-01-01T00:00:00Z"},
    )
    assert r.status_code == 200, r.text
    db_session.expire_all()
    scheds = schedules_for(db_session, [i.id for i in items])
    assert scheds[items[0].id].platform_removed_at == later.replace(tzinfo=dt.UTC)
    assert scheds[items[1].id].platform_removed_at == received  # never before the receipt


def test_portal_answers_a_selection_at_once_with_unique_field_ids(
    web: TestClient, db_session: Session
) -> None:
    """A liaison confirms several items on one Annex II with one removal time; an item
    already answered is reported, not answered twice; every form field id is unique (#13.7)."""
    team = make_team(db_session)
    ensure_platform(db_session, "x")
    items = [x_item(db_session, team.analyst) for _ in range(4)]
    r = web.post(
        "/api/v1/referrals",
        headers=team.analyst.headers,
        json={"item_ids": [i.id for i in items], "kind": "tos", "channel": "portal"},
    )
    rid = r.json()[0]["id"]
    web.post(f"/api/v1/referrals/{rid}/submit", headers=team.analyst.headers)
    deliver(db_session)
    x = liaison(db_session, "x")
    page = web.get(f"/referrals/{rid}", headers=x.headers).text
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert page.count('form="annex-ii-many"') == 4
    web.post(
        f"/referrals/{rid}/items/{items[0].id}/respond",
        headers=x.headers,
        data={"response": "removed"},
    )
    received = db_session.get(Referral, rid).received_at  # type: ignore[union-attr]
    assert received is not None
    when = received.astimezone(dt.UTC).replace(tzinfo=None)
    r = web.post(
        f"/referrals/{rid}/respond",
        headers=x.headers,
        data={
            "item_ids": [str(items[0].id), str(items[1].id), str(items[2].id)],
            "removed_at": when.isoformat(),
        },
    )
    assert "Annex II (removed) recorded for 2 item(s)" in r.text
    assert f"item {items[0].id}: item {items[0].id} was already answered" in r.text
    db_session.expire_all()
    answered = {i.id: repository.referral_item(db_session, rid, i.id) for i in items}
    assert [answered[i.id].response for i in items] == ["removed", "removed", "removed", None]  # type: ignore[union-attr]
    scheds = schedules_for(db_session, [i.id for i in items])
    assert scheds[items[1].id].platform_removed_at == when.replace(tzinfo=dt.UTC)
    assert scheds[items[2].id].platform_removed_at == when.replace(tzinfo=dt.UTC)
    # Nothing selected: a clear error; another platform's liaison: not found.
    r = web.post(f"/referrals/{rid}/respond", headers=x.headers, data={})
    assert "select the items that were removed" in r.text
    other = liaison(db_session, "telegram")
    r = web.post(
        f"/referrals/{rid}/respond",
        headers=other.headers,
        data={"item_ids": [str(items[3].id)]},
        follow_redirects=False,
    )
    assert r.status_code == 404
