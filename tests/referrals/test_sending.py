"""The "Send now" button in the background (#13.19): the request is recorded and checked
at once, the page says "Sending…" and polls while it runs, then reloads and says how it
ended."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from takedown.audit.models import AuditEvent
from takedown.config import Settings
from takedown.kit.clock import FrozenClock
from takedown.kit.errors import Conflict
from takedown.referrals import sending, service
from tests.factories import Actor
from tests.referrals.factories import ensure_platform, make_team, x_item

HTML = {"Accept": "text/html"}
HTMX = {"HX-Request": "true"}


@pytest.fixture
def web(app_factory: Any) -> Iterator[TestClient]:
    with TestClient(app_factory(capture_before_referral=False, check_before_referral=False),
                    raise_server_exceptions=False) as c:  # fmt: skip
        yield c


def _approved(session: Session, author: Actor) -> int:
    ensure_platform(session, "x")
    it = x_item(session, author)
    [res] = service.create_batches(
        session, author.principal, item_ids=[it.id], kind="tos", channel="portal"
    )
    service.submit(session, author.principal, res.referral.id)
    session.commit()
    return res.referral.id


def test_a_requested_send_shows_sending_polls_and_reloads_when_it_has_ended(
    web: TestClient, db_session: Session, session_factory: Any, settings: Settings
) -> None:
    team = make_team(db_session)
    rid = _approved(db_session, team.analyst)
    h = {**HTML, **team.analyst.headers}
    sending.request_send(db_session, team.analyst.principal, rid)  # as the POST does
    db_session.commit()

    page = web.get(f"/referrals/{rid}", headers=h)
    assert "Sending…" in page.text
    assert f'hx-get="/referrals/{rid}/send-state"' in page.text  # it polls
    assert f'action="/referrals/{rid}/deliver"' not in page.text  # no second send meanwhile
    assert f'action="/referrals/{rid}/cancel"' not in page.text  # nor a cancel mid-send
    with pytest.raises(Conflict, match="being sent already"):
        sending.request_send(db_session, team.analyst.principal, rid)
    frag = web.get(f"/referrals/{rid}/send-state", headers={**h, **HTMX})
    assert frag.status_code == 200 and "Sending…" in frag.text
    assert "hx-refresh" not in {k.lower() for k in frag.headers}

    # the background part, as the web process runs it after its answer
    state = sending.run_send(
        session_factory,
        settings.model_copy(update={"capture_before_referral": False,
                                    "check_before_referral": False}),
        team.analyst.principal,
        rid,
    )  # fmt: skip
    assert state.outcome == "sent", state
    db_session.expire_all()
    frag = web.get(f"/referrals/{rid}/send-state", headers={**h, **HTMX})
    assert frag.headers.get("HX-Refresh") == "true"  # the page reloads to show the result
    assert "hx-get" not in frag.text
    page = web.get(f"/referrals/{rid}", headers=h)
    assert "Sent and received by the platform" in page.text and "Sending…" not in page.text
    assert page.text.count('data-testid="delivery-attempt"') == 1
    events = db_session.scalars(
        select(AuditEvent)
        .where(AuditEvent.subject_type == "referral", AuditEvent.subject_id == str(rid))
        .order_by(AuditEvent.id)
    ).all()
    actions = [e.action for e in events]
    assert actions.index(sending.REQUESTED) < actions.index("referral.send_now")
    assert actions[-1] == sending.FINISHED
    assert json.loads(events[-1].details)["outcome"] == "sent"


def test_the_post_answers_with_the_page_and_the_send_runs_after_it(
    web: TestClient, db_session: Session
) -> None:
    team = make_team(db_session)
    rid = _approved(db_session, team.analyst)
    h = {**HTML, **team.analyst.headers}
    r = web.post(f"/referrals/{rid}/deliver", headers=h, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/referrals/{rid}"
    page = web.get(r.headers["location"], headers=h)
    assert "Sending in the background" in page.text  # the notice of the answer
    assert "Sent and received by the platform" in page.text  # the test client ran the task
    assert f'action="/referrals/{rid}/deliver"' not in page.text


def test_a_refused_send_is_said_and_nothing_is_requested(
    web: TestClient, db_session: Session
) -> None:
    team = make_team(db_session)
    ensure_platform(db_session, "x")
    it = x_item(db_session, team.analyst)
    [res] = service.create_batches(
        db_session, team.analyst.principal, item_ids=[it.id], kind="tos", channel="portal"
    )
    db_session.commit()
    rid = res.referral.id
    h = {**HTML, **team.analyst.headers}
    r = web.post(f"/referrals/{rid}/deliver", headers=h, follow_redirects=False)
    assert "not approved" in web.get(r.headers["location"], headers=h).text
    assert not sending.send_state(db_session, rid).running
    assert sending.send_state(db_session, rid).outcome is None


def test_a_send_that_never_ended_stops_counting_as_running(db_session: Session) -> None:
    team = make_team(db_session)
    rid = _approved(db_session, team.analyst)
    sending.request_send(db_session, team.analyst.principal, rid)
    db_session.flush()
    assert sending.send_state(db_session, rid).running
    later = dt.datetime.now(dt.UTC) + sending.STALE_AFTER + dt.timedelta(minutes=1)
    assert not sending.send_state(db_session, rid, now=later).running  # the process died
    sending.request_send(db_session, team.analyst.principal, rid, clock=FrozenClock(later))


@pytest.mark.parametrize(
    ("outcome", "detail", "says"),
    [
        ("sent", " (ack A-1)", "Sent and received by the platform (ack A-1)."),
        ("failed", "HTTP 503", "Delivery failed: HTTP 503"),
        ("refused", "every item was gone", "Not sent: every item was gone"),
        ("error", "boom", "Sending stopped on an error: boom"),
    ],
)  # fmt: skip
def test_outcome_messages(outcome: str, detail: str, says: str) -> None:
    assert sending.SendState(outcome=outcome, detail=detail).message == says
