"""Login, logout, CSRF and the login rate limit, through the HTML forms."""

from __future__ import annotations

import pyotp
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from takedown.accounts import service
from takedown.accounts.service import SYSTEM
from tests.factories import PASSWORD, make_agency, make_user
from tests.web.conftest import browser_login, csrf_from


def _post_login(client: TestClient, email: str, password: str = PASSWORD, **extra: str):  # type: ignore[no-untyped-def]
    page = client.get("/login")
    data = {"email": email, "password": password, "csrf_token": csrf_from(page.text), **extra}
    return client.post("/login", data=data, follow_redirects=False)


def test_pages_send_anonymous_browsers_to_login(client: TestClient) -> None:
    r = client.get("/admin/users?page=2", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=/admin/users%3Fpage%3D2"
    r = client.get("/", follow_redirects=False)
    assert r.headers["location"] == "/login"
    # The API keeps answering problem+json.
    api = client.get("/api/v1/me")
    assert api.status_code == 401
    assert api.headers["content-type"].startswith("application/problem+json")
    # A script (no text/html in Accept) gets a plain 401, not a redirect.
    script = client.get("/admin/users", headers={"Accept": "*/*"}, follow_redirects=False)
    assert script.status_code == 401 and "Log in" in script.text


def test_login_sets_a_strict_httponly_cookie_and_shows_agency_and_role(
    client: TestClient, db_session: Session
) -> None:
    agency = make_agency(db_session, name="IRU Alpha")
    user = make_user(db_session, agency, role="supervisor")
    r = _post_login(client, user.email, next="/admin/users")
    assert r.status_code == 303 and r.headers["location"] == "/admin/users"
    cookie = r.headers["set-cookie"].lower()
    assert "takedown_session=" in cookie
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
    assert "secure" not in cookie.replace("takedown_session", "")
    page = client.get("/")
    assert page.status_code == 200
    assert "IRU Alpha" in page.text and "Supervisor" in page.text
    assert '<meta name="csrf-token"' in page.text


def test_session_cookie_is_secure_over_https(web_client_factory, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    client = web_client_factory(secure_cookies=True)
    client.base_url = client.base_url.copy_with(scheme="https")  # Secure cookies need HTTPS
    user = make_user(db_session)
    r = _post_login(client, user.email)
    assert r.status_code == 303
    session_cookie = [
        h for h in r.headers.get_list("set-cookie") if h.startswith("takedown_session=")
    ]
    assert session_cookie and "Secure" in session_cookie[0]


def test_login_refuses_a_wrong_or_missing_csrf_token(
    client: TestClient, db_session: Session
) -> None:
    user = make_user(db_session)
    client.get("/login")
    r = client.post(
        "/login",
        data={"email": user.email, "password": PASSWORD, "csrf_token": "1.forged"},
        follow_redirects=False,
    )
    assert r.status_code == 403
    assert "takedown_session" not in r.headers.get("set-cookie", "")
    assert "This form has expired" in r.text
    # A token from another browser (another cookie) does not work either.
    other = TestClient(client.app, raise_server_exceptions=False)
    token = csrf_from(other.get("/login").text)
    client.cookies.delete("takedown_login_csrf", path="/login")
    client.cookies.set("takedown_login_csrf", "someone-elses-nonce", path="/login")
    r = client.post(
        "/login",
        data={"email": user.email, "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 403


def test_wrong_password_shows_one_message_and_no_session(
    client: TestClient, db_session: Session
) -> None:
    user = make_user(db_session)
    r = _post_login(client, user.email, "wrong password!!")
    assert r.status_code == 401
    assert "Wrong e-mail, password or one-time code" in r.text
    assert "takedown_session" not in r.headers.get("set-cookie", "")
    assert f'value="{user.email}"' in r.text  # the e-mail is kept, the password is not
    empty = _post_login(client, "")
    assert empty.status_code == 422
    assert 'id="f-email-error"' in empty.text and 'aria-describedby="f-email-error"' in empty.text


def test_rate_limit_is_shown_to_the_user(web_client_factory, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    client = web_client_factory(login_max_attempts=2)
    user = make_user(db_session)
    for _ in range(2):
        assert _post_login(client, user.email, "wrong password!!").status_code == 401
    r = _post_login(client, user.email)  # even the right password now waits
    assert r.status_code == 429
    assert "too many failed logins" in r.text
    assert int(r.headers["retry-after"]) > 0


def test_totp_is_required_when_enabled(client: TestClient, db_session: Session) -> None:
    user = make_user(db_session)
    secret = service.enable_totp(db_session, SYSTEM, user.id)
    assert _post_login(client, user.email).status_code == 401
    assert _post_login(client, user.email, totp="000000").status_code in (401,)
    r = _post_login(client, user.email, totp=pyotp.TOTP(secret).now())
    assert r.status_code == 303


def test_next_never_leaves_the_site(client: TestClient, db_session: Session) -> None:
    user = make_user(db_session)
    r = _post_login(client, user.email, next="//evil.example/x")
    assert r.status_code == 303 and r.headers["location"] == "/"
    page = client.get("/login?next=https://evil.example/")
    assert page.status_code in (200, 303)
    assert "evil.example" not in page.headers.get("location", "")


def test_logout_needs_csrf_and_ends_the_session(client: TestClient, db_session: Session) -> None:
    user = make_user(db_session)
    csrf = browser_login(client, user.email)
    refused = client.post("/logout", follow_redirects=False)
    assert refused.status_code == 403
    assert client.get("/", follow_redirects=False).status_code == 200
    r = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    notice = client.get("/login")
    assert "You have logged out." in notice.text
    assert client.get("/", follow_redirects=False).status_code == 303


def test_an_old_session_cookie_is_useless_after_logout(
    client: TestClient, db_session: Session
) -> None:
    user = make_user(db_session)
    csrf = browser_login(client, user.email)
    stolen = client.cookies.get("takedown_session")
    assert stolen
    client.post("/logout", data={"csrf_token": csrf})
    client.cookies.set("takedown_session", stolen)
    assert client.get("/account", follow_redirects=False).status_code == 303
