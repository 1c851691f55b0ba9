"""The "Check now" / "Verify now" pages: the buttons, the request, and its progress fragment
(polled by htmx, read from the checks in the database: N of M, counts by outcome)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from takedown.platforms.detectors.base import Outcome
from takedown.verification import repository
from takedown.verification.engine import CheckResult
from takedown.verification.service import record_results
from takedown.verification.views import confirm_gap
from tests.factories import make_actor, make_agency, make_user
from tests.items.factories import make_item
from tests.verification.factories import (
    delivered_referral,
    referred_operation,
    scheduled_item,
)
from tests.web.conftest import BROWSER_HEADERS, browser_login, ensure_web

HTMX = {"HX-Request": "true"}


@pytest.fixture
def web(app_factory: Any) -> Iterator[TestClient]:
    app = ensure_web(app_factory())
    with TestClient(app, raise_server_exceptions=False, headers=BROWSER_HEADERS) as c:
        yield c


def _check(session: Session, item_id: int, outcome: Outcome) -> None:
    now = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    record_results(
        session, [CheckResult(item_id, "https://x.com/a/status/1", outcome, "t", "x", now, 404)]
    )
    session.flush()


def test_check_now_on_the_item_page_shows_progress_until_every_item_is_checked(
    web: TestClient, db_session: Session
) -> None:
    a = make_actor(db_session)
    item_id = scheduled_item(db_session, a)
    page = web.get(f"/items/{item_id}", headers=a.headers)
    assert page.status_code == 200
    assert f'hx-post="/verification/items/{item_id}/check"' in page.text
    assert 'name="csrf_token"' in page.text.split("check-now", 1)[1]  # the form carries it
    r = web.post(f"/verification/items/{item_id}/check", headers={**a.headers, **HTMX})
    assert r.status_code == 200, r.text
    assert "0 of 1" in r.text and "Working" in r.text
    m = re.search(r'hx-get="(/verification/requests/(\d+)/progress)"', r.text)
    assert m, r.text
    url, request_id = m.group(1), int(m.group(2))
    assert web.app.state.dispatcher.sent == [  # type: ignore[attr-defined]
        ("verification.check_request", {"request_id": request_id})
    ]
    # the item page says a check is on its way
    assert "A check was asked for at" in web.get(f"/items/{item_id}", headers=a.headers).text
    _check(db_session, item_id, Outcome.REMOVED)
    frag = web.get(url, headers={**a.headers, **HTMX})
    assert frag.status_code == 200
    assert "1 of 1" in frag.text and "Finished." in frag.text
    assert "Latest outcome: removed 1." in frag.text
    assert "a second check, 5 minutes on, confirms it" in frag.text  # the default gap
    assert "hx-get" not in frag.text  # polling stops
    assert f'href="/verification/items/{item_id}"' in frag.text  # see the timeline
    assert "<html" not in frag.text  # a fragment, not a page
    page = web.get(f"/verification/requests/{request_id}", headers=a.headers)
    assert page.status_code == 200 and f"item {item_id}" in page.text and "1 of 1" in page.text


def test_without_htmx_the_form_leads_to_the_request_page(
    web: TestClient, db_session: Session
) -> None:
    a = make_actor(db_session)
    item_id = scheduled_item(db_session, a)
    r = web.post(f"/verification/items/{item_id}/check", headers=a.headers, follow_redirects=False)
    assert r.status_code == 303
    assert re.fullmatch(r"/verification/requests/\d+", r.headers["location"])
    page = web.get(r.headers["location"], headers=a.headers)
    assert "Checks of item" in page.text and "0 of 1" in page.text
    assert 'hx-trigger="every 2s"' in page.text


def test_an_item_not_under_verification_has_no_button_and_a_post_explains(
    web: TestClient, db_session: Session
) -> None:
    a = make_actor(db_session)
    item = make_item(db_session, a)
    page = web.get(f"/items/{item.id}", headers=a.headers)
    assert f"/verification/items/{item.id}/check" not in page.text
    r = web.post(f"/verification/items/{item.id}/check", headers=a.headers, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/items/{item.id}"
    notice = web.get(r.headers["location"], headers=a.headers).text
    assert "nothing to check" in notice
    r = web.post(f"/verification/items/{item.id}/check", headers={**a.headers, **HTMX})
    assert r.status_code == 409 and r.headers.get("HX-Retarget") == "#flash"
    assert web.app.state.dispatcher.sent == []  # type: ignore[attr-defined]


def test_verify_now_on_the_referral_and_operation_pages(
    web: TestClient, db_session: Session
) -> None:
    a = make_actor(db_session)
    referral_id = delivered_referral(db_session, a)
    page = web.get(f"/referrals/{referral_id}", headers=a.headers)
    assert f'action="/verification/referrals/{referral_id}/check"' in page.text
    assert "Verify now" in page.text
    r = web.post(f"/verification/referrals/{referral_id}/check", headers={**a.headers, **HTMX})
    assert r.status_code == 200 and "0 of 1" in r.text and "Checks of referral " in r.text
    op_id = referred_operation(db_session, a)
    page = web.get(f"/operations/{op_id}", headers=a.headers)
    assert f'action="/verification/operations/{op_id}/check"' in page.text
    r = web.post(f"/verification/operations/{op_id}/check", headers=a.headers)
    assert r.status_code == 200 and "Checks of operation checknow-probe-op requested." in r.text


def test_liaisons_see_no_button_and_may_not_ask(web: TestClient, db_session: Session) -> None:
    a = make_actor(db_session)
    referral_id = delivered_referral(db_session, a)
    x = make_actor(db_session, make_agency(db_session, kind="platform", platform_slug="x"),
                   role="liaison")  # fmt: skip
    page = web.get(f"/referrals/{referral_id}", headers=x.headers)
    assert page.status_code == 200 and "Verify now" not in page.text
    r = web.post(f"/verification/referrals/{referral_id}/check", headers=x.headers)
    assert r.status_code == 403


def test_agency_b_gets_404_for_agency_as_request_and_item(
    web: TestClient, db_session: Session
) -> None:
    a = make_actor(db_session)
    b = make_actor(db_session, make_agency(db_session))
    item_id = scheduled_item(db_session, a)
    r = web.post(f"/verification/items/{item_id}/check", headers={**a.headers, **HTMX})
    m = re.search(r"/verification/requests/(\d+)/progress", r.text)
    assert m, r.text
    page = f"/verification/requests/{m.group(1)}"
    for url in (page, f"{page}/progress"):
        assert web.get(url, headers=b.headers).status_code == 404
    assert web.post(f"/verification/items/{item_id}/check", headers=b.headers).status_code == 404
    sched = repository.schedules_for(db_session, [item_id])[item_id]
    assert sched.requested_at is not None  # A's own request, untouched


def test_the_form_needs_the_sessions_csrf_token(web: TestClient, db_session: Session) -> None:
    a = make_actor(db_session)
    user = make_user(db_session, a.agency, role="analyst")
    item_id = scheduled_item(db_session, a)
    csrf = browser_login(web, user.email)
    r = web.post(f"/verification/items/{item_id}/check", follow_redirects=False)
    assert r.status_code == 403
    r = web.post(
        f"/verification/items/{item_id}/check", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert r.status_code == 303


def test_no_verify_now_where_the_server_runs_no_background_jobs(
    web: TestClient, db_session: Session
) -> None:
    """The demo's dashboard runs no jobs: a "Verify now" there waited forever at 0 of N
    (#12.8). It is not offered, and a POST says why instead of queueing work nobody runs."""
    from takedown.demo.cli import dashboard_app

    assert dashboard_app(web.app.state.settings).state.background_jobs is False  # type: ignore[attr-defined]
    web.app.state.background_jobs = False  # type: ignore[attr-defined]
    a = make_actor(db_session)
    op_id = referred_operation(db_session, a)
    referral_id = delivered_referral(db_session, a)
    for page_url, action in (
        (f"/operations/{op_id}", f"/verification/operations/{op_id}/check"),
        (f"/referrals/{referral_id}", f"/verification/referrals/{referral_id}/check"),
    ):
        page = web.get(page_url, headers=a.headers)
        assert page.status_code == 200 and action not in page.text
        assert "this server runs no background jobs" in page.text
        r = web.post(action, headers={**a.headers, **HTMX})
        assert r.status_code == 409 and "need background jobs" in r.text
    assert web.app.state.dispatcher.sent == []  # type: ignore[attr-defined]


def test_the_pages_state_the_deployments_confirmation_gap() -> None:
    """The gap is a setting (TAKEDOWN_VERIFICATION_CONFIRM_SECONDS): the pages say its value,
    not the default's."""
    assert confirm_gap(300) == "5 minutes" and confirm_gap(60) == "1 minute"
    assert confirm_gap(5) == "5 seconds" and confirm_gap(90) == "90 seconds"
