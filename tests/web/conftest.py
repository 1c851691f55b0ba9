"""Fixtures for the HTML pages: a client with the web UI mounted, and logged-in users.

``browser_login(client, user)`` logs in through the real form (login CSRF and
all) and returns the session's CSRF token for later POSTs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.factories import PASSWORD

CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]*)"')
BROWSER_HEADERS = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def ensure_web(app):  # type: ignore[no-untyped-def]
    """Until create_app() calls web.setup.install itself, mount the UI here (idempotent)."""
    from takedown.web.setup import install

    install(app, app.state.settings)
    return app


@pytest.fixture
def client(app_factory) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    """Like the root ``client``, but it sends a browser's Accept header."""
    app = ensure_web(app_factory())
    with TestClient(app, raise_server_exceptions=False, headers=BROWSER_HEADERS) as c:
        yield c


@pytest.fixture
def web_client_factory(app_factory):  # type: ignore[no-untyped-def]
    """A client on an app built with settings overrides, e.g. ``login_max_attempts=2``."""
    clients: list[TestClient] = []

    def build(**overrides: object) -> TestClient:
        c = TestClient(
            ensure_web(app_factory(**overrides)),
            raise_server_exceptions=False,
            headers=BROWSER_HEADERS,
        )
        c.__enter__()
        clients.append(c)
        return c

    yield build
    for c in clients:
        c.__exit__(None, None, None)


def csrf_from(html: str) -> str:
    m = CSRF_INPUT.search(html)
    assert m, "no csrf_token field in the page"
    return m.group(1)


def browser_login(client: TestClient, email: str, password: str = PASSWORD, totp: str = "") -> str:
    client.cookies.clear()  # a fresh browser: no session, no login CSRF cookie
    page = client.get("/login")
    assert page.status_code == 200
    r = client.post(
        "/login",
        data={
            "email": email,
            "password": password,
            "totp": totp,
            "csrf_token": csrf_from(page.text),
            "next": "/",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    home = client.get("/")
    assert home.status_code == 200
    return csrf_from(home.text)
