"""Admin pages: role checks, forms with errors beside fields, show-once secrets, escaping."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy.orm import Session

from takedown.accounts import repository, service
from takedown.kit.errors import Unauthorized
from tests.factories import make_agency, make_user
from tests.web.conftest import browser_login

XSS_NAME = '<script>alert("agency")</script>'
XSS_CONTACT = '"><img src=x onerror=alert(1)>'


def _rows(page: str, testid: str) -> int:
    return page.count(f'data-testid="{testid}"')


@pytest.mark.parametrize(
    "path", ["/admin/agencies", "/admin/users", "/admin/roles", "/admin/audit"]
)
def test_analysts_get_403_on_admin_pages(
    client: TestClient, db_session: Session, path: str
) -> None:
    user = make_user(db_session, role="analyst")
    browser_login(client, user.email)
    r = client.get(path)
    assert r.status_code == 403
    assert "Not allowed" in r.text
    home = client.get("/")
    assert 'href="/admin/agencies"' not in home.text and 'href="/admin/audit"' not in home.text
    assert 'href="/account/tokens"' in home.text


def test_analysts_cannot_post_admin_forms(client: TestClient, db_session: Session) -> None:
    user = make_user(db_session, role="analyst")
    csrf = browser_login(client, user.email)
    r = client.post(
        "/admin/agencies",
        data={"csrf_token": csrf, "name": "Sneaky", "country": "FR", "kind": "national_iru"},
    )
    assert r.status_code == 403
    assert repository.agency_by_name(db_session, "Sneaky") is None


def test_supervisors_see_only_their_agencys_users(client: TestClient, db_session: Session) -> None:
    mine, other = make_agency(db_session), make_agency(db_session)
    sup = make_user(db_session, mine, role="supervisor")
    colleague = make_user(db_session, mine)
    stranger = make_user(db_session, other)
    browser_login(client, sup.email)
    page = client.get("/admin/users")
    assert page.status_code == 200
    assert colleague.email in page.text and stranger.email not in page.text
    assert 'action="/admin/users"' not in page.text  # no create form for supervisors
    assert client.get("/admin/agencies").status_code == 403


def test_post_without_the_session_csrf_token_is_refused(
    client: TestClient, db_session: Session
) -> None:
    admin = make_user(db_session, role="admin")
    browser_login(client, admin.email)
    data = {"name": "No CSRF", "country": "FR", "kind": "national_iru"}
    assert client.post("/admin/agencies", data=data).status_code == 403
    bad = client.post("/admin/agencies", data={**data, "csrf_token": "nope"})
    assert bad.status_code == 403
    assert repository.agency_by_name(db_session, "No CSRF") is None


def test_agency_form_errors_sit_beside_their_field(client: TestClient, db_session: Session) -> None:
    admin = make_user(db_session, role="admin", operator=True)
    csrf = browser_login(client, admin.email)
    r = client.post(
        "/admin/agencies",
        data={"csrf_token": csrf, "name": "IRU Beta", "country": "France", "kind": "national_iru"},
    )
    assert r.status_code == 422
    assert re.search(
        r'id="f-country"[^>]*aria-describedby="f-country-hint f-country-error"', r.text
    )
    assert 'id="f-country-error"' in r.text and 'aria-invalid="true"' in r.text
    assert 'value="IRU Beta"' in r.text  # what was typed is kept
    make_agency(db_session, name="Taken")
    dup = client.post(
        "/admin/agencies",
        data={"csrf_token": csrf, "name": "Taken", "country": "FR", "kind": "national_iru"},
    )
    assert dup.status_code == 422 and 'id="f-name-error"' in dup.text
    plat = client.post(
        "/admin/agencies",
        data={"csrf_token": csrf, "name": "VH", "country": "IE", "kind": "platform"},
    )
    assert plat.status_code == 422 and 'id="f-platform_slug-error"' in plat.text
    ok = client.post(
        "/admin/agencies",
        data={"csrf_token": csrf, "name": "IRU Beta", "country": "fr", "kind": "national_iru"},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    listing = client.get(ok.headers["location"])
    assert "Agency “IRU Beta” added." in listing.text
    assert repository.agency_by_name(db_session, "IRU Beta") is not None
    assert "added." not in client.get("/admin/agencies").text  # a notice shows once


def test_agency_country_is_chosen_from_the_iso_list_and_checked_on_the_server(
    client: TestClient, db_session: Session
) -> None:
    """A two-letter text box cut "Ireland" to "IR" (Iran); a select cannot mis-enter."""
    admin = make_user(db_session, role="admin", operator=True)
    csrf = browser_login(client, admin.email)
    form = client.get("/admin/agencies").text
    select = re.search(r'<select id="f-country" name="country"[^>]*>(.*?)</select>', form, re.S)
    assert select is not None and 'maxlength="2"' not in form
    assert '<option value="">Choose a country</option>' in select.group(1)
    assert '<option value="IE">Ireland (IE)</option>' in select.group(1)
    assert '<option value="EU">European Union (EU)</option>' in select.group(1)
    assert select.group(1).count("<option") == 251  # 249 ISO 3166-1 codes, EU, the blank
    for bad in ("Ireland", "XX", ""):
        r = client.post(
            "/admin/agencies",
            data={"csrf_token": csrf, "name": "IRU Gamma", "country": bad, "kind": "national_iru"},
        )
        assert r.status_code == 422, bad
        error = re.search(r'id="f-country-error"[^>]*>.*?</span>(.*?)</p>', r.text, re.S)
        assert error is not None and ("ISO 3166-1" in error.group(1) or "Choose" in error.group(1))
        assert 'id="f-name-error"' not in r.text
        assert repository.agency_by_name(db_session, "IRU Gamma") is None
    ok = client.post(
        "/admin/agencies",
        data={"csrf_token": csrf, "name": "IRU Gamma", "country": "IE", "kind": "national_iru"},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    agency = repository.agency_by_name(db_session, "IRU Gamma")
    assert agency is not None and agency.country == "IE"


def test_xss_in_agency_name_and_contact_point_renders_inert(
    client: TestClient, db_session: Session
) -> None:
    admin = make_user(db_session, role="admin", operator=True)
    csrf = browser_login(client, admin.email)
    r = client.post(
        "/admin/agencies",
        data={
            "csrf_token": csrf,
            "name": XSS_NAME,
            "country": "FR",
            "kind": "national_iru",
            "contact_point": XSS_CONTACT,
        },
    )
    assert r.status_code == 200  # followed the redirect; the notice repeats the name
    hostile = repository.agency_by_name(db_session, XSS_NAME)
    assert hostile is not None
    member = make_user(db_session, hostile, role="supervisor")
    pages = [r.text, client.get("/admin/agencies").text, client.get("/admin/users").text]
    pages.append(client.get("/admin/audit").text)
    browser_login(client, member.email)  # the hostile name is now in the shell's header
    pages.append(client.get("/").text)
    for text in pages:
        assert XSS_NAME not in text and XSS_CONTACT not in text
        assert "<img src=x" not in text and "<script>alert" not in text
    assert str(escape(XSS_NAME)) in pages[1]
    assert str(escape(XSS_NAME)) in pages[-1]


def test_user_form_and_totp_secret_shown_once(client: TestClient, db_session: Session) -> None:
    admin = make_user(db_session, role="admin", operator=True)
    agency = make_agency(db_session)
    csrf = browser_login(client, admin.email)
    short = client.post(
        "/admin/users",
        data={
            "csrf_token": csrf,
            "email": "a@b.example",
            "agency_id": str(agency.id),
            "role": "analyst",
            "password": "short",
        },
    )
    assert short.status_code == 422 and 'id="f-password-error"' in short.text
    liaison = client.post(
        "/admin/users",
        data={
            "csrf_token": csrf,
            "email": "l@b.example",
            "agency_id": str(agency.id),
            "role": "liaison",
            "password": "a long enough password",
        },
    )
    assert liaison.status_code == 422 and 'id="f-role-error"' in liaison.text
    r = client.post(
        "/admin/users",
        data={
            "csrf_token": csrf,
            "email": "new@b.example",
            "agency_id": str(agency.id),
            "role": "analyst",
            "password": "a long enough password",
            "totp": "1",
        },
    )
    assert r.status_code == 201
    user = repository.user_by_email(db_session, "new@b.example")
    assert user is not None and user.totp_secret
    assert user.totp_secret in r.text
    again = client.get("/admin/users")
    assert user.email in again.text and user.totp_secret not in again.text


def test_tokens_are_shown_once_and_can_be_revoked(client: TestClient, db_session: Session) -> None:
    user, other = make_user(db_session), make_user(db_session)
    csrf = browser_login(client, user.email)
    bad = client.post("/account/tokens", data={"csrf_token": csrf, "name": ""})
    assert bad.status_code == 422 and 'id="f-name-error"' in bad.text
    r = client.post(
        "/account/tokens",
        data={
            "csrf_token": csrf,
            "name": "intake script",
            "scopes": ["items:read"],
            "expires_in_days": "30",
        },
    )
    assert r.status_code == 201
    token = re.search(r'id="new-token" class="secret">(tdk_[^<]+)<', r.text)
    assert token
    raw = token.group(1)
    assert service.authenticate_token(db_session, raw).has_scope("items:read")
    listing = client.get("/account/tokens")
    assert raw not in listing.text and "intake script" in listing.text
    row = repository.tokens_of_user(db_session, user.id)[0]
    foreign = service.create_token(db_session, service.SYSTEM, user_id=other.id, name="theirs")
    nope = client.post(f"/account/tokens/{foreign.row.id}/revoke", data={"csrf_token": csrf})
    assert nope.status_code == 404
    done = client.post(f"/account/tokens/{row.id}/revoke", data={"csrf_token": csrf})
    assert done.status_code == 200 and "revoked" in done.text
    db_session.expire_all()  # the revoke happened in the request's session
    with pytest.raises(Unauthorized):
        service.authenticate_token(db_session, raw)


def test_pagination_stays_in_bounds(client: TestClient, db_session: Session) -> None:
    admin = make_user(db_session, role="admin")
    for i in range(60):
        make_agency(db_session, name=f"Paged agency {i:02d}")
    browser_login(client, admin.email)
    total = repository.list_agencies(db_session, limit=1, offset=0)[1]
    first = client.get("/admin/agencies")
    assert _rows(first.text, "agency-row") == 50
    assert f"Showing 1–50 of {total}" in first.text
    last_page = -(-total // 25)
    beyond = client.get("/admin/agencies?page=999&per_page=25")
    assert beyond.status_code == 200
    assert _rows(beyond.text, "agency-row") == total - (last_page - 1) * 25
    assert f'aria-current="page">{last_page}<' in beyond.text
    for junk in ("page=abc", "page=-5", "per_page=100000", "per_page=7", "page=0"):
        r = client.get(f"/admin/agencies?{junk}")
        assert r.status_code == 200, junk
        assert 1 <= _rows(r.text, "agency-row") <= 50
