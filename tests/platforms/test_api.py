"""/api/v1/platforms: readable by every signed-in user, editable by admins only."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from takedown.platforms.api import router
from takedown.platforms.seed import SEED, ensure_seeded
from tests.factories import make_actor


@pytest.fixture
def pclient(app_factory: Callable[..., FastAPI], db_session: Session) -> Iterator[TestClient]:
    app = app_factory()
    paths = {getattr(r, "path", None) for r in app.routes}
    if "/api/v1/platforms" not in paths:  # until the composition root mounts the router
        app.include_router(router)
    ensure_seeded(db_session)
    db_session.commit()
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def test_requires_authentication(pclient: TestClient) -> None:
    r = pclient.get("/api/v1/platforms")
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
    assert pclient.patch("/api/v1/platforms/x", json={"country": "IE"}).status_code == 401


def test_list_and_get(pclient: TestClient, db_session: Session) -> None:
    analyst = make_actor(db_session)
    db_session.commit()
    r = pclient.get("/api/v1/platforms", headers=analyst.headers)
    assert r.status_code == 200
    body = r.json()
    assert body["total"] == len(SEED) and len(body["items"]) == len(SEED)
    slugs = [p["slug"] for p in body["items"]]
    assert slugs == sorted(slugs) and "telegram" in slugs
    r = pclient.get("/api/v1/platforms?kind=paste&limit=1", headers=analyst.headers)
    assert r.json()["total"] == 2 and len(r.json()["items"]) == 1
    one = pclient.get("/api/v1/platforms/mega", headers=analyst.headers).json()
    assert one["country"] == "NZ" and "mega.nz" in one["domains"]
    missing = pclient.get("/api/v1/platforms/nope", headers=analyst.headers)
    assert missing.status_code == 404 and missing.json()["detail"] == "no platform 'nope'"
    bad_slug = pclient.get("/api/v1/platforms/NOT..valid", headers=analyst.headers)
    assert bad_slug.status_code == 422


def test_only_the_operator_patches(pclient: TestClient, db_session: Session) -> None:
    analyst = make_actor(db_session, role="supervisor")
    agency_admin = make_actor(db_session, role="admin")  # one agency's, not the operator
    admin = make_actor(db_session, role="admin", operator=True)
    db_session.commit()
    body: dict[str, Any] = {"tco_contact_point": "removals@platform.example.invalid"}
    assert (
        pclient.patch("/api/v1/platforms/x", json=body, headers=analyst.headers).status_code == 403
    )
    # Every agency's orders go to the registry's contact points: one agency must not redirect
    # them. The registry is the instance operator's.
    refused = pclient.patch("/api/v1/platforms/x", json=body, headers=agency_admin.headers)
    assert refused.status_code == 403 and "instance operator" in refused.json()["detail"]
    new = {"slug": "newhost", "name": "New host", "kind": "website"}
    created = pclient.post("/api/v1/platforms", json=new, headers=agency_admin.headers)
    assert created.status_code == 403
    r = pclient.patch("/api/v1/platforms/x", json=body, headers=admin.headers)
    assert r.status_code == 200 and r.json()["tco_contact_point"] == body["tco_contact_point"]
    assert r.json()["country"] == "IE"  # fields not sent are untouched
    cleared = pclient.patch(
        "/api/v1/platforms/x", json={"tco_contact_point": None}, headers=admin.headers
    )
    assert cleared.status_code == 200 and cleared.json()["tco_contact_point"] is None


@pytest.mark.parametrize(
    "body",
    [
        {"country": "IRL"},
        {"delivery_channel": "fax"},
        {"slug": "y"},
        {"tco_contact_point": "not a contact"},
        {"domains": ["not a host"]},
        {"name": ""},
    ],
)
def test_patch_validation_is_422_problem(
    pclient: TestClient, db_session: Session, body: dict[str, Any]
) -> None:
    admin = make_actor(db_session, role="admin", operator=True)
    db_session.commit()
    r = pclient.patch("/api/v1/platforms/x", json=body, headers=admin.headers)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")


def test_admins_create_platforms_and_errors_are_problems(
    pclient: TestClient, db_session: Session
) -> None:
    supervisor = make_actor(db_session, role="supervisor")
    admin = make_actor(db_session, role="admin", operator=True)
    db_session.commit()
    body: dict[str, Any] = {
        "slug": "examplepaste",
        "name": "Example Paste",
        "kind": "paste",
        "domains": ["paste.example.net"],
        "delivery_channel": "email",
        "tco_contact_point": "tco@paste.example.net",
    }
    refused = pclient.post("/api/v1/platforms", json=body, headers=supervisor.headers)
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    r = pclient.post("/api/v1/platforms", json=body, headers=admin.headers)
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["slug"] == "examplepaste" and made["country"] is None and made["notes"] == ""
    assert made["domains"] == ["paste.example.net"] and made["delivery_channel"] == "email"
    got = pclient.get("/api/v1/platforms/examplepaste", headers=supervisor.headers)
    assert got.status_code == 200 and got.json()["name"] == "Example Paste"
    again = pclient.post("/api/v1/platforms", json=body, headers=admin.headers)
    assert again.status_code == 409 and again.json()["field"] == "slug"
    assert again.headers["content-type"].startswith("application/problem+json")
    taken = pclient.post(
        "/api/v1/platforms",
        json={**body, "slug": "other", "domains": ["www.paste.example.net"]},
        headers=admin.headers,
    )
    assert taken.status_code == 409 and "belongs to the platform 'examplepaste'" in taken.text
    x_host = pclient.post(
        "/api/v1/platforms", json={**body, "slug": "other", "domains": ["twitter.com"]},
        headers=admin.headers,
    )  # fmt: skip
    assert x_host.status_code == 409 and "'x'" in x_host.json()["detail"]
    bad_bodies = [
        {**body, "slug": "Bad Slug"},
        {**body, "slug": "new"},  # reserved: the form's path
        {"slug": "a"},  # no name, no kind
        {**body, "slug": "other", "kind": "newspaper"},
        {**body, "slug": "o", "fax": 1},
    ]
    for bad in bad_bodies:
        r = pclient.post("/api/v1/platforms", json=bad, headers=admin.headers)
        assert r.status_code == 422, bad
        assert r.headers["content-type"].startswith("application/problem+json")


def test_create_is_documented_in_openapi(client: TestClient) -> None:
    op = client.get("/openapi.json").json()["paths"]["/api/v1/platforms"]["post"]
    assert "201" in op["responses"] and "requestBody" in op
    assert "409" in op["description"]  # when the slug or a domain is taken
