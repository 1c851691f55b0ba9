"""Reviewing match results: the queue, confirm/reject, audit, attribution, TLP:RED, the API."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from takedown.audit.models import AuditEvent
from takedown.kit.errors import InvalidInput, NotFound
from takedown.matching import review
from takedown.matching.models import ReviewStatus
from tests.factories import make_actor, make_agency
from tests.matching.factories import make_bank, make_match


@pytest.fixture
def api(app_factory: Any) -> Iterator[TestClient]:
    with TestClient(app_factory(), raise_server_exceptions=False) as c:
        yield c


def _actions(session: Session, subject_id: int) -> list[str]:
    rows = session.query(AuditEvent).filter_by(subject_type="match_result").all()
    return [e.action for e in rows if str(e.subject_id) == str(subject_id)]


def test_queue_confirm_reject_and_audit(db_session: Session) -> None:
    analyst = make_actor(db_session)
    first = make_match(db_session, analyst)
    second = make_match(db_session, analyst)
    rows, total = review.list_matches(db_session, analyst.principal)
    assert total == 2 and {r.result.id for r in rows} == {first.id, second.id}

    review.review_match(db_session, analyst.principal, first.id, "confirmed", note="same poster")
    review.review_match(db_session, analyst.principal, second.id, "rejected")
    assert first.status == ReviewStatus.CONFIRMED.value and first.review_note == "same poster"
    assert first.reviewed_by == analyst.user.id and first.reviewed_at is not None
    assert second.status == ReviewStatus.REJECTED.value
    assert review.list_matches(db_session, analyst.principal)[1] == 0
    confirmed, n = review.list_matches(
        db_session, analyst.principal, review=review.ReviewFilter.CONFIRMED
    )
    assert n == 1 and confirmed[0].result.id == first.id
    assert _actions(db_session, first.id) == ["matching.match.confirm"]
    assert _actions(db_session, second.id) == ["matching.match.reject"]

    # A later review may change an earlier one; it is audited again.
    review.review_match(db_session, analyst.principal, second.id, "confirmed")
    assert _actions(db_session, second.id) == ["matching.match.reject", "matching.match.confirm"]
    with pytest.raises(InvalidInput):
        review.review_match(db_session, analyst.principal, first.id, "new")
    with pytest.raises(InvalidInput):
        review.parse_filter("maybe")


def test_a_rejected_match_no_longer_suggests_attribution(db_session: Session) -> None:
    analyst = make_actor(db_session)
    close = make_match(db_session, analyst, labels={"group": "Group Near"}, distance=2)
    item_id = close.item_id
    assert item_id is not None
    far = make_match(db_session, analyst, labels={"group": "Group Far"}, distance=9)
    far.item_id = item_id
    db_session.flush()
    assert review.suggested_attribution(db_session, analyst.principal, item_id) == {
        "group": "Group Near"
    }
    review.review_match(db_session, analyst.principal, close.id, "rejected")
    assert review.suggested_attribution(db_session, analyst.principal, item_id) == {
        "group": "Group Far"
    }
    review.review_match(db_session, analyst.principal, far.id, "rejected")
    assert review.suggested_attribution(db_session, analyst.principal, item_id) == {}


def test_other_agencies_and_red_signals_stay_out(db_session: Session) -> None:
    owner = make_actor(db_session)
    other = make_actor(db_session)
    mine = make_match(db_session, owner)
    assert review.list_matches(db_session, other.principal)[1] == 0
    with pytest.raises(NotFound):
        review.review_match(db_session, other.principal, mine.id, "rejected")

    # A match of B against A's shared bank: a TLP:RED signal in it is never shown to B.
    shared = make_bank(db_session, make_actor(db_session, owner.agency, role="supervisor"),
                       tlp="AMBER", shared=True)  # fmt: skip
    red = make_match(db_session, other, bank=shared, tlp="RED", labels={"group": "Red label"})
    amber = make_match(db_session, other, bank=shared, labels={"group": "Amber label"})
    rows, total = review.list_matches(db_session, other.principal)
    assert total == 1 and [r.result.id for r in rows] == [amber.id]
    with pytest.raises(NotFound):
        review.get_match(db_session, other.principal, red.id)


def test_api_queue_and_review(api: TestClient, db_session: Session) -> None:
    analyst = make_actor(db_session)
    liaison = make_actor(
        db_session, make_agency(db_session, kind="platform", platform_slug="x"), role="liaison"
    )
    m = make_match(db_session, analyst, labels={"group": "Synthetic Front"})
    db_session.commit()
    r = api.get("/api/v1/matches", headers=analyst.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == 1
    row = body["items"][0]
    assert row["id"] == m.id and row["labels"] == {"group": "Synthetic Front"}
    assert row["status"] == "new" and row["item_url"] and row["tlp"] == "AMBER"

    r = api.post(f"/api/v1/matches/{m.id}/review", json={"decision": "maybe"},
                 headers=analyst.headers)  # fmt: skip
    assert r.status_code == 422
    r = api.get("/api/v1/matches", params={"review": "never"}, headers=analyst.headers)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")

    r = api.post(f"/api/v1/matches/{m.id}/review", json={"decision": "rejected", "note": "fp"},
                 headers=analyst.headers)  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "rejected" and r.json()["review_note"] == "fp"
    assert api.get("/api/v1/matches", headers=analyst.headers).json()["total"] == 0
    r = api.get("/api/v1/matches", params={"review": "rejected"}, headers=analyst.headers)
    assert [x["id"] for x in r.json()["items"]] == [m.id]
    r = api.post(f"/api/v1/matches/{m.id}/review", json={"decision": "confirmed"},
                 headers=liaison.headers)  # fmt: skip
    assert r.status_code in (403, 404)
