"""/api/v1/resurgence: candidates with evidence, decisions, scopes, figures, handle lists."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from takedown.resurgence import service
from tests.factories import make_actor
from tests.resurgence.factories import removed_account, seen_account

BASE = "/api/v1/resurgence"


def _proposed(db: Session, a):  # type: ignore[no-untyped-def]
    old = removed_account(db, a, "https://t.me/abumedia", title="Abu Media")
    new = seen_account(db, a, "https://t.me/abumedia_back", title="Abu Media")
    service.scan(db, seen_ids=[new.id])
    db.flush()
    return old, new


def test_list_get_and_confirm_with_referral(client: TestClient, db_session: Session) -> None:
    a = make_actor(db_session)
    old, new = _proposed(db_session, a)
    r = client.get(f"{BASE}/candidates", headers=a.headers)
    assert r.status_code == 200, r.text
    page = r.json()
    assert page["total"] == 1
    c = page["items"][0]
    assert (c["predecessor"]["id"], c["successor"]["id"]) == (old.id, new.id)
    assert {x["signal"] for x in c["reasons"]} == {
        "handle_pattern",
        "title",
        "title_unique",
        "created_after",
    }
    assert c["threshold"] == service.threshold() and c["score"] >= c["threshold"]
    assert client.get(f"{BASE}/candidates/{c['id']}", headers=a.headers).json()["id"] == c["id"]
    r = client.post(f"{BASE}/candidates/{c['id']}/confirm", headers=a.headers,
                    json={"refer": True, "note": "same poster"})  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "confirmed" and r.json()["referral_id"]
    again = client.post(f"{BASE}/candidates/{c['id']}/reject", headers=a.headers, json={})
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")


def test_scopes_are_enforced(client: TestClient, db_session: Session) -> None:
    reader = make_actor(db_session, scopes=["resurgence:read"])
    _, _ = _proposed(db_session, reader)
    [c] = client.get(f"{BASE}/candidates", headers=reader.headers).json()["items"]
    r = client.post(f"{BASE}/candidates/{c['id']}/reject", headers=reader.headers, json={})
    assert r.status_code == 403
    other = make_actor(db_session, scopes=["items:read"])
    assert client.get(f"{BASE}/candidates", headers=other.headers).status_code == 403


def test_another_agency_gets_404(client: TestClient, db_session: Session) -> None:
    a = make_actor(db_session)
    _proposed(db_session, a)
    [c] = client.get(f"{BASE}/candidates", headers=a.headers).json()["items"]
    b = make_actor(db_session)
    assert client.get(f"{BASE}/candidates/{c['id']}", headers=b.headers).status_code == 404
    assert client.get(f"{BASE}/candidates", headers=b.headers).json()["total"] == 0


def test_figures_count_the_return(client: TestClient, db_session: Session) -> None:
    a = make_actor(db_session)
    _proposed(db_session, a)
    r = client.get(f"{BASE}/figures", headers=a.headers)
    assert r.status_code == 200, r.text
    groups = {g["group"]: g for g in r.json()["groups"]}
    assert groups["all"]["removals"] == 1 and groups["all"]["returned"] == 1
    assert groups["telegram"]["time_to_return_km_median_seconds"] == 3 * 3600.0
    b = make_actor(db_session)
    theirs = client.get(f"{BASE}/figures", headers=b.headers).json()["groups"]
    assert [(g["group"], g["removals"]) for g in theirs] == [("all", 0)]


def test_link_handles_reports_bad_lines(client: TestClient, db_session: Session) -> None:
    a = make_actor(db_session)
    body = {"platform": "telegram", "removed": ["abumedia", "qaswarat"],
            "seen": ["abumedia2", "@qaswarat_new", "nothing_alike"]}  # fmt: skip
    r = client.post(f"{BASE}/link-handles", headers=a.headers, json=body)
    assert r.status_code == 200, r.text
    got = {x["seen"]: x for x in r.json()}
    assert got["abumedia2"]["predecessor"] == "abumedia"
    assert got["abumedia2"]["verdict"] == "successor"
    assert got["qaswarat_new"]["predecessor"] == "qaswarat"
    assert got["nothing_alike"]["verdict"] in ("no_candidate", "below_threshold")
    bad = client.post(f"{BASE}/link-handles", headers=a.headers,
                      json={**body, "seen": ["ok", "two words"]})  # fmt: skip
    assert bad.status_code == 422 and "seen line 2" in bad.text


def test_scan_on_demand(client: TestClient, db_session: Session) -> None:
    a = make_actor(db_session)
    removed_account(db_session, a, "https://x.com/harbinger", title="Harbinger")
    new = seen_account(db_session, a, "https://x.com/harbinger_new", title="Harbinger")
    r = client.post(f"{BASE}/scan", headers=a.headers, json={"item_ids": [new.id]})
    assert r.status_code == 200, r.text
    assert r.json()["proposed"] == 1
