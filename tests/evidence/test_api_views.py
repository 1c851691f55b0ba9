"""The API and the safe viewer: sandbox headers, signed links, audit entries for every view."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from takedown.audit.models import AuditEvent
from tests.evidence.conftest import make_item
from tests.evidence.hostile import HOST
from tests.factories import make_actor


@pytest.fixture
def ev_client(app_factory: Any, hostile_port: int) -> Iterator[TestClient]:
    from takedown.evidence.api import router as api_router
    from takedown.evidence.views import router as views_router
    from takedown.web.setup import install

    app = app_factory(resolve={HOST: f"127.0.0.1:{hostile_port}"})
    if not getattr(app.state, "web_installed", False):
        install(app, app.state.settings)
    routes = {getattr(r, "path", "") for r in app.routes}
    if "/api/v1/evidence" not in routes:
        app.include_router(api_router)
    if "/evidence-view/{capture_id}/{target}/{exp}/{uid}/{aid}/{sig}" not in routes:
        app.include_router(views_router)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def _events(db_session: Session, action: str, capture_id: int) -> list[AuditEvent]:
    db_session.expire_all()
    return list(
        db_session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == action, AuditEvent.subject_id == str(capture_id))
            .order_by(AuditEvent.id)
        )
    )


def _login(client: TestClient, db_session: Session, actor: Any) -> None:
    from tests.factories import PASSWORD

    r = client.post("/api/v1/session", json={"email": actor.user.email, "password": PASSWORD})
    assert r.status_code == 200, r.text


def _capture_via_api(client: TestClient, db_session: Session, actor: Any, path: str) -> int:
    item_id = make_item(db_session, actor.principal, f"http://{HOST}{path}")
    db_session.commit()
    r = client.post("/api/v1/evidence", json={"item_ids": [item_id]}, headers=actor.headers)
    assert r.status_code == 201, r.text
    [row] = r.json()
    assert row["status"] == "complete", row
    return int(row["capture_id"])


def test_api_capture_get_download_is_audited_and_isolated(
    ev_client: TestClient, db_session: Session
) -> None:
    actor = make_actor(db_session)
    cap_id = _capture_via_api(ev_client, db_session, actor, "/page")
    detail = ev_client.get(f"/api/v1/evidence/{cap_id}", headers=actor.headers).json()
    assert detail["manifest_sha256"] and detail["final_url"] == f"http://{HOST}/page"
    warc = next(f for f in detail["files"] if f["role"] == "warc")

    r = ev_client.get(f"/api/v1/evidence/{cap_id}/files/{warc['id']}", headers=actor.headers)
    assert r.status_code == 200
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["content-disposition"].startswith("attachment")
    assert r.headers["x-evidence-sha256"] == warc["sha256"]
    [ev] = _events(db_session, "evidence.downloaded", cap_id)
    assert json.loads(ev.details)["sha256"] == warc["sha256"]
    assert ev.actor_user_id == actor.user.id

    intruder = make_actor(db_session)
    assert ev_client.get(f"/api/v1/evidence/{cap_id}", headers=intruder.headers).status_code == 404
    r = ev_client.get(f"/api/v1/evidence/{cap_id}/files/{warc['id']}", headers=intruder.headers)
    assert r.status_code == 404
    listing = ev_client.get("/api/v1/evidence", headers=intruder.headers).json()
    assert all(c["id"] != cap_id for c in listing["items"])

    v = ev_client.post(
        "/api/v1/evidence/verify", json={"capture_ids": [cap_id]}, headers=actor.headers
    ).json()
    assert v == [
        {"capture_id": cap_id, "ok": True, "checked": len(detail["files"]), "problems": []}
    ]


def test_sandboxed_view_headers_signed_links_and_view_audit(
    ev_client: TestClient, db_session: Session
) -> None:
    actor = make_actor(db_session)
    cap_id = _capture_via_api(ev_client, db_session, actor, "/page")
    _login(ev_client, db_session, actor)
    page = ev_client.get(f"/evidence/{cap_id}")
    assert page.status_code == 200
    html = page.text
    assert "ev-blur" in html and 'sandbox=""' in html and "<script>" not in html
    assert "/static/evidence/evidence.js" in html
    frame = re.search(r'src="(/evidence-view/[^"]+/page/[^"]+)"', html)
    img = re.search(r'src="(/evidence-view/[^"]+/f\d+/[^"]+)"', html)
    assert frame and img

    ev_client.cookies.clear()  # the signed link works without the app's cookie
    r = ev_client.get(frame.group(1))
    assert r.status_code == 200, r.text
    csp = r.headers["content-security-policy"]
    assert csp.startswith("sandbox;") and "default-src 'none'" in csp
    assert "img-src 'self' data:" in csp and "media-src 'self'" in csp
    assert "script-src" not in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["content-type"].startswith("text/html")
    assert b"Synthetic statement 42" in r.content
    r = ev_client.get(img.group(1))
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert r.headers["content-security-policy"].startswith("sandbox;")
    assert len(_events(db_session, "evidence.viewed", cap_id)) == 2

    tampered = frame.group(1)[:-3] + ("AAA" if not frame.group(1).endswith("AAA") else "BBB")
    assert ev_client.get(tampered).status_code == 403
    other = re.sub(r"/page/", "/f1/", frame.group(1))  # signature covers the target
    assert ev_client.get(other).status_code == 403
    assert len(_events(db_session, "evidence.viewed", cap_id)) == 2


def test_safe_view_rewrites_the_page_and_leaves_the_capture_untouched(
    ev_client: TestClient, db_session: Session
) -> None:
    """Issue 19.4: the frame holds no reference to the page's host; held media come from
    our store (also through a redirect the capture followed); the WARC is not rewritten."""
    from takedown.evidence import repository as ev_repo
    from takedown.evidence.safe_html import PLACEHOLDER
    from tests.evidence.test_safe_html import assert_no_reference

    actor = make_actor(db_session)
    cap_id = _capture_via_api(ev_client, db_session, actor, "/viewer")
    before = {f.name: f.sha256 for f in ev_repo.files_of(db_session, cap_id)}
    _login(ev_client, db_session, actor)
    html = ev_client.get(f"/evidence/{cap_id}").text
    assert "This is a safe rendering, not the capture." in html
    assert before["capture.warc.gz"] in html
    frame = re.search(r'src="(/evidence-view/[^"]+/page/[^"]+)"', html)
    assert frame
    r = ev_client.get(frame.group(1))
    assert r.status_code == 200 and r.headers["content-type"] == "text/html; charset=utf-8"
    page = r.text
    assert_no_reference(page, mark=HOST)
    assert "Synthetic viewer page" in page and "h1{color:red}" in page
    srcs = dict(re.findall(r'<img id="(\w+)" src="([^"]+)"', page))
    assert srcs["gone"] == PLACEHOLDER
    for name in ("held", "moved"):
        assert srcs[name].startswith(f"/evidence-view/{cap_id}/m"), srcs
        img = ev_client.get(srcs[name].replace("&amp;", "&"))
        assert img.status_code == 200 and img.headers["content-type"] == "image/png"
        assert img.headers["cross-origin-resource-policy"] == "cross-origin"
        assert img.headers["content-security-policy"].startswith("sandbox;")
    # The in-page target serves images and videos only: never the WARC, even if signed.
    from takedown.evidence.views import view_url

    warc_id = next(f.id for f in ev_repo.files_of(db_session, cap_id) if f.role == "warc")
    key = ev_client.app.state.web_secret  # type: ignore[attr-defined]
    assert ev_client.get(view_url(key, actor.principal, cap_id, f"m{warc_id}")).status_code == 404
    db_session.expire_all()
    after = {f.name: f.sha256 for f in ev_repo.files_of(db_session, cap_id)}
    assert after == before
    v = ev_client.post(
        "/api/v1/evidence/verify", json={"capture_ids": [cap_id]}, headers=actor.headers
    ).json()
    assert v[0]["ok"] is True and v[0]["problems"] == []
    assert len(_events(db_session, "evidence.viewed", cap_id)) == 3  # the page, two images


def test_export_endpoint_returns_a_verifiable_zip(
    ev_client: TestClient, db_session: Session
) -> None:
    sup = make_actor(db_session, role="supervisor")
    cap_id = _capture_via_api(ev_client, db_session, sup, "/page")
    detail = ev_client.get(f"/api/v1/evidence/{cap_id}", headers=sup.headers).json()
    r = ev_client.post(
        "/api/v1/evidence/export", json={"item_ids": [detail["item_id"]]}, headers=sup.headers
    )
    assert r.status_code == 200, r.text
    with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
        assert "verify_bundle.py" in zf.namelist()
    assert len(_events(db_session, "evidence.exported", cap_id)) == 1
    analyst = make_actor(db_session, sup.agency)
    r = ev_client.post(
        "/api/v1/evidence/export", json={"item_ids": [detail["item_id"]]}, headers=analyst.headers
    )
    assert r.status_code == 403


def test_holds_api(ev_client: TestClient, db_session: Session) -> None:
    sup = make_actor(db_session, role="supervisor")
    item_id = make_item(db_session, sup.principal, f"http://{HOST}/page?hold=1")
    db_session.commit()
    r = ev_client.post(
        "/api/v1/evidence/holds",
        headers=sup.headers,
        json={
            "item_id": item_id,
            "kind": "court_request",
            "reason": "preserve",
            "reference": "Case 9",
        },
    )
    assert r.status_code == 201, r.text
    hold_id = r.json()["id"]
    listed = ev_client.get(f"/api/v1/evidence/holds?item_id={item_id}", headers=sup.headers)
    assert [h["id"] for h in listed.json()] == [hold_id]
    intruder = make_actor(db_session, role="supervisor")
    assert (
        ev_client.delete(f"/api/v1/evidence/holds/{hold_id}", headers=intruder.headers).status_code
        == 404
    )
    r = ev_client.delete(f"/api/v1/evidence/holds/{hold_id}", headers=sup.headers)
    assert r.status_code == 200 and r.json()["released_at"]
    bad = ev_client.post(
        "/api/v1/evidence/holds",
        headers=sup.headers,
        json={"item_id": item_id, "kind": "whim", "reason": "x"},
    )
    assert bad.status_code == 422
