"""``POST /api/v1/verification/requests`` and ``GET …/{id}``: checks on demand over the API."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from takedown.platforms.detectors.base import Outcome
from takedown.verification.engine import CheckResult
from takedown.verification.service import record_results
from tests.factories import make_actor, make_agency
from tests.items.factories import make_item
from tests.verification.factories import delivered_referral, scheduled_item

PROBLEM = "application/problem+json"


def test_request_then_poll_progress(client: TestClient, db_session: Session) -> None:
    a = make_actor(db_session)
    item_id = scheduled_item(db_session, a)
    r = client.post("/api/v1/verification/requests", headers=a.headers, json={"item_id": item_id})
    assert r.status_code == 202, r.text
    body = r.json()
    assert r.headers["location"] == f"/api/v1/verification/requests/{body['id']}"
    assert (body["scope"], body["scope_id"], body["items"], body["skipped"]) == (
        "item", item_id, 1, 0,
    )  # fmt: skip
    assert body["progress"] == {
        "total": 1, "checked": 0, "pending": 1, "held": 0, "held_until": None,
        "outcomes": {}, "finished": False,
    }  # fmt: skip
    assert client.app.state.dispatcher.sent == [  # type: ignore[attr-defined]
        ("verification.check_request", {"request_id": body["id"]})
    ]
    now = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    record_results(
        db_session,
        [CheckResult(item_id, "https://x.com/a/status/1", Outcome.ONLINE, "t", "x", now, 200)],
    )
    db_session.flush()
    got = client.get(r.headers["location"], headers=a.headers)
    assert got.status_code == 200
    p = got.json()["progress"]
    assert (p["checked"], p["pending"], p["finished"], p["outcomes"]) == (1, 0, True, {"online": 1})


def test_a_referral_in_the_body(client: TestClient, db_session: Session) -> None:
    a = make_actor(db_session)
    rid = delivered_referral(db_session, a)
    r = client.post("/api/v1/verification/requests", headers=a.headers, json={"referral_id": rid})
    assert r.status_code == 202 and r.json()["label"].startswith("referral ")


def test_errors_are_problems(client: TestClient, db_session: Session) -> None:
    a = make_actor(db_session)
    b = make_actor(db_session, make_agency(db_session))
    item_id = scheduled_item(db_session, a)
    url = "/api/v1/verification/requests"
    cases = [
        (b.headers, {"item_id": item_id}, 404),  # agency B: as if it did not exist
        (a.headers, {"item_id": make_item(db_session, a).id}, 409),  # not under verification
        (a.headers, {"item_id": item_id, "referral_id": 1}, 422),  # exactly one target
        (a.headers, {}, 422),
        (a.headers, {"item_id": 2**40}, 422),
        (a.headers, {"bank_id": 1}, 422),
    ]
    for headers, body, status in cases:
        r = client.post(url, headers=headers, json=body)
        assert r.status_code == status, (body, r.text)
        assert r.headers["content-type"].startswith(PROBLEM)
    req = client.post(url, headers=a.headers, json={"item_id": item_id}).json()
    r = client.get(f"{url}/{req['id']}", headers=b.headers)
    assert r.status_code == 404 and r.headers["content-type"].startswith(PROBLEM)
    reader = make_actor(db_session, a.agency, scopes=["items:read"])
    r = client.post(url, headers=reader.headers, json={"item_id": item_id})
    assert r.status_code == 403 and "verification:write" in r.json()["detail"]
    liaison = make_actor(
        db_session, make_agency(db_session, kind="platform", platform_slug="x"), role="liaison"
    )
    assert client.post(url, headers=liaison.headers, json={"item_id": item_id}).status_code == 403


def test_documented_in_openapi(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    post = paths["/api/v1/verification/requests"]["post"]
    assert "202" in post["responses"]
    assert "get" in paths["/api/v1/verification/requests/{request_id}"]
