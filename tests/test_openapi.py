"""The API answers what its OpenAPI document says (#19.11)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from takedown.kit.problems import PROBLEM
from tests.factories import make_actor


def test_every_api_operation_documents_its_problem_answers_and_scope(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert "Problem" in schema["components"]["schemas"]
    missing = []
    for path, ops in schema["paths"].items():
        if not path.startswith("/api/v1"):
            continue
        for method, op in ops.items():
            codes = {"400", "401", "403", "404", "422"} | ({"409"} if method != "get" else set())
            for code in codes:
                if PROBLEM not in op["responses"].get(code, {}).get("content", {}):
                    missing.append(f"{method.upper()} {path} {code}")
            if path != "/api/v1/session" and "x-required-scope" not in op:
                missing.append(f"{method.upper()} {path}: no x-required-scope")
    assert not missing, missing[:20]


def test_a_405_names_every_method_of_the_path(client: TestClient, db_session: Session) -> None:
    actor = make_actor(db_session)
    db_session.flush()
    r = client.delete("/api/v1/items", headers=actor.headers)
    assert r.status_code == 405 and r.headers["content-type"].startswith(PROBLEM)
    assert {m.strip() for m in r.headers["allow"].split(",")} >= {"GET", "POST"}
    r = client.put("/api/v1/referrals/1", headers=actor.headers)
    assert {m.strip() for m in r.headers["allow"].split(",")} >= {"GET", "PATCH"}


def test_literal_evidence_paths_are_not_read_as_an_id(
    client: TestClient, db_session: Session
) -> None:
    actor = make_actor(db_session)
    db_session.flush()
    for what in ("export", "verify"):
        r = client.get(f"/api/v1/evidence/{what}", headers=actor.headers)
        assert r.status_code == 405, (what, r.status_code, r.text[:200])
        assert r.headers["allow"] == "POST"
    assert client.get("/api/v1/evidence/999999", headers=actor.headers).status_code == 404


def test_type_invalid_filters_and_fields_are_refused(
    client: TestClient, db_session: Session
) -> None:
    actor = make_actor(db_session)
    db_session.flush()
    h = actor.headers
    for bad in ("0", "1e10", "2026-05-01", "2026-05-01T00:00:00", "yesterday"):
        r = client.get("/api/v1/items", params={"first_seen_to": bad}, headers=h)
        assert r.status_code == 422, (bad, r.status_code)
        assert client.get("/api/v1/checks", params={"since": bad}, headers=h).status_code == 422
    ok = "2026-05-01T00:00:00Z"
    assert client.get("/api/v1/items", params={"first_seen_to": ok}, headers=h).status_code == 200
    assert client.get("/api/v1/checks", params={"since": ok}, headers=h).status_code == 200
    h = make_actor(db_session, actor.agency, role="supervisor").headers  # banks: supervisors
    for bad_bool in ("yes", 1, "true", "on"):
        r = client.post("/api/v1/banks", json={"name": "b", "shared": bad_bool}, headers=h)
        assert r.status_code == 422, (bad_bool, r.status_code, r.text[:200])
    assert (
        client.post("/api/v1/banks", json={"name": "b", "shared": True}, headers=h).status_code
        == 201
    )
