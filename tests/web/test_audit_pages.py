"""The audit log viewer: filters, agency scoping, chain status (OK / broken at event N)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from takedown.accounts import service
from takedown.audit import repository
from tests.factories import make_actor, make_agency, make_user
from tests.web.conftest import browser_login


def test_admin_filters_the_log_and_sees_the_chain_ok(
    client: TestClient, db_session: Session
) -> None:
    # The log shows the admin's own agency's events (#19.3): here, the operator's agency.
    admin = make_actor(db_session, role="admin", operator=True)
    service.create_agency(
        db_session, admin.principal, name="Filtered IRU", country="FR", kind="national_iru"
    )
    browser_login(client, admin.user.email)
    page = client.get("/admin/audit?action=agency.create")
    assert page.status_code == 200
    assert "Filtered IRU" in page.text
    assert "auth.login</code>" not in page.text
    assert 'hx-get="/admin/audit/chain"' in page.text
    chain = client.get("/admin/audit/chain", headers={"HX-Request": "true"})
    assert chain.status_code == 200 and "<html" not in chain.text
    assert "OK" in chain.text and "intact" in chain.text
    again = client.get("/admin/audit")  # the last result shows without re-checking
    assert 'data-testid="chain-status"' in again.text and 'hx-trigger="load"' not in again.text


def test_a_tampered_event_shows_where_the_chain_breaks(
    client: TestClient, db_session: Session
) -> None:
    admin = make_user(db_session, role="admin")
    make_agency(db_session, name="Tamper target")
    victim = repository.list_events(
        db_session,
        agency_id=None,
        action="agency.create",
        subject_type=None,
        subject_id=None,
        limit=1,
        offset=0,
    )[0][0]
    browser_login(client, admin.email)
    db_session.execute(
        text("UPDATE audit_events SET details = :d WHERE id = :i"),
        {"d": '{"name":"edited"}', "i": victim.id},
    )
    db_session.flush()
    page = client.get("/admin/audit/chain")
    assert page.status_code == 200
    assert f"Broken at event {victim.id}" in page.text


def test_supervisors_see_their_agency_only_and_no_chain_check(
    client: TestClient, db_session: Session
) -> None:
    mine, other = make_agency(db_session), make_agency(db_session)
    sup = make_user(db_session, mine, role="supervisor")
    stranger = make_user(db_session, other, role="admin")
    browser_login(client, stranger.email)
    browser_login(client, sup.email)
    page = client.get("/admin/audit?action=auth.login")
    assert page.status_code == 200
    assert sup.email in page.text and stranger.email not in page.text
    assert "/admin/audit/chain" not in page.text
    assert client.get("/admin/audit/chain").status_code == 403
