"""The change-password page, must_change_password enforced, and admin user actions on the web."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from takedown.accounts import repository
from tests.factories import PASSWORD, make_agency, make_user
from tests.web.conftest import browser_login, csrf_from

NEW = "an entirely new passphrase"


def _change(client: TestClient, csrf: str | None, current: str, new: str, repeat: str):  # type: ignore[no-untyped-def]
    data = {"current_password": current, "new_password": new, "repeat_password": repeat}
    if csrf is not None:
        data["csrf_token"] = csrf
    return client.post("/account/password", data=data, follow_redirects=False)


def _login_forced(client: TestClient, email: str) -> str:
    """Log in a user who must change their password; returns the page's CSRF token."""
    client.cookies.clear()
    page = client.get("/login")
    r = client.post("/login", data={"email": email, "password": PASSWORD, "totp": "",
                                    "csrf_token": csrf_from(page.text), "next": "/"},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    form = client.get("/account/password")
    assert form.status_code == 200
    return csrf_from(form.text)


def test_must_change_password_redirects_until_changed(
    client: TestClient, db_session: Session
) -> None:
    user = make_user(db_session)
    user.must_change_password = True
    db_session.commit()
    csrf = _login_forced(client, user.email)
    for path in ("/", "/account", "/referrals"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/account/password", path
    r = client.get("/", headers={"HX-Request": "true"}, follow_redirects=False)
    assert r.headers.get("HX-Redirect") == "/account/password"
    api = client.get("/api/v1/me")
    assert api.status_code == 403
    assert api.headers["content-type"].startswith("application/problem+json")
    assert api.json()["type"].endswith("/password-change-required")
    assert "Choose your own password" in client.get("/account/password").text

    r = _change(client, csrf, "nope", NEW, NEW)
    assert r.status_code == 422 and 'id="f-current_password-error"' in r.text
    r = _change(client, csrf, PASSWORD, NEW, "other")
    assert r.status_code == 422 and 'id="f-repeat_password-error"' in r.text
    r = _change(client, csrf, PASSWORD, "short", "short")
    assert r.status_code == 422 and 'id="f-new_password-error"' in r.text
    r = _change(client, None, PASSWORD, NEW, NEW)
    assert r.status_code == 403  # no CSRF token
    r = _change(client, csrf, PASSWORD, NEW, NEW)
    assert r.status_code == 303 and r.headers["location"] == "/"
    assert client.get("/", follow_redirects=False).status_code == 200
    assert client.get("/api/v1/me").status_code == 200
    db_session.expire_all()
    assert repository.user_by_email(db_session, user.email).must_change_password is False  # type: ignore[union-attr]
    browser_login(client, user.email, NEW)


def test_admin_changes_role_and_deactivates(client: TestClient, db_session: Session) -> None:
    agency = make_agency(db_session)
    admin = make_user(db_session, agency, role="admin")
    target = make_user(db_session, agency)
    db_session.commit()
    csrf = browser_login(client, admin.email)
    page = client.get("/admin/users")
    assert f'action="/admin/users/{target.id}/role"' in page.text
    assert f'action="/admin/users/{admin.id}/active"' not in page.text  # never yourself
    data = {"csrf_token": csrf, "role": "supervisor"}
    r = client.post(f"/admin/users/{target.id}/role", data=data, follow_redirects=False)
    assert r.status_code == 303
    r = client.post(f"/admin/users/{target.id}/active", data={"csrf_token": csrf, "active": "0"},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    db_session.expire_all()
    row = repository.user_by_id(db_session, target.id)
    assert row is not None and row.role == "supervisor" and row.is_active is False
    assert "(deactivated)" in client.get("/admin/users").text
    r = client.post(f"/admin/users/{admin.id}/active", data={"csrf_token": csrf, "active": "0"})
    assert "cannot deactivate yourself" in r.text
    client.cookies.clear()
    page = client.get("/login")
    r = client.post("/login", data={"email": target.email, "password": PASSWORD, "totp": "",
                                    "csrf_token": csrf_from(page.text), "next": "/"})  # fmt: skip
    assert r.status_code == 401


def test_non_admins_cannot_change_users(client: TestClient, db_session: Session) -> None:
    agency = make_agency(db_session)
    sup = make_user(db_session, agency, role="supervisor")
    target = make_user(db_session, agency)
    db_session.commit()
    csrf = browser_login(client, sup.email)
    for action, data in (("role", {"role": "admin"}), ("active", {"active": "0"})):
        r = client.post(f"/admin/users/{target.id}/{action}", data={"csrf_token": csrf, **data})
        assert r.status_code == 403
    db_session.expire_all()
    row = repository.user_by_id(db_session, target.id)
    assert row is not None and row.role == "analyst" and row.is_active


def test_a_user_who_must_change_may_still_log_out(client: TestClient, db_session: Session) -> None:
    user = make_user(db_session)
    user.must_change_password = True
    db_session.commit()
    csrf = _login_forced(client, user.email)
    assert client.get("/api/v1/me").status_code == 403
    r = client.delete("/api/v1/session", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 204
    assert client.get("/api/v1/me").status_code == 401
