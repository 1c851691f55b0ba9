"""An administrator resets a user's password (web, CLI, API; changed at the next login);
agencies are edited and deactivated (#13.4). Administrators act within their own agency."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from takedown.accounts import admin, service
from takedown.accounts.passwords import verify_password
from takedown.accounts.service import SYSTEM
from takedown.audit.models import AuditEvent
from takedown.kit.errors import Conflict, Forbidden, InvalidInput, Unauthorized
from tests.factories import PASSWORD, make_actor, make_agency, make_user
from tests.test_cli import run
from tests.web.conftest import BROWSER_HEADERS, ensure_web

LOGIN = dict(client_ip="192.0.2.9", max_attempts=50, window_seconds=300, max_age_seconds=3600)
HTML = {"Accept": "text/html"}


@pytest.fixture
def web(app_factory: Any) -> Iterator[TestClient]:
    app = ensure_web(app_factory())
    with TestClient(app, raise_server_exceptions=False, headers=BROWSER_HEADERS) as c:
        yield c


def _login(session: Session, email: str, password: str) -> service.LoginResult:
    return service.login(session, email=email, password=password, totp_code=None, **LOGIN)  # type: ignore[arg-type]


def _actions(session: Session, subject_type: str, subject_id: int) -> list[str]:
    rows = session.query(AuditEvent).filter_by(subject_type=subject_type).all()
    return [e.action for e in rows if e.subject_id == str(subject_id)]


def test_reset_password_forces_a_change_and_ends_sessions(db_session: Session) -> None:
    boss = make_actor(db_session, role="admin")
    user = make_user(db_session, boss.agency)
    old = _login(db_session, user.email, PASSWORD)
    reset = admin.reset_password(db_session, boss.principal, user.id)
    assert len(reset.password) >= 20 and reset.sessions_ended == 1
    assert verify_password(user.password_hash, reset.password)
    assert not verify_password(user.password_hash, PASSWORD)
    assert user.must_change_password is True
    with pytest.raises(Unauthorized):  # the open session ended
        service.authenticate_session(db_session, old.session_token)
    with pytest.raises(Unauthorized):  # the old password is gone
        _login(db_session, user.email, PASSWORD)
    again = _login(db_session, user.email, reset.password)
    assert again.principal.must_change_password is True  # must choose their own now
    assert "user.password_reset" in _actions(db_session, "user", user.id)
    events = db_session.query(AuditEvent).filter_by(action="user.password_reset").all()
    assert all(reset.password not in e.details for e in events)  # never in the audit log


def test_reset_password_rules(db_session: Session) -> None:
    boss = make_actor(db_session, role="admin")
    stranger = make_user(db_session)  # another agency
    with pytest.raises(Forbidden, match="own agency"):
        admin.reset_password(db_session, boss.principal, stranger.id)
    with pytest.raises(Conflict, match="your own password"):
        admin.reset_password(db_session, boss.principal, boss.user.id)
    analyst = make_actor(db_session, boss.agency, role="analyst")
    mate = make_user(db_session, boss.agency)
    with pytest.raises(Forbidden, match="administrator"):
        admin.reset_password(db_session, analyst.principal, mate.id)
    service.set_active(db_session, SYSTEM, mate.id, False)
    with pytest.raises(Conflict, match="deactivated"):
        admin.reset_password(db_session, boss.principal, mate.id)
    assert admin.reset_password(db_session, SYSTEM, stranger.id).user is stranger  # the CLI


def test_edit_an_agency_and_its_rules(db_session: Session) -> None:
    boss = make_actor(db_session, role="admin")
    other = make_agency(db_session, country="DE")
    a = admin.update_agency(
        db_session, boss.principal, boss.agency.id,
        name="  Renamed IRU ", country="be", contact_point="npc@renamed.example",
    )  # fmt: skip
    assert (a.name, a.country, a.contact_point) == ("Renamed IRU", "BE", "npc@renamed.example")
    assert "agency.update" in _actions(db_session, "agency", a.id)
    with pytest.raises(Forbidden, match="own agency"):
        admin.update_agency(db_session, boss.principal, other.id, contact_point="x@y.example")
    with pytest.raises(Conflict, match="already exists"):
        admin.update_agency(db_session, boss.principal, boss.agency.id, name=other.name)
    with pytest.raises(InvalidInput, match="ISO 3166"):
        admin.update_agency(db_session, boss.principal, boss.agency.id, country="XX")
    with pytest.raises(InvalidInput, match="empty"):
        admin.update_agency(db_session, boss.principal, boss.agency.id, name="  ")
    n = len(_actions(db_session, "agency", a.id))
    admin.update_agency(db_session, boss.principal, a.id, name="Renamed IRU")  # no change
    assert len(_actions(db_session, "agency", a.id)) == n


def test_a_deactivated_agency_locks_its_users_out_until_reactivated(db_session: Session) -> None:
    boss = make_actor(db_session, role="admin")
    member = make_actor(db_session, make_agency(db_session))
    web_session = _login(db_session, member.user.email, PASSWORD)
    with pytest.raises(Forbidden, match="instance operator"):  # not an agency's admin
        admin.set_agency_active(db_session, boss.principal, member.agency.id, False)
    admin.set_agency_active(db_session, SYSTEM, member.agency.id, False)
    assert member.agency.is_active is False
    with pytest.raises(Unauthorized, match="deactivated"):
        _login(db_session, member.user.email, PASSWORD)
    with pytest.raises(Unauthorized, match="deactivated"):
        service.authenticate_token(db_session, member.token)
    with pytest.raises(Unauthorized, match="deactivated"):
        service.authenticate_session(db_session, web_session.session_token)
    admin.set_agency_active(db_session, SYSTEM, member.agency.id, True)
    assert service.authenticate_token(db_session, member.token).user_id == member.user.id
    assert _actions(db_session, "agency", member.agency.id)[-2:] == [
        "agency.deactivate",
        "agency.activate",
    ]


def test_api_reset_password_and_patch_agency(client: TestClient, db_session: Session) -> None:
    boss = make_actor(db_session, role="admin")
    user = make_user(db_session, boss.agency)
    stranger = make_user(db_session)
    db_session.commit()
    r = client.post(f"/api/v1/users/{user.id}/password-reset", headers=boss.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["user"]["email"] == user.email and len(body["password"]) >= 20
    r = client.post("/api/v1/session", json={"email": user.email, "password": body["password"]})
    assert r.status_code == 200
    r = client.get("/api/v1/items")  # with that session: choose a new password first
    assert r.status_code in (401, 403) and "choose a new password first" in r.text
    client.cookies.clear()
    r = client.post(f"/api/v1/users/{stranger.id}/password-reset", headers=boss.headers)
    assert r.status_code == 403
    analyst = make_actor(db_session, boss.agency)
    db_session.commit()
    r = client.post(f"/api/v1/users/{user.id}/password-reset", headers=analyst.headers)
    assert r.status_code == 403

    r = client.patch(
        f"/api/v1/agencies/{boss.agency.id}",
        json={"contact_point": "npc@api.example"},
        headers=boss.headers,
    )
    assert r.status_code == 200 and r.json()["contact_point"] == "npc@api.example"
    assert r.json()["is_active"] is True
    r = client.patch(
        f"/api/v1/agencies/{stranger.agency_id}", json={"is_active": False}, headers=boss.headers
    )
    assert r.status_code == 403
    r = client.patch(
        f"/api/v1/agencies/{boss.agency.id}", json={"country": "XX"}, headers=boss.headers
    )
    assert r.status_code == 422 and "ISO 3166" in r.text


def test_web_reset_password_and_edit_agency(web: TestClient, db_session: Session) -> None:
    boss = make_actor(db_session, role="admin")
    user = make_user(db_session, boss.agency)
    stranger = make_user(db_session)
    db_session.commit()
    h = {**HTML, **boss.headers}
    page = web.get("/admin/users", headers=h)
    assert f'action="/admin/users/{user.id}/password-reset"' in page.text
    assert f'action="/admin/users/{boss.user.id}/password-reset"' not in page.text  # not self
    assert f'action="/admin/users/{stranger.id}/password-reset"' not in page.text
    r = web.post(f"/admin/users/{user.id}/password-reset", headers=h)
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    m = re.search(r'<code id="reset-secret" class="secret">([^<]+)</code>', r.text)
    assert m and "only once" in r.text
    db_session.expire_all()
    assert verify_password(service.get_user(db_session, user.id).password_hash, m.group(1))
    r = web.post(f"/admin/users/{stranger.id}/password-reset", headers=h, follow_redirects=False)
    assert r.status_code == 403 and "own agency" in r.text
    r = web.post(f"/admin/users/{boss.user.id}/password-reset", headers=h, follow_redirects=False)
    assert r.status_code == 303  # yourself: said on the users page
    assert "your own password" in web.get(r.headers["location"], headers=h).text

    page = web.get(f"/admin/agencies/{boss.agency.id}", headers=h)
    assert page.status_code == 200 and 'data-testid="agency-form"' in page.text
    assert "/active" not in page.text  # an agency's admin does not deactivate
    r = web.post(
        f"/admin/agencies/{boss.agency.id}",
        data={"name": boss.agency.name, "country": "NL", "contact_point": "npc@web.example"},
        headers=h,
        follow_redirects=False,
    )
    assert r.status_code == 303
    db_session.expire_all()
    assert service.get_agency(db_session, boss.agency.id).contact_point == "npc@web.example"
    r = web.post(
        f"/admin/agencies/{boss.agency.id}",
        data={"name": "", "country": "NL", "contact_point": ""},
        headers=h,
    )
    assert r.status_code == 422 and "agency name is empty" in r.text
    page = web.get(f"/admin/agencies/{stranger.agency_id}", headers=h)
    assert 'data-testid="agency-form"' not in page.text
    r = web.post(
        f"/admin/agencies/{stranger.agency_id}",
        data={"name": "Taken over", "country": "NL", "contact_point": ""},
        headers=h,
    )
    assert r.status_code == 403
    r = web.post(
        f"/admin/agencies/{stranger.agency_id}/active", data={"active": "0"}, headers=h,
        follow_redirects=False,
    )  # fmt: skip
    assert r.status_code == 403 and "instance operator" in r.text
    db_session.expire_all()
    assert service.get_agency(db_session, stranger.agency_id).is_active is True


def test_cli_reset_password_edit_deactivate_activate(tmp_path: Path) -> None:
    assert run(tmp_path, "db", "upgrade").returncode == 0
    assert run(tmp_path, "agency", "add", "CLI IRU", "--country", "FR").returncode == 0
    r = run(tmp_path, "user", "add", "cli.reset@example.invalid", "--agency", "CLI IRU",
            "--password", "x" * 20)  # fmt: skip
    assert r.returncode == 0, r.stderr
    r = run(tmp_path, "user", "reset-password", "cli.reset@example.invalid")
    assert r.returncode == 0, r.stderr
    m = re.search(r"new password \(shown once[^)]*\): (\S+)", r.stdout)
    assert m, r.stdout
    r = run(tmp_path, "agency", "edit", "CLI IRU", "--contact", "npc@cli.example", "--country",
            "be")  # fmt: skip
    assert r.returncode == 0 and "npc@cli.example" in r.stdout and "(BE)" in r.stdout
    r = run(tmp_path, "agency", "edit", "CLI IRU", "--country", "XX")
    assert r.returncode == 1 and "ISO 3166" in r.stderr
    r = run(tmp_path, "agency", "deactivate", "CLI IRU")
    assert r.returncode == 0 and "deactivated" in r.stdout
    r = run(tmp_path, "agency", "activate", "1")
    assert r.returncode == 0 and "active" in r.stdout
    r = run(tmp_path, "agency", "deactivate", "Nobody")
    assert r.returncode == 1 and "does not exist" in r.stderr
    assert "intact" in run(tmp_path, "audit", "verify").stdout
