"""The shell: navigation registry, HTML errors vs problem+json, htmx behaviour, CSP hygiene."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

import takedown.accounts.views  # noqa: F401  (registers the admin links, as the app does)
from takedown.accounts.models import Role
from takedown.accounts.principal import Principal
from takedown.web import nav
from takedown.web.pagination import Pager
from takedown.web.progress import ProgressState
from takedown.web.templating import env
from tests.factories import make_user
from tests.web.conftest import browser_login

ANALYST = Principal(user_id=1, agency_id=1, role=Role.ANALYST, via="session")
ADMIN = Principal(user_id=2, agency_id=1, role=Role.ADMIN, via="session")


def test_nav_registry_checks_and_filters_by_role() -> None:
    nav.register_nav("Test queue", "/test-queue", roles=(Role.ANALYST,), order=5)
    nav.register_nav("Test queue", "/test-queue", roles=(Role.ANALYST,), order=5)  # idempotent
    with pytest.raises(ValueError, match="already registered"):
        nav.register_nav("Other", "/test-queue")
    with pytest.raises(ValueError, match="already used"):
        nav.register_nav("Test queue", "/test-queue-2", order=5)
    with pytest.raises(ValueError, match="section"):
        nav.register_nav("X", "/x", section="nowhere")
    sections = nav.nav_for(ANALYST, "/test-queue/42")
    work = next(s for s in sections if s.key == "work")
    current = [link.path for link in work.links if link.current]
    assert current == ["/test-queue"]
    assert all(s.key != "admin" for s in sections)
    assert any(s.key == "admin" for s in nav.nav_for(ADMIN, "/"))


def test_pager_window_and_hrefs_keep_filters() -> None:
    p = Pager(page=6, per_page=25, total=500, path="/q", params=(("status", "new"), ("page", "6")))
    assert p.pages == 20 and p.offset == 125
    assert p.window() == [1, None, 4, 5, 6, 7, 8, None, 20]
    assert p.href(7) == "/q?status=new&page=7&per_page=25"
    assert Pager(1, 50, 0, "/q").window() == [1]


def test_progress_component_polls_until_finished() -> None:
    tpl = env.get_template("web/_progress.html")
    running = tpl.render(
        state=ProgressState("imp", "/import/7/progress", "Importing", 40, 200),
        csrf_token=None,
    )
    assert 'hx-get="/import/7/progress"' in running and 'hx-trigger="every 1s"' in running
    assert 'value="40"' in running and "(20%)" in running
    done = tpl.render(
        state=ProgressState(
            "imp", "/import/7/progress", "Importing", 200, 200, finished=True, result_url="/r"
        ),
        csrf_token=None,
    )
    assert "hx-get" not in done and "Finished." in done and 'href="/r"' in done


def test_unknown_pages_get_an_html_404_and_the_api_keeps_problem_json(
    client: TestClient,
) -> None:
    page = client.get("/no/such/page")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    api = client.get("/api/v1/no/such/thing")
    assert api.status_code == 404
    assert api.headers["content-type"].startswith("application/problem+json")


def test_the_404_page_knows_a_logged_in_user(client: TestClient, db_session: Session) -> None:
    """An unknown address raises before any dependency runs; the page still recognises
    the session, so it offers the start page and the shell, not "Log in" (#13.17)."""
    anonymous = client.get("/no/such/page")
    assert 'href="/login">Log in' in anonymous.text
    user = make_user(db_session, role="analyst")
    browser_login(client, user.email)
    page = client.get("/no/such/page")
    assert page.status_code == 404
    assert "Back to the start page" in page.text and 'href="/login">Log in' not in page.text
    assert 'data-testid="user-role"' in page.text  # the shell's header, as on any page


def test_favicon_answers_without_a_login_and_every_page_links_it(
    client: TestClient, db_session: Session
) -> None:
    ico = client.get("/favicon.ico", follow_redirects=False)
    assert ico.status_code == 308 and ico.headers["location"] == "/static/favicon.svg"
    svg = client.get("/favicon.ico")  # nobody logged in: no redirect to /login
    assert svg.status_code == 200 and svg.url.path == "/static/favicon.svg"
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.text.lstrip().startswith("<svg") and "<script" not in svg.text
    assert "script-src 'self'" in ico.headers["content-security-policy"]
    link = '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">'
    assert link in client.get("/login").text
    browser_login(client, make_user(db_session, role="analyst").email)
    assert link in client.get("/").text
    assert link in client.get("/no/such/page").text  # the error pages use the shell too


def test_htmx_requests_get_fragments_and_login_redirects(
    client: TestClient, db_session: Session
) -> None:
    hx = {"HX-Request": "true", "HX-Current-URL": "http://testserver/admin/users?page=2"}
    anon = client.get("/admin/users", headers=hx, follow_redirects=False)
    assert anon.status_code == 204
    assert anon.headers["hx-redirect"] == "/login?next=/admin/users%3Fpage%3D2"
    user = make_user(db_session, role="analyst")
    browser_login(client, user.email)
    denied = client.get("/admin/users", headers=hx)
    assert denied.status_code == 403
    assert denied.headers["hx-retarget"] == "#flash"
    assert "<html" not in denied.text and "notice-error" in denied.text


def test_pages_have_csp_and_no_inline_script_style_or_handlers(
    client: TestClient, db_session: Session
) -> None:
    admin = make_user(db_session, role="admin")
    login_page = client.get("/login")
    browser_login(client, admin.email)
    pages = [login_page] + [
        client.get(p)
        for p in (
            "/",
            "/admin/agencies",
            "/admin/users",
            "/admin/roles",
            "/admin/audit",
            "/account",
            "/account/tokens",
            "/admin/audit/chain",
        )
    ]
    for r in pages:
        assert r.status_code == 200, r.url
        assert "script-src 'self'" in r.headers["content-security-policy"]
        assert "unsafe-inline" not in r.headers["content-security-policy"]
        for tag in re.findall(r"<script\b[^>]*>", r.text):
            assert "src=" in tag, tag
        assert not re.search(r"<style\b", r.text)
        assert not re.search(r"\sstyle=", r.text)
        assert not re.search(r"\son[a-z]+=", r.text), r.url
        assert "cdn" not in r.text.lower()
        assert '<script src="/static/vendor/htmx.min.js"' in r.text


def test_every_form_carries_a_csrf_token(client: TestClient, db_session: Session) -> None:
    admin = make_user(db_session, role="admin")
    browser_login(client, admin.email)
    for path in ("/", "/admin/agencies", "/admin/users", "/account/tokens", "/login"):
        text = client.get(path).text
        for form in re.findall(r"<form\b[^>]*>.*?</form>", text, flags=re.S):
            if 'method="get"' in form:
                continue
            assert re.search(r'name="csrf_token" value="[^"]+"', form), (path, form[:200])
