"""Tenant isolation, route by route.

The first test enumerates every route the app serves: a route that is neither
public nor covered by a probe in tests/isolation.py fails it. The others run the
probes: agency B never reaches agency A's data, through any route.
"""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from takedown.accounts.deps import current_principal
from tests.factories import make_actor, make_agency
from tests.isolation import (
    ADMIN_PROBES,
    ADMIN_SCOPES,
    INSTANCE_WIDE,
    PROBES,
    PUBLIC,
)

SKIP_PATHS = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}


def _flatten(app: FastAPI) -> list[tuple[str, APIRoute]]:
    """(full path, route) for every API route, including those of included routers.

    FastAPI >= 0.16x keeps included routers as lazy wrappers; walk them through
    their effective route contexts.
    """
    out: list[tuple[str, APIRoute]] = []
    for r in app.routes:
        if isinstance(r, APIRoute):
            out.append((r.path, r))
        elif hasattr(r, "effective_route_contexts"):
            for ctx in r.effective_route_contexts():
                orig = ctx.original_route
                if isinstance(orig, APIRoute):
                    out.append((ctx.path or orig.path, orig))
    return out


def _routes(app: FastAPI) -> list[tuple[str, str, APIRoute]]:
    """(method, path, route); a path convertor (``{capture_id:int}``) is left out of the
    path, as OpenAPI leaves it out."""
    out = []
    for raw, r in _flatten(app):
        path = re.sub(r"\{(\w+):\w+\}", r"{\1}", raw)
        if path in SKIP_PATHS:
            continue
        for m in sorted(r.methods - {"HEAD", "OPTIONS"}):
            out.append((m, path, r))
    return out


def test_enumeration_sees_every_documented_operation(app_factory) -> None:  # type: ignore[no-untyped-def]
    """Guard the guard: the walk above must find every operation OpenAPI lists."""
    app = app_factory()
    found = {(m, p) for m, p, _ in _routes(app)}
    documented = {(m.upper(), p) for p, ops in app.openapi()["paths"].items() for m in ops}
    assert documented <= found, f"not enumerated: {documented - found}"


def _depends_on_principal(route: APIRoute) -> bool:
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        if dep.call is current_principal:
            return True
        stack.extend(dep.dependencies)
    return False


def test_every_route_has_an_isolation_probe(app_factory) -> None:  # type: ignore[no-untyped-def]
    app = app_factory()
    routes = _routes(app)
    assert routes, "the app serves no routes?"
    missing = [(m, p) for m, p, _ in routes if (m, p) not in PROBES and (m, p) not in PUBLIC]
    assert not missing, f"routes without a tenant-isolation probe in tests/isolation.py: {missing}"
    stale = [k for k in PROBES if k not in {(m, p) for m, p, _ in routes}]
    assert not stale, f"probes for routes that no longer exist: {stale}"


def test_every_non_public_route_requires_a_principal(app_factory) -> None:  # type: ignore[no-untyped-def]
    app = app_factory()
    unguarded = [
        (m, p) for m, p, r in _routes(app) if (m, p) not in PUBLIC and not _depends_on_principal(r)
    ]
    assert not unguarded, f"routes that do not depend on current_principal: {unguarded}"


def _fill(path: str, params: dict[str, object]) -> str:
    def sub(m: re.Match[str]) -> str:
        name = m.group(1).split(":")[0]
        return str(params.get(name, 999_999))

    return re.sub(r"\{([^}]+)\}", sub, path)


def test_unauthenticated_requests_are_refused(client: TestClient) -> None:
    for method, path in PROBES:
        r = client.request(method, _fill(path, {}))
        assert r.status_code in (401, 403), f"{method} {path} answered {r.status_code} to nobody"


