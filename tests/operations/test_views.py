"""The operation pages that create and manage: the new-operation form, and the dashboard's
forms for the lead (participants, status) and for contributors (items by query).

On both engines (``db_session`` is parametrised); pages are driven with a bearer token,
except the CSRF test, which logs in through the real form.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from takedown.audit.models import AuditEvent
from takedown.items import service as items
from takedown.operations import service
from takedown.operations.models import Operation, OperationParticipant
from tests.factories import PASSWORD, Actor, make_actor, make_agency
from tests.operations.conftest import mount_operations
from tests.operations.factories import make_operation
from tests.web.conftest import BROWSER_HEADERS, browser_login, csrf_from

XSS = '<img src=x onerror="alert(1)"><script>alert(2)</script>'


@pytest.fixture
def web(app_factory: Any) -> Iterator[TestClient]:
    app = mount_operations(app_factory())
    with TestClient(app, raise_server_exceptions=False, headers=BROWSER_HEADERS) as c:
        yield c


def _new(web: TestClient, actor: Actor, **data: str) -> Any:
    form = {
        "name": "Action day (synthetic)",
        "kind": "action_day",
        "starts_at": "2026-11-21T06:00",
        "ends_at": "2026-11-23T18:00",
        "groups": "Synthetic Group A\nSynthetic Group B, Synthetic Group A",
        "outlets": "",
        "platforms": "telegram, x",
        "notes": "Synthetic test operation.",
    }
    form.update(data)
    return web.post("/operations/new", headers=actor.headers, data=form, follow_redirects=False)


def _events(session: Session, action: str, op_id: int) -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == action, AuditEvent.subject_id == str(op_id))
            .order_by(AuditEvent.id)
        )
    )


# --- create -----------------------------------------------------------------------------------


def test_list_links_the_new_page_for_supervisors_only(web: TestClient, db_session: Session) -> None:
    agency = make_agency(db_session)
    sup = make_actor(db_session, agency, role="supervisor")
    analyst = make_actor(db_session, agency, role="analyst")
    assert 'href="/operations/new"' in web.get("/operations", headers=sup.headers).text
    page = web.get("/operations", headers=analyst.headers)
    assert page.status_code == 200 and 'href="/operations/new"' not in page.text
    assert web.get("/operations/new", headers=analyst.headers).status_code == 403
    assert _new(web, analyst).status_code == 403
    form = web.get("/operations/new", headers=sup.headers)
    assert form.status_code == 200
    assert 'id="f-starts_at"' in form.text and 'type="datetime-local"' in form.text


def test_create_redirects_to_the_new_dashboard(web: TestClient, db_session: Session) -> None:
    sup = make_actor(db_session, role="supervisor")
    r = _new(web, sup)
    assert r.status_code == 303, r.text
    m = re.fullmatch(r"/operations/(\d+)", r.headers["location"])
    assert m
    op = db_session.get(Operation, int(m.group(1)))
    assert op is not None and op.lead_agency_id == sup.agency.id and op.status == "planned"
    assert op.name == "Action day (synthetic)" and op.kind == "action_day"
    assert op.starts_at.replace(tzinfo=None).isoformat() == "2026-11-21T06:00:00"
    assert op.targets == {
        "groups": ["Synthetic Group A", "Synthetic Group B"],
        "outlets": [],
        "platforms": ["telegram", "x"],
    }
    assert len(_events(db_session, "operation.create", op.id)) == 1
    page = web.get(r.headers["location"], headers=sup.headers)
    assert page.status_code == 200
    assert "created (planned)" in page.text  # the notice
    assert "Synthetic Group A, Synthetic Group B" in page.text
    assert "Start the operation (running)" in page.text


def test_create_campaign_without_an_end(web: TestClient, db_session: Session) -> None:
    sup = make_actor(db_session, role="supervisor")
    r = _new(web, sup, kind="campaign", ends_at="", groups="", platforms="")
    assert r.status_code == 303, r.text
    op = db_session.get(Operation, int(r.headers["location"].rsplit("/", 1)[1]))
    assert op is not None and op.kind == "campaign" and op.ends_at is None


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "  "}, "name", "Enter the operation&#39;s name."),
        ({"name": "n" * 201}, "name", "at most 200 characters"),
        ({"kind": "raid"}, "kind", "Choose the kind of operation."),
        ({"starts_at": ""}, "starts_at", "Enter when the operation starts."),
        ({"starts_at": "tomorrow"}, "starts_at", "Enter a date and time"),
        ({"ends_at": "2026-11-20T06:00"}, "ends_at", "must end after it starts"),
        ({"ends_at": "soon"}, "ends_at", "Enter a date and time"),
        ({"outlets": "o" * 201}, "outlets", "at most 200 characters"),
    ],
)
def test_create_shows_errors_beside_their_fields(
    web: TestClient, db_session: Session, data: dict[str, str], field: str, message: str
) -> None:
    sup = make_actor(db_session, role="supervisor")
    before = db_session.scalar(select(Operation.id).order_by(Operation.id.desc()).limit(1))
    r = _new(web, sup, **data)
    assert r.status_code == 422, r.text
    err = re.search(rf'<p class="field-error-msg" id="f-{field}-error">(.*?)</p>', r.text, re.S)
    assert err and message in err.group(1), r.text
    assert f'id="f-{field}"' in r.text and 'aria-invalid="true"' in r.text
    assert 'role="alert"' in r.text  # the summary
    assert 'value="Action day (synthetic)"' in r.text or field == "name"  # kept what was typed
    after = db_session.scalar(select(Operation.id).order_by(Operation.id.desc()).limit(1))
    assert after == before


def test_create_renders_hostile_text_inert(web: TestClient, db_session: Session) -> None:
    sup = make_actor(db_session, role="supervisor")
    r = _new(web, sup, name=XSS, groups=XSS, notes=XSS)
    assert r.status_code == 303, r.text
    page = web.get(r.headers["location"], headers=sup.headers)
    assert XSS not in page.text and "&lt;script&gt;alert(2)&lt;/script&gt;" in page.text


def test_create_needs_the_session_csrf_token(web: TestClient, db_session: Session) -> None:
    sup = make_actor(db_session, role="supervisor")
    browser_login(web, sup.user.email, PASSWORD)
    form = web.get("/operations/new")
    token = csrf_from(form.text)
    data = {"name": "CSRF op", "kind": "action_day", "starts_at": "2026-11-21T06:00"}
    assert web.post("/operations/new", data=data, follow_redirects=False).status_code == 403
    r = web.post("/operations/new", data={**data, "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303, r.text
    page = web.get(r.headers["location"])
    # every management form on the dashboard carries the token
    forms = re.findall(r'<form method="post"[^>]*>\s*<input type="hidden" name="csrf_token" '
                       r'value="([^"]+)"', page.text)  # fmt: skip
    assert len(forms) >= 3 and set(forms) == {token}


# --- participants -----------------------------------------------------------------------------


def test_lead_adds_a_participant_from_the_list(web: TestClient, db_session: Session) -> None:
    lead = make_actor(db_session, make_agency(db_session, country="NL"), role="supervisor")
    other = make_agency(db_session, country="BE")
    platform = make_agency(db_session, kind="platform", platform_slug="x")
    op = make_operation(db_session, lead)
    page = web.get(f"/operations/{op.id}", headers=lead.headers)
    assert f'<option value="{other.id}">{other.name} (BE)</option>' in page.text
    assert f'value="{platform.id}"' not in page.text  # platforms receive referrals
    url = f"/operations/{op.id}/participants"
    r = web.post(url, headers=lead.headers, data={"agency_id": str(other.id), "role": "observer"},
                 follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text
    p = db_session.scalars(
        select(OperationParticipant).where(
            OperationParticipant.operation_id == op.id, OperationParticipant.agency_id == other.id
        )
    ).one()
    assert p.role == "observer"
    assert len(_events(db_session, "operation.participant", op.id)) == 1
    page = web.get(f"/operations/{op.id}", headers=lead.headers)
    assert f"{other.name} takes part as observer." in page.text
    rows = re.findall(r'data-testid="participant-row"><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td>',
                      page.text)  # fmt: skip
    assert (lead.agency.name, "NL", "lead") in rows and (other.name, "BE", "observer") in rows
    assert f'<option value="{other.id}">' not in page.text  # no longer a candidate


def test_participant_form_errors(web: TestClient, db_session: Session) -> None:
    lead = make_actor(db_session, role="supervisor")
    platform = make_agency(db_session, kind="platform", platform_slug="x")
    op = make_operation(db_session, lead)
    url = f"/operations/{op.id}/participants"
    r = web.post(url, headers=lead.headers, data={"agency_id": "", "role": "participant"})
    assert r.status_code == 422 and 'id="f-agency_id-error"' in r.text
    r = web.post(url, headers=lead.headers, data={"agency_id": "999999", "role": "participant"})
    assert r.status_code == 422 and "Choose an agency from the list." in r.text
    r = web.post(url, headers=lead.headers, data={"agency_id": str(platform.id), "role": "lead"})
    assert r.status_code == 422 and 'id="f-role-error"' in r.text
    r = web.post(url, headers=lead.headers,
                 data={"agency_id": str(platform.id), "role": "participant"})  # fmt: skip
    assert r.status_code == 422 and "a platform is not a participant" in r.text
    r = web.post(url, headers=lead.headers,
                 data={"agency_id": str(lead.agency.id), "role": "participant"})  # fmt: skip
    assert r.status_code == 422 and "the lead agency already takes part" in r.text


def test_only_the_lead_supervisor_manages(web: TestClient, db_session: Session) -> None:
    lead = make_actor(db_session, role="supervisor")
    member = make_actor(db_session, role="supervisor")
    lead_analyst = make_actor(db_session, lead.agency, role="analyst")
    third = make_agency(db_session)
    op = make_operation(db_session, lead, participants=[member.agency])
    for who in (member, lead_analyst):
        page = web.get(f"/operations/{op.id}", headers=who.headers)
        assert page.status_code == 200
        assert 'data-testid="participant-form"' not in page.text
        assert f'action="/operations/{op.id}/status"' not in page.text
        assert 'data-testid="query-form"' in page.text  # they may still contribute items
        r = web.post(f"/operations/{op.id}/participants", headers=who.headers,
                     data={"agency_id": str(third.id), "role": "participant"})  # fmt: skip
        assert r.status_code == 403, r.text
        r = web.post(f"/operations/{op.id}/status", headers=who.headers, data={"status": "running"})
        assert r.status_code == 403, r.text
        assert "only the lead agency" in r.text or "needs the role supervisor" in r.text
    db_session.refresh(op)
    assert op.status == "planned"
    assert service.role_in(db_session, lead.principal, op) is not None
    assert len(service.participants(db_session, lead.principal, op.id)) == 2


def test_outsiders_get_not_found(web: TestClient, db_session: Session) -> None:
    lead = make_actor(db_session, role="supervisor")
    outsider = make_actor(db_session, role="supervisor")
    x = make_agency(db_session, kind="platform", platform_slug="x")
    liaison = make_actor(db_session, x, role="liaison")
    op = make_operation(db_session, lead, name="owner-only-operation-name")
    for who in (outsider, liaison):
        for method, path, data in [
            ("GET", f"/operations/{op.id}", None),
            ("POST", f"/operations/{op.id}/participants",
             {"agency_id": str(who.agency.id), "role": "participant"}),
            ("POST", f"/operations/{op.id}/status", {"status": "running"}),
            ("POST", f"/operations/{op.id}/items", {"q_url": "https://"}),
        ]:  # fmt: skip
            r = web.request(method, path, headers=who.headers, data=data)
            # A liaison's role holds no operations scope: refused before any lookup (403,
            # whatever the id); an outsider agency's supervisor is told nothing exists.
            expected = 403 if who is liaison else 404
            assert r.status_code == expected, (method, path, r.status_code)
            assert "owner-only-operation-name" not in r.text
    db_session.refresh(op)
    assert op.status == "planned"


# --- status -----------------------------------------------------------------------------------


def test_status_moves_one_legal_step_at_a_time(web: TestClient, db_session: Session) -> None:
    lead = make_actor(db_session, role="supervisor")
    op = make_operation(db_session, lead)
    url = f"/operations/{op.id}/status"
    r = web.post(url, headers=lead.headers, data={"status": "closed"})  # planned -> closed
    assert r.status_code == 409, r.text
    assert "planned -&gt; running -&gt; closed, not planned -&gt; closed" in r.text
    assert 'id="f-status-error"' in r.text
    r = web.post(url, headers=lead.headers, data={"status": "paused"})
    assert r.status_code == 422 and "is not one of planned, running, closed" in r.text
    r = web.post(url, headers=lead.headers, data={"status": "running"}, follow_redirects=False)
    assert r.status_code == 303
    page = web.get(f"/operations/{op.id}", headers=lead.headers)
    assert "The operation is now running." in page.text
    assert 'name="status" value="closed"' in page.text  # the only step offered
    assert 'name="status" value="running"' not in page.text
    assert "data-confirm=" in page.text  # closing asks first
    r = web.post(url, headers=lead.headers, data={"status": "planned"})  # no way back
    assert r.status_code == 409
    r = web.post(url, headers=lead.headers, data={"status": "closed"}, follow_redirects=False)
    assert r.status_code == 303
    db_session.refresh(op)
    assert op.status == "closed" and op.started_at is not None and op.closed_at is not None
    moves = [json.loads(e.details) for e in _events(db_session, "operation.status", op.id)]
    assert [(d["from"], d["to"]) for d in moves] == [("planned", "running"), ("running", "closed")]
    page = web.get(f"/operations/{op.id}", headers=lead.headers)
    assert f'action="/operations/{op.id}/status"' not in page.text  # nothing after closed
    assert 'data-testid="query-form"' not in page.text  # a closed operation takes no items


# --- items by query ---------------------------------------------------------------------------


def test_add_by_query_shows_added_and_already(web: TestClient, db_session: Session) -> None:
    lead = make_actor(db_session, role="supervisor")
    member = make_actor(db_session, role="analyst")
    op = make_operation(db_session, lead, participants=[member.agency])
    for n in range(3):
        items.report_url(db_session, member.principal, f"https://x.com/opsquery{n}/status/{n + 1}")
    items.report_url(db_session, member.principal, "https://t.me/s/opsquerychannel")
    items.report_url(db_session, lead.principal, "https://x.com/leadonly/status/77")  # not theirs
    url = f"/operations/{op.id}/items"
    data = {"q_url": "x.com/opsquery", "q_status": "new"}
    r = web.post(url, headers=member.headers, data=data, follow_redirects=False)
    assert r.status_code == 303, r.text
    page = web.get(f"/operations/{op.id}", headers=member.headers)
    assert "Query matched 3 of your agency&#39;s items: 3 added, 0 already in the operation." in (
        page.text
    )
    r = web.post(url, headers=member.headers, data={"q_url": "opsquery"}, follow_redirects=False)
    page = web.get(f"/operations/{op.id}", headers=member.headers)
    assert "Query matched 4 of your agency&#39;s items: 1 added, 3 already in the operation." in (
        page.text
    )
    rows, total = service.list_items(db_session, member.principal, op.id)
    assert total == 4 and all("leadonly" not in it.canonical_url for it, _ in rows)
    details = [json.loads(e.details) for e in _events(db_session, "operation.items", op.id)]
    assert [(d["via"], d["added"]) for d in details] == [("query", 3), ("query", 1)]


def test_add_by_query_errors(web: TestClient, db_session: Session) -> None:
    lead = make_actor(db_session, role="supervisor")
    observer = make_actor(db_session, role="analyst")
    op = make_operation(db_session, lead)
    service.add_participant(db_session, lead.principal, op.id, observer.agency.id, "observer")
    url = f"/operations/{op.id}/items"
    r = web.post(url, headers=lead.headers, data={})
    assert r.status_code == 422 and "a query needs at least one of" in r.text
    assert 'href="#f-query"' in r.text
    r = web.post(url, headers=lead.headers, data={"q_status": "gone"})
    assert r.status_code == 422 and "is not an item status" in r.text
    assert 'id="f-q_status-error"' in r.text
    page = web.get(f"/operations/{op.id}", headers=observer.headers)
    assert page.status_code == 200 and 'data-testid="op-manage"' not in page.text
    r = web.post(url, headers=observer.headers, data={"q_status": "new"})
    assert r.status_code == 403 and "observers do not contribute items" in r.text


# --- small fixes: the navigation, the chart's margins -------------------------------------------


def test_liaisons_get_no_operations_link(web: TestClient, db_session: Session) -> None:
    x = make_agency(db_session, kind="platform", platform_slug="x")
    liaison = make_actor(db_session, x, role="liaison")
    analyst = make_actor(db_session, role="analyst")
    link = 'href="/operations"'
    assert link in web.get("/", headers=analyst.headers).text
    home = web.get("/", headers=liaison.headers)
    assert home.status_code == 200 and link not in home.text


def test_line_chart_keeps_its_x_labels_inside() -> None:
    from takedown.operations import charts

    ticks = [(0.0, "2026-11-21 06:00"), (50.0, "2026-11-22 06:00"), (100.0, "2026-11-23 06:00")]
    svg = charts.line_chart("Removals", [(0.0, 1.0), (100.0, 5.0)], axis=charts.Axis(ticks))
    width = float(re.search(r'viewBox="0 0 (\d+) ', svg).group(1))  # type: ignore[union-attr]
    for x, label in re.findall(r'<text x="([\d.]+)"[^>]*text-anchor="middle"[^>]*>([^<]+)<', svg):
        half = len(label) * charts.CHAR_W / 2
        assert float(x) - half >= 0 and float(x) + half <= width, (x, label)
