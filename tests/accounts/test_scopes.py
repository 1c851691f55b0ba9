"""The probes of issue 19 point 1 (a read-only token mints a full one, HTML routes ignore
scopes), point 3 (an admin acts as another agency's users) and issue 13 point 16 (the token
page offers scopes the role cannot hold). Each failed before the fix."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from takedown.accounts import repository, service
from takedown.accounts.models import Role
from takedown.accounts.scopes import ROLE_SCOPES, expand
from takedown.accounts.service import SYSTEM
from tests.factories import make_actor, make_agency, make_user
from tests.web.conftest import browser_login


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_read_only_token_cannot_mint_or_revoke_tokens(
    client: TestClient, db_session: Session
) -> None:
    reader = make_actor(db_session, role="admin", scopes=["items:read"])
    r = client.post(
        "/api/v1/tokens", json={"name": "escalate", "scopes": ["*"]}, headers=reader.headers
    )
    assert r.status_code == 403 and "tokens:write" in r.json()["detail"]
    own = repository.tokens_of_user(db_session, reader.user.id)[0].id
    assert client.delete(f"/api/v1/tokens/{own}", headers=reader.headers).status_code == 403
    assert (
        client.post("/account/tokens", data={"name": "x"}, headers=reader.headers).status_code
        == 403
    )


def test_a_token_never_creates_a_token_beyond_its_own_scopes(
    client: TestClient, db_session: Session
) -> None:
    minter = make_actor(db_session, scopes=["tokens:write", "items:read"])
    for scopes in (["*"], ["items:*"], ["items:write"], ["evidence:read"]):
        r = client.post(
            "/api/v1/tokens", json={"name": "e", "scopes": scopes}, headers=minter.headers
        )
        assert r.status_code == 403, (scopes, r.text)
        assert "does not hold" in r.json()["detail"]
    r = client.post(
        "/api/v1/tokens",
        json={"name": "narrower", "scopes": ["items:read"]},
        headers=minter.headers,
    )
    assert r.status_code == 201
    # With no scopes named the API means "*": refused too.
    assert (
        client.post("/api/v1/tokens", json={"name": "all"}, headers=minter.headers).status_code
        == 403
    )


def test_a_token_is_cut_down_to_its_role(client: TestClient, db_session: Session) -> None:
    analyst = make_actor(db_session)  # a "*" token
    assert "admin" not in analyst.principal.scopes
    assert analyst.principal.scopes == expand(["*"], Role.ANALYST)
    r = client.post(
        "/api/v1/tokens", json={"name": "a", "scopes": ["admin"]}, headers=analyst.headers
    )
    assert r.status_code == 403 and "may not hold" in r.json()["detail"]
    # Written past the checks (an old row): still cut to the role when used.
    issued = service.create_token(
        db_session, SYSTEM, user_id=analyst.user.id, name="old", scopes=["items:read"]
    )
    issued.row.scopes = ["admin", "items:read"]
    db_session.flush()
    p = service.authenticate_token(db_session, issued.token)
    assert "admin" not in p.scopes and "items:read" in p.scopes


def test_html_routes_check_scopes_like_the_api(client: TestClient, db_session: Session) -> None:
    from takedown.items import service as items

    reader = make_actor(db_session, scopes=["items:read"])
    item, _ = items.report_url(db_session, reader.principal, "https://x.com/scopes/status/1919")
    db_session.flush()
    h = reader.headers
    r = client.post(
        f"/items/{item.id}/assess", data={"verdict": "tco"}, headers=h, follow_redirects=False
    )
    assert r.status_code == 403 and "items:write" in r.text
    assert (
        client.post("/referrals/new", data={}, headers=h, follow_redirects=False).status_code == 403
    )
    r = client.post(f"/verification/items/{item.id}/check", headers=h, follow_redirects=False)
    assert r.status_code == 403
    assert client.post("/api/v1/evidence", json={}, headers=h).status_code == 403
    assert client.get("/api/v1/evidence", headers=h).status_code == 403
    assert client.get("/api/v1/referrals", headers=h).status_code == 403
    assert client.get(f"/items/{item.id}", headers=h).status_code == 200
    assert items.get_item(db_session, reader.principal, item.id).status == "new"


def _offered(html: str) -> set[str]:
    return set(re.findall(r'name="scopes" value="([^"]+)"', html))


def test_the_token_page_offers_only_the_roles_scopes(
    client: TestClient, db_session: Session
) -> None:
    agency = make_agency(db_session)
    for role in ("analyst", "supervisor", "admin"):
        user = make_user(db_session, agency, role=role)
        db_session.flush()
        browser_login(client, user.email)
        page = client.get("/account/tokens")
        assert _offered(page.text) == ROLE_SCOPES[Role(role)], role
    client.cookies.clear()
    analyst = make_actor(db_session, agency, scopes=["tokens:write", "items:read"])
    r = client.post(
        "/account/tokens", data={"name": "x", "scopes": ["admin"]}, headers=analyst.headers
    )
    assert r.status_code == 422 and "Not a scope your role may hold" in r.text
    r = client.post(
        "/account/tokens", data={"name": "x", "scopes": ["items:write"]}, headers=analyst.headers
    )
    assert r.status_code == 403 and "does not hold" in r.text


# --- #19.3: administrators act within their own agency ----------------------------------------


def test_an_admin_cannot_mint_or_revoke_tokens_of_another_agency(
    client: TestClient, db_session: Session
) -> None:
    a, b = make_agency(db_session), make_agency(db_session)
    analyst_a = make_actor(db_session, a)
    admin_a = make_actor(db_session, a, role="admin")
    admin_b = make_actor(db_session, b, role="admin")
    r = client.post(
        "/api/v1/tokens", json={"name": "x", "user_id": analyst_a.user.id}, headers=admin_b.headers
    )
    assert r.status_code == 404
    tid = repository.tokens_of_user(db_session, analyst_a.user.id)[0].id
    assert client.delete(f"/api/v1/tokens/{tid}", headers=admin_b.headers).status_code == 404
    assert service.authenticate_token(db_session, analyst_a.token)  # still valid
    # The agency's own admin may.
    r = client.post(
        "/api/v1/tokens", json={"name": "x", "user_id": analyst_a.user.id}, headers=admin_a.headers
    )
    assert r.status_code == 201
    assert client.delete(f"/api/v1/tokens/{tid}", headers=admin_a.headers).status_code == 204