@pytest.mark.parametrize("key", sorted(PROBES), ids=lambda k: f"{k[0]} {k[1]}")
def test_agency_b_cannot_reach_agency_a(
    key: tuple[str, str], client: TestClient, db_session: Session
) -> None:
    method, path = key
    pr = PROBES[key]
    owner = make_actor(db_session, make_agency(db_session), role=pr.role)
    intruder = make_actor(db_session, make_agency(db_session), role=pr.role)
    case = pr.setup(db_session, owner)
    db_session.flush()
    url = _fill(path, case.params)
    kwargs: dict[str, object] = {"params": case.query}
    if case.body is not None:
        kwargs["json"] = case.body
    if case.files is not None:
        kwargs["files"] = case.files
    if case.data is not None:
        kwargs["data"] = case.data
    r = client.request(method, url, headers=intruder.headers, **kwargs)  # type: ignore[arg-type]
    assert r.status_code < 500, f"{method} {url}: {r.status_code} {r.text[:300]}"
    if pr.kind == "admin":
        assert r.status_code == 403, f"{method} {url}: a non-admin got {r.status_code}"
        return
    if case.params and pr.kind == "tenant":
        assert r.status_code in (403, 404), (
            f"{method} {url}: agency B reached agency A's object ({r.status_code})"
        )
    if case.marker is not None:
        assert case.marker not in r.text, f"{method} {url} leaked {case.marker!r} to agency B"
    if case.owner_ok and case.params and pr.kind == "tenant":
        r2 = client.request(method, url, headers=owner.headers, **kwargs)  # type: ignore[arg-type]
        assert r2.status_code not in (403, 404), (
            f"{method} {url}: the probe is wrong, even the owner gets {r2.status_code}"
        )
    if case.marker is not None and pr.kind != "admin":
        r3 = client.get(url, headers=owner.headers, params=case.query) if method == "GET" else None
        if r3 is not None:
            assert case.marker in r3.text, f"{method} {url}: marker not visible to its owner"


# --- administrators of one agency and another's users, tokens and log (#19.3) ---------------


def test_every_administrative_route_has_a_cross_agency_probe(app_factory) -> None:  # type: ignore[no-untyped-def]
    """Routes needing an administrative scope are probed with another agency's admin, or
    listed as instance-wide with the reason; a new one fails here until it is either."""
    from tests.test_scopes import declared

    app = app_factory()
    routes = {(m, p): r for m, p, r in _routes(app)}
    admin_routes = {k for k, r in routes.items() if set(declared(r)) & ADMIN_SCOPES}
    # A tenant probe run by an admin is a cross-agency probe too: agency B's admin asks
    # for agency A's object.
    tenant_admin = {k for k, pr in PROBES.items() if pr.role == "admin" and pr.kind == "tenant"}
    missing = sorted(admin_routes - set(ADMIN_PROBES) - set(INSTANCE_WIDE) - tenant_admin)
    assert not missing, f"administrative routes without a cross-agency probe: {missing}"
    stale = sorted((set(ADMIN_PROBES) | set(INSTANCE_WIDE)) - set(routes))
    assert not stale, f"admin probes for routes that no longer exist: {stale}"


@pytest.mark.parametrize("key", sorted(ADMIN_PROBES), ids=lambda k: f"{k[0]} {k[1]}")
def test_an_agency_admin_cannot_act_on_another_agency(
    key: tuple[str, str], client: TestClient, db_session: Session
) -> None:
    method, path = key
    agency_a, agency_b = make_agency(db_session), make_agency(db_session)
    owner = make_actor(db_session, agency_a)
    admin_a = make_actor(db_session, agency_a, role="admin")
    admin_b = make_actor(db_session, agency_b, role="admin")
    case = ADMIN_PROBES[key](db_session, owner)
    db_session.flush()
    url = _fill(path, case.params)
    kwargs: dict[str, object] = {"params": case.query, "follow_redirects": False}
    if case.body is not None:
        kwargs["json"] = case.body
    if case.data is not None:
        kwargs["data"] = case.data
    r = client.request(method, url, headers=admin_b.headers, **kwargs)  # type: ignore[arg-type]
    assert r.status_code < 500, f"{method} {url}: {r.status_code} {r.text[:300]}"
    if case.marker is not None:
        assert r.status_code == 200, f"{method} {url}: {r.status_code} {r.text[:200]}"
        assert case.marker not in r.text, f"{method} {url} showed agency A's data to B's admin"
        r2 = client.request(method, url, headers=admin_a.headers, **kwargs)  # type: ignore[arg-type]
        assert case.marker in r2.text, f"{method} {url}: the probe is wrong, A's admin sees nothing"
        return
    assert r.status_code in (403, 404), (
        f"{method} {url}: agency B's admin acted on agency A ({r.status_code} {r.text[:200]})"
    )
