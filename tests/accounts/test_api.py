from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.factories import PASSWORD, make_actor, make_agency, make_user


def test_unauthenticated_is_problem_json(client: TestClient) -> None:
    r = client.get("/api/v1/me")
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == 401 and body["title"] == "Unauthorized" and body["detail"]


def test_me_with_token(client: TestClient, db_session: Session) -> None:
    actor = make_actor(db_session, role="supervisor")
    r = client.get("/api/v1/me", headers=actor.headers)
    assert r.status_code == 200
    assert r.json()["agency_id"] == actor.agency.id and r.json()["role"] == "supervisor"


def test_admin_only_routes(client: TestClient, db_session: Session) -> None:
    analyst = make_actor(db_session)
    agency_admin = make_actor(db_session, role="admin")
    admin = make_actor(db_session, role="admin", operator=True)
    body = {"name": "Brand new IRU", "country": "DE", "kind": "national_iru"}
    assert client.post("/api/v1/agencies", json=body, headers=analyst.headers).status_code == 403
    # Adding agencies is the instance operator's, not any agency's administrator's (#19.3).
    assert (
        client.post("/api/v1/agencies", json=body, headers=agency_admin.headers).status_code == 403
    )
    r = client.post("/api/v1/agencies", json=body, headers=admin.headers)
    assert r.status_code == 201 and r.json()["country"] == "DE"
    dup = client.post("/api/v1/agencies", json=body, headers=admin.headers)
    assert dup.status_code == 409 and "already exists" in dup.json()["detail"]
    bad = client.post(
        "/api/v1/agencies", json={**body, "name": "Y", "country": "ZZZ"}, headers=admin.headers
    )
    assert bad.status_code == 422


def test_supervisor_sees_only_own_agency_users(client: TestClient, db_session: Session) -> None:
    a, b = make_agency(db_session), make_agency(db_session)
    sup = make_actor(db_session, a, role="supervisor")
    other = make_user(db_session, b)
    r = client.get("/api/v1/users", headers=sup.headers)
    emails = {u["email"] for u in r.json()["items"]}
    assert sup.user.email in emails and other.email not in emails


def test_token_lifecycle(client: TestClient, db_session: Session) -> None:
    actor = make_actor(db_session)
    r = client.post(
        "/api/v1/tokens", json={"name": "ci", "scopes": ["items:read"]}, headers=actor.headers
    )
    assert r.status_code == 201
    token = r.json()["token"]
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    listed = client.get("/api/v1/tokens", headers=actor.headers).json()
    assert all("token" not in t for t in listed)
    tid = r.json()["id"]
    other = make_actor(db_session)
    assert client.delete(f"/api/v1/tokens/{tid}", headers=other.headers).status_code == 404
    assert client.delete(f"/api/v1/tokens/{tid}", headers=actor.headers).status_code == 204
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_browser_session_needs_csrf_for_writes(client: TestClient, db_session: Session) -> None:
    user = make_user(db_session)
    r = client.post("/api/v1/session", json={"email": user.email, "password": PASSWORD})
    assert r.status_code == 200
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    csrf = r.json()["csrf_token"]
    assert client.get("/api/v1/me").status_code == 200
    no_csrf = client.post("/api/v1/tokens", json={"name": "x"})
    assert no_csrf.status_code == 403 and "CSRF" in no_csrf.json()["detail"]
    ok = client.post("/api/v1/tokens", json={"name": "x"}, headers={"x-csrf-token": csrf})
    assert ok.status_code == 201
    assert (
        client.request("DELETE", "/api/v1/session", headers={"x-csrf-token": csrf}).status_code
        == 204
    )
    assert client.get("/api/v1/me").status_code == 401


def test_login_rate_limit_via_api(app_factory, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    user = make_user(db_session)
    with TestClient(app_factory(login_max_attempts=2)) as c:
        for _ in range(2):
            assert (
                c.post(
                    "/api/v1/session", json={"email": user.email, "password": "x" * 12}
                ).status_code
                == 401
            )
        r = c.post("/api/v1/session", json={"email": user.email, "password": PASSWORD})
        assert r.status_code == 429 and r.headers["retry-after"]
