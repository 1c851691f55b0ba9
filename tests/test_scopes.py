"""Token scopes, route by route (#19.1).

Every route the app serves, API and HTML, declares the scope it needs
(``dependencies=[needs("items:read")]``); ``accounts.deps.RequireScope`` is the one check.
These tests walk ``app.routes``:
- a route that declares no scope (and is not public) fails, so every later capability
  must declare its own;
- a token holding every scope but the route's gets 403, naming the scope (``account:read``,
  held by every token, is instead proven reachable with an unrelated scope);
- a token holding only the route's scope is not refused for lack of a scope.
"""

from __future__ import annotations

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from takedown.accounts import service
from takedown.accounts.deps import RequireScope
from takedown.accounts.models import Role
from takedown.accounts.scopes import IMPLICIT, ROLE_SCOPES, SCOPES
from takedown.accounts.service import SYSTEM
from tests.factories import make_agency, make_user
from tests.isolation import PUBLIC
from tests.test_tenant_isolation import _fill, _routes


def declared(route: APIRoute) -> list[str]:
    """The scopes a route declares, anywhere in its dependency tree."""
    found: list[str] = []
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        if isinstance(dep.call, RequireScope):
            found.append(dep.call.scope)
        stack.extend(dep.dependencies)
    return found


def test_every_route_declares_exactly_one_known_scope(app_factory) -> None:  # type: ignore[no-untyped-def]
    app = app_factory()
    missing, several = [], []
    for method, path, route in _routes(app):
        scopes = declared(route)
        if (method, path) in PUBLIC:
            assert not scopes, f"{method} {path} is listed as public but declares {scopes}"
            continue
        if not scopes:
            missing.append(f"{method} {path}")
        elif len(set(scopes)) > 1:
            several.append(f"{method} {path}: {scopes}")
        assert all(s in SCOPES for s in scopes)
    assert not missing, (
        "routes that declare no scope; add dependencies=[needs('<area>:<read|write>')] "
        f"(accounts.scopes.SCOPES lists them): {missing}"
    )
    assert not several, f"routes that declare more than one scope: {several}"


def test_every_scope_is_used_and_held_by_some_role(app_factory) -> None:  # type: ignore[no-untyped-def]
    app = app_factory()
    used = {s for _m, _p, r in _routes(app) for s in declared(r)}
    assert used == set(SCOPES), f"declared but unused: {set(SCOPES) - used}"
    assert set().union(*ROLE_SCOPES.values()) == set(SCOPES)


def test_a_token_without_the_routes_scope_gets_403(client: TestClient, db_session: Session) -> None:
    admin = make_user(db_session, make_agency(db_session), role="admin")
    everything = sorted(ROLE_SCOPES[Role.ADMIN])

    def bearer(scopes: list[str]) -> dict[str, str]:
        raw = service.create_token(db_session, SYSTEM, user_id=admin.id, name="t", scopes=scopes)
        return {"Authorization": f"Bearer {raw.token}"}

    tokens = {s: (bearer([x for x in everything if x != s]), bearer([s])) for s in everything}
    # A scope every token holds cannot be withheld: its routes must answer a token created
    # for something unrelated.
    unrelated = bearer(["platforms:read"])
    db_session.flush()
    wrong: list[str] = []
    for method, path, route in _routes(client.app):  # type: ignore[arg-type]
        if (method, path) in PUBLIC:
            continue
        (scope,) = set(declared(route))
        lacking_h, only_h = tokens[scope]
        url = _fill(path, {"year": 2026, "slug": "x", "country": "FR", "api_root": "api"})
        if scope in IMPLICIT:
            r = client.request(method, url, headers=unrelated, follow_redirects=False)
            if r.status_code == 403:
                wrong.append(f"{method} {path} ({scope}, held by every token): {r.text[:120]}")
            continue
        r = client.request(method, url, headers=lacking_h, follow_redirects=False)
        if r.status_code != 403 or scope not in r.text:
            wrong.append(f"{method} {path} without {scope}: {r.status_code} {r.text[:120]}")
            continue
        r = client.request(method, url, headers=only_h, follow_redirects=False)
        if r.status_code == 403 and "lacks the scope" in r.text:
            wrong.append(f"{method} {path} with only {scope}: {r.text[:160]}")
    assert not wrong, "\n".join(wrong)
