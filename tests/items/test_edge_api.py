from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from tests.factories import make_actor
from tests.items.factories import make_item


def test_nul_and_out_of_range_inputs_are_422_not_500(db_session: Session, client: Any) -> None:
    a = make_actor(db_session)
    item = make_item(db_session, a)
    h = a.headers
    assert client.get("/api/v1/items", params={"q": "a\x00b"}, headers=h).status_code == 422
    assert client.get("/api/v1/items", params={"platform": "\x00"}, headers=h).status_code == 422
    r = client.get(
        "/api/v1/items", params={"first_seen_from": "0001-01-01T00:00:00+05:00"}, headers=h
    )
    assert r.status_code == 422
    r = client.post(
        "/api/v1/items", json={"url": "https://x.com/nul_a", "note": "a\x00b"}, headers=h
    )
    assert r.status_code == 422
    r = client.post(
        "/api/v1/items",
        json={"url": "https://x.com/nul_b", "reported_at": "0001-01-01T00:00:00+05:00"},
        headers=h,
    )
    assert r.status_code == 422
    r = client.post("/api/v1/items", json={"url": "https://x.com/nul_\x00c"}, headers=h)
    assert r.status_code == 422
    r = client.post(
        f"/api/v1/items/{item.id}/assessments",
        json={"verdict": "needs_review", "notes": "x\x00", "group": "\x00"},
        headers=h,
    )
    assert r.status_code == 422
    r = client.post(f"/api/v1/items/{item.id}/holds", json={"reason": "\x00"}, headers=h)
    assert r.status_code == 422
    body = json.dumps({"url": "https://x.com/nul_d", "note": "a\u0000b"}).encode() + b"\n"
    r = client.post("/api/v1/imports", files={"file": ("f.jsonl", body)}, headers=h)
    assert r.status_code == 201 and r.json()["rows_bad"] == 1
    assert "NUL" in r.json()["errors"][0]["reason"]
