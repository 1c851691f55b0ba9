from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from takedown.matching.api import router
from takedown.matching.hashers.image import hash_image
from tests.factories import Actor, make_actor
from tests.matching import media


@pytest.fixture
def api(app_factory: Any) -> Iterator[TestClient]:
    app = app_factory()
    if not any(getattr(r, "path", "") == "/api/v1/match" for r in app.routes):
        app.include_router(router)  # until the lead mounts it in app.py
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def _bank(api: TestClient, actor: Actor, **extra: Any) -> dict[str, Any]:
    r = api.post("/api/v1/banks", json={"name": "known posters", **extra}, headers=actor.headers)
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_bank_lifecycle_and_match(api: TestClient, db_session: Session) -> None:
    sup = make_actor(db_session, role="supervisor")
    analyst = make_actor(db_session, sup.agency)
    db_session.commit()
    bank = _bank(api, sup, tlp="AMBER", thresholds={"pdq": 31})
    assert api.post("/api/v1/banks", json={"name": "x"}, headers=analyst.headers).status_code == 403
    value = hash_image(media.poster(120))[0].value
    r = api.post(
        f"/api/v1/banks/{bank['id']}/signals",
        json={
            "signal_type": "pdq",
            "value": value,
            "labels": {"group": "Example Front", "tier": 3},
        },
        headers=analyst.headers,
    )
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    # Matchable at once: by file upload and by hash.
    r = api.post(
        "/api/v1/match",
        files={"file": ("p.jpg", media.poster(120, "mirror"), "image/jpeg")},
        headers=analyst.headers,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["media_type"] == "image"
    assert body["matches"][0]["signal_id"] == sid and body["matches"][0]["variant"] == "mirror"
    assert body["matches"][0]["labels"] == {"group": "Example Front", "tier": 3}
    r = api.post(
        "/api/v1/match", json={"signal_type": "pdq", "value": value}, headers=analyst.headers
    )
    assert r.json()["matches"][0]["distance"] == 0
    # Disable: gone from matches at once, still listed.
    r = api.patch(
        f"/api/v1/banks/{bank['id']}/signals/{sid}",
        json={"enabled": False},
        headers=analyst.headers,
    )
    assert r.status_code == 200 and r.json()["enabled"] is False
    r = api.post(
        "/api/v1/match", json={"signal_type": "pdq", "value": value}, headers=analyst.headers
    )
    assert r.json()["matches"] == []
    listing = api.get(f"/api/v1/banks/{bank['id']}/signals", headers=analyst.headers).json()
    assert listing["total"] == 1 and listing["items"][0]["enabled"] is False
    banks = api.get("/api/v1/banks", headers=analyst.headers).json()
    assert [b["name"] for b in banks] == ["known posters"] and banks[0]["signal_count"] == 0


def test_import_export_and_tenancy(api: TestClient, db_session: Session) -> None:
    owner = make_actor(db_session, role="supervisor")
    other = make_actor(db_session, role="supervisor")
    db_session.commit()
    red = _bank(api, owner, tlp="RED", shared=True)
    csv_data = f"signal_type,value,group\nmd5,{'e' * 32},Example Front\nmd5,bad,\n".encode()
    r = api.post(
        f"/api/v1/banks/{red['id']}/import?format=csv",
        files={"file": ("b.csv", csv_data, "text/csv")},
        headers=owner.headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["added"] == 1 and r.json()["errors"][0]["row"] == 3
    r = api.get(f"/api/v1/banks/{red['id']}/export?format=json", headers=owner.headers)
    assert json.loads(r.content)["signals"][0]["group"] == "Example Front"
    # TLP:RED never leaves the owning agency.
    assert api.get(f"/api/v1/banks/{red['id']}", headers=other.headers).status_code == 404
    assert api.get(f"/api/v1/banks/{red['id']}/export", headers=other.headers).status_code == 404
    assert red["id"] not in [
        b["id"] for b in api.get("/api/v1/banks", headers=other.headers).json()
    ]
    r = api.post(
        "/api/v1/match", json={"signal_type": "md5", "value": "e" * 32}, headers=other.headers
    )
    assert r.json()["matches"] == []
    r = api.post(
        "/api/v1/match", json={"signal_type": "md5", "value": "e" * 32}, headers=owner.headers
    )
    assert len(r.json()["matches"]) == 1


def test_match_errors_are_problems(api: TestClient, db_session: Session) -> None:
    actor = make_actor(db_session)
    db_session.commit()
    assert api.post("/api/v1/match", json={"signal_type": "pdq", "value": "x"}).status_code == 401
    r = api.post("/api/v1/match", json={"signal_type": "pdq", "value": "zz"}, headers=actor.headers)
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    r = api.post(
        "/api/v1/match",
        files={"file": ("bomb.png", media.decompression_bomb(), "image/png")},
        headers=actor.headers,
    )
    assert r.status_code == 413
    r = api.post(
        "/api/v1/match",
        files={"file": ("t.jpg", media.truncated_jpeg(), "image/jpeg")},
        headers=actor.headers,
    )
    assert r.status_code == 422
    r = api.post(
        "/api/v1/match", content=b"raw", headers={**actor.headers, "content-type": "text/plain"}
    )
    assert r.status_code == 422


def test_media_upload_adds_every_hash_and_reports_a_bad_file(
    api: TestClient, db_session: Session
) -> None:
    """``POST /api/v1/banks/{id}/media`` (#13.9): each file is hashed as matching hashes a
    query, so the same picture, or its mirror, matches at once; a file that cannot be
    hashed is reported and the good one beside it still goes in."""
    sup = make_actor(db_session, role="supervisor")
    db_session.commit()
    bank = _bank(api, sup)
    r = api.post(
        f"/api/v1/banks/{bank['id']}/media",
        files=[
            ("file", ("poster.jpg", media.poster(77), "image/jpeg")),
            ("file", ("broken.jpg", media.truncated_jpeg(3), "image/jpeg")),
        ],
        data={"labels": json.dumps({"group": "Example Front"}), "source": "case 12"},
        headers=sup.headers,
    )
    assert r.status_code == 201, r.text
    good, bad = r.json()
    assert good["file"] == "poster.jpg" and good["error"] is None
    assert {s["signal_type"] for s in good["signals"]} >= {"sha256", "md5", "pdq"}
    assert all(s["labels"] == {"group": "Example Front"} for s in good["signals"])
    assert bad["file"] == "broken.jpg" and bad["signals"] == [] and bad["error"]
    r = api.post(
        "/api/v1/match",
        files={"file": ("m.jpg", media.poster(77, "mirror"), "image/jpeg")},
        headers=sup.headers,
    )
    hit = r.json()["matches"][0]
    assert hit["bank_id"] == bank["id"] and hit["source"] == "case 12"
    r = api.post(f"/api/v1/banks/{bank['id']}/media", data={"x": "1"}, headers=sup.headers)
    assert r.status_code == 422
