"""The platform pages: the registry for every signed-in user, the edit form for admins."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy.orm import Session

from takedown.accounts.models import User
from takedown.audit import repository as audit_repository
from takedown.platforms import repository, service
from takedown.platforms.models import Platform
from takedown.platforms.seed import SEED
from tests.factories import make_agency, make_user
from tests.web.conftest import BROWSER_HEADERS, browser_login, csrf_from

XSS_NAME = '<script>alert("platform")</script>'
XSS_CONTACT = 'https://tco.example.invalid/"><svg/onload=alert(1)>'
XSS_REP = '"><img src=x onerror=alert(2)>'


@pytest.fixture
def client(app_factory) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    """A browser: it sends the Accept header pages answer with a login redirect."""
    with TestClient(app_factory(), raise_server_exceptions=False, headers=BROWSER_HEADERS) as c:
        yield c


def _rows(page: str) -> int:
    return page.count('data-testid="platform-row"')


def _user(session: Session, role: str) -> User:
    if role == "operator":  # the instance operator: an administrator with the flag
        return make_user(session, role="admin", operator=True)
    if role == "liaison":  # a platform's liaison belongs to an agency of kind platform
        agency = make_agency(session, kind="platform", platform_slug="x")
        return make_user(session, agency, role=role)
    return make_user(session, role=role)


def _form(platform: Platform, csrf: str, **changes: str) -> dict[str, str]:
    data = {
        "csrf_token": csrf,
        "name": platform.name,
        "kind": platform.kind,
        "country": platform.country or "",
        "domains": "\n".join(platform.domains),
        "tco_contact_point": platform.tco_contact_point or "",
        "legal_representative": platform.legal_representative or "",
        "delivery_channel": platform.delivery_channel,
        "api_endpoint": platform.api_endpoint or "",
        "notes": platform.notes,
    }
    data.update(changes)
    return data


def _platform_events(session: Session, slug: str) -> list[dict[str, object]]:
    rows, _ = audit_repository.list_events(
        session,
        agency_id=None,
        action="platform.update",
        subject_type="platform",
        subject_id=slug,
        limit=10,
        offset=0,
    )
    return [json.loads(e.details) for e in rows]


@pytest.mark.parametrize("role", ["analyst", "liaison", "supervisor", "admin", "operator"])
def test_every_signed_in_role_reads_the_registry(
    client: TestClient, db_session: Session, role: str
) -> None:
    user = _user(db_session, role)
    browser_login(client, user.email)
    r = client.get("/admin/platforms")
    assert r.status_code == 200
    assert _rows(r.text) == len(SEED)
    assert "X (Twitter)" in r.text and '<code class="small">x</code>' in r.text
    assert "x.com, twitter.com" in r.text
    # The link is in the Administration section, which analysts and liaisons do not get.
    assert ('href="/admin/platforms"' in r.text) is (role in ("supervisor", "admin", "operator"))
    # Only the instance operator edits the registry every agency's orders go by.
    edit_link = 'href="/admin/platforms/x"'
    assert (edit_link in r.text) is (role == "operator")
    assert ('href="/admin/platforms/new"' in r.text) is (role == "operator")


def test_list_is_paginated(client: TestClient, db_session: Session) -> None:
    for n in range(40):
        repository.add(
            db_session,
            Platform(slug=f"zz-test-{n:02d}", name=f"Test host {n:02d}", kind="website"),
        )
    admin = make_user(db_session, role="admin", operator=True)
    browser_login(client, admin.email)
    total = len(SEED) + 40
    first = client.get("/admin/platforms?per_page=25")
    assert _rows(first.text) == 25
    assert f"Showing 1–25 of {total}" in first.text
    assert 'rel="next"' in first.text
    last = client.get("/admin/platforms?per_page=25&page=99")  # past the end: the last page
    assert _rows(last.text) == total - 50  # three pages of 25
    assert f"Showing 51–{total} of {total}" in last.text
    assert "Test host 39" in last.text and "Test host 39" not in first.text  # ordered by slug


def test_unknown_slug_is_a_404_page(client: TestClient, db_session: Session) -> None:
    admin = make_user(db_session, role="admin", operator=True)
    csrf = browser_login(client, admin.email)
    r = client.get("/admin/platforms/nope")
    assert r.status_code == 404 and "Not found" in r.text
    assert client.post("/admin/platforms/nope", data={"csrf_token": csrf}).status_code == 404


def test_admin_edits_the_tco_contact_point(client: TestClient, db_session: Session) -> None:
    admin = make_user(db_session, role="admin", operator=True)
    browser_login(client, admin.email)
    form = client.get("/admin/platforms/x")
    assert form.status_code == 200
    assert 'id="f-tco_contact_point"' in form.text and 'value="IE"' in form.text
    x = service.get(db_session, "x")
    contact = "tco-orders@x.example.invalid"
    r = client.post(
        "/admin/platforms/x",
        data=_form(x, csrf_from(form.text), tco_contact_point=contact),
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/admin/platforms"
    page = client.get("/admin/platforms")
    assert "Platform “X (Twitter)” saved." in page.text and contact in page.text
    db_session.expire_all()
    x = service.get(db_session, "x")
    assert x.tco_contact_point == contact
    assert x.domains == ["x.com", "twitter.com", "mobile.twitter.com", "t.co"]
    events = _platform_events(db_session, "x")
    assert len(events) == 1
    assert events[0] == {"changed": {"tco_contact_point": {"from": None, "to": contact}}}


def test_admin_clears_and_sets_fields(client: TestClient, db_session: Session) -> None:
    admin = make_user(db_session, role="admin", operator=True)
    csrf = browser_login(client, admin.email)
    x = service.get(db_session, "x")
    r = client.post(
        "/admin/platforms/x",
        data=_form(
            x,
            csrf,
            country="ae",
            domains="x.com, T.CO\nx.com",
            legal_representative="Example Representative SRL, Brussels",
            delivery_channel="api",
            api_endpoint="https://intake.x.example.invalid/tco",
        ),
    )
    assert r.status_code == 200
    db_session.expire_all()
    x = service.get(db_session, "x")
    assert x.country == "AE" and x.domains == ["x.com", "t.co"]
    assert x.delivery_channel == "api" and x.api_endpoint == "https://intake.x.example.invalid/tco"
    r = client.post("/admin/platforms/x", data=_form(x, csrf, country="", legal_representative=""))
    assert r.status_code == 200
    db_session.expire_all()
    x = service.get(db_session, "x")
    assert x.country is None and x.legal_representative is None


def test_invalid_input_shows_each_error_beside_its_field(
    client: TestClient, db_session: Session
) -> None:
    admin = make_user(db_session, role="admin", operator=True)
    csrf = browser_login(client, admin.email)
    x = service.get(db_session, "x")
    r = client.post(
        "/admin/platforms/x",
        data=_form(
            x,
            csrf,
            name="",
            country="Ireland",
            tco_contact_point="not a contact",
            delivery_channel="fax",
            api_endpoint="ftp://nope",
            domains="x.com\nnot a host!",
        ),
    )
    assert r.status_code == 422
    for field in ("name", "country", "tco_contact_point", "delivery_channel", "api_endpoint"):
        assert f'id="f-{field}-error"' in r.text, field
        assert re.search(rf'id="f-{field}"[^>]*aria-invalid="true"', r.text), field
    assert 'id="f-domains-error"' in r.text
    assert 'role="alert"' in r.text  # the summary
    assert 'value="not a contact"' in r.text  # what the admin typed stays
    # The country is a select of ISO codes (kit.countries, as on the agencies form): a typed
    # "Ireland" cannot arrive from it, and when it does anyway the server says why.
    assert '<select id="f-country" name="country"' in r.text
    assert '<option value="IE">Ireland (IE)</option>' in r.text
    assert 'value="EU"' not in r.text  # a platform is established in a state, not the Union
    assert "Country must be an ISO 3166-1 alpha-2 code" in r.text
    assert "TCO contact point must be an e-mail address or an http(s) URL" in r.text
    assert "tco_contact_point must" not in r.text  # the label, not the API's field name
    db_session.expire_all()
    assert service.get(db_session, "x").country == "IE"
    assert _platform_events(db_session, "x") == []


@pytest.mark.parametrize("role", ["analyst", "supervisor", "liaison"])
def test_non_admins_get_403_on_the_edit_form(
    client: TestClient, db_session: Session, role: str
) -> None:
    user = _user(db_session, role)
    csrf = browser_login(client, user.email)
    assert client.get("/admin/platforms/x").status_code == 403
    x = service.get(db_session, "x")
    r = client.post("/admin/platforms/x", data=_form(x, csrf, country="FR"))
    assert r.status_code == 403 and "Not allowed" in r.text
    db_session.expire_all()
    assert service.get(db_session, "x").country == "IE"


def test_post_without_the_session_csrf_token_is_refused(
    client: TestClient, db_session: Session
) -> None:
    admin = make_user(db_session, role="admin", operator=True)
    browser_login(client, admin.email)
    x = service.get(db_session, "x")
    for token in ("nope", ""):
        r = client.post("/admin/platforms/x", data=_form(x, token, country="FR"))
        assert r.status_code == 403
    db_session.expire_all()
    assert service.get(db_session, "x").country == "IE"


def test_nobody_logged_in_is_sent_to_the_login_page(client: TestClient) -> None:
    r = client.get("/admin/platforms", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")


def test_xss_in_platform_name_and_contacts_renders_inert(
    client: TestClient, db_session: Session
) -> None:
    admin = make_user(db_session, role="admin", operator=True)
    csrf = browser_login(client, admin.email)
    x = service.get(db_session, "x")
    r = client.post(
        "/admin/platforms/x",
        data=_form(
            x,
            csrf,
            name=XSS_NAME,
            tco_contact_point=XSS_CONTACT,
            legal_representative=XSS_REP,
            notes=XSS_REP,
        ),
    )
    assert r.status_code == 200  # followed the redirect; the notice repeats the name
    db_session.expire_all()
    assert service.get(db_session, "x").tco_contact_point == XSS_CONTACT
    pages = [r.text, client.get("/admin/platforms").text, client.get("/admin/platforms/x").text]
    pages.append(client.get("/admin/audit").text)
    for text in pages:
        assert XSS_NAME not in text and XSS_CONTACT not in text and XSS_REP not in text
        assert "<svg/onload" not in text and "<img src=x" not in text
        assert "<script>alert" not in text
    assert str(escape(XSS_NAME)) in pages[1] and str(escape(XSS_CONTACT)) in pages[1]
    assert str(escape(XSS_REP)) in pages[2]


def _new_form(csrf: str, **fields: str) -> dict[str, str]:
    data = {
        "csrf_token": csrf, "slug": "examplevideo", "name": "Example Video", "kind": "video",
        "country": "", "domains": "", "tco_contact_point": "", "legal_representative": "",
        "delivery_channel": "export", "api_endpoint": "", "notes": "",
    }  # fmt: skip
    data.update(fields)
    return data


def test_only_admins_open_the_new_platform_form(client: TestClient, db_session: Session) -> None:
    supervisor = make_user(db_session, role="supervisor")
    csrf = browser_login(client, supervisor.email)
    assert client.get("/admin/platforms/new").status_code == 403
    assert client.post("/admin/platforms/new", data=_new_form(csrf)).status_code == 403
    assert repository.by_slug(db_session, "examplevideo") is None


def test_admin_adds_a_platform_errors_beside_their_fields(
    client: TestClient, db_session: Session
) -> None:
    admin = make_user(db_session, role="admin", operator=True)
    browser_login(client, admin.email)
    form = client.get("/admin/platforms/new")
    assert form.status_code == 200
    assert 'action="/admin/platforms/new"' in form.text and 'id="f-slug"' in form.text
    assert '<option value="export" selected>' in form.text
    csrf = csrf_from(form.text)
    r = client.post(
        "/admin/platforms/new",
        data=_new_form(
            csrf,
            slug="x",
            name="",
            kind="",
            country="Ireland",
            domains="video.example.net\ntwitter.com",
            tco_contact_point="call us",
        ),
    )
    assert r.status_code == 422
    for field in ("slug", "name", "kind", "country", "domains", "tco_contact_point"):
        assert f'id="f-{field}-error"' in r.text, field
        assert re.search(rf'id="f-{field}"[^>]*aria-invalid="true"', r.text), field
    assert "Slug &#39;x&#39;: a platform with this slug already exists" in r.text
    assert "Domains: twitter.com already belongs to the platform &#39;x&#39;" in r.text
    assert "video.example.net\ntwitter.com</textarea>" in r.text  # what was typed stays
    reserved = client.post("/admin/platforms/new", data=_new_form(csrf, slug="new"))
    assert reserved.status_code == 422 and "Slug &#39;new&#39; is reserved" in reserved.text
    assert repository.by_slug(db_session, "examplevideo") is None
    ok = client.post(
        "/admin/platforms/new",
        data=_new_form(
            csrf,
            country="NL",
            domains="video.example.net\nwww.exvid.example",
            tco_contact_point="tco@video.example.net",
        ),
        follow_redirects=False,
    )
    assert ok.status_code == 303 and ok.headers["location"] == "/admin/platforms"
    page = client.get("/admin/platforms")
    assert "Platform “Example Video” added." in page.text
    assert 'href="/admin/platforms/examplevideo"' in page.text
    db_session.expire_all()
    made = service.get(db_session, "examplevideo")
    assert made.country == "NL" and made.domains == ["video.example.net", "www.exvid.example"]
    rows, _ = audit_repository.list_events(
        db_session, agency_id=None, action="platform.create", subject_type="platform",
        subject_id="examplevideo", limit=10, offset=0,
    )  # fmt: skip
    assert len(rows) == 1
    # The edit form of the new platform opens, and a URL on its domain is its item.
    assert client.get("/admin/platforms/examplevideo").status_code == 200
    from takedown.platforms.identity import canonicalize

    assert canonicalize("https://exvid.example/clip/9").platform == "examplevideo"


def test_an_agency_admin_cannot_redirect_every_agencys_orders(
    client: TestClient, db_session: Session
) -> None:
    """The registry is shared: an agency's administrator who could set x's TCO contact point
    would redirect the orders of every agency. Only the instance operator edits it."""
    admin = make_user(db_session, role="admin")
    browser_login(client, admin.email)
    assert client.get("/admin/platforms/x").status_code == 403
    page = client.get("/admin/platforms")
    platform = service.get(db_session, "x")
    before = platform.tco_contact_point
    r = client.post(
        "/admin/platforms/x",
        data=_form(platform, csrf_from(page.text), tco_contact_point="someone@else.example"),
    )
    assert r.status_code == 403 and "instance operator" in r.text
    assert client.get("/admin/platforms/new").status_code == 403
    db_session.expire_all()
    assert service.get(db_session, "x").tco_contact_point == before
    assert _platform_events(db_session, "x") == []
