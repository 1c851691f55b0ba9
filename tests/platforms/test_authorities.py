"""The registry of TCO competent authorities and Annex I, Section D (issue 12.6).

Section D used to read "competent authority of IE: X Corp (platform) (legal@x.example)":
the platform's own liaison agency, because the authority was looked up among the agencies
of the host state. It now comes from the registry, which admins edit.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

import takedown.cli  # noqa: F401  (the root installs the settings provider)
import takedown.kit.cli as kit_cli
from takedown.audit import repository as audit_repository
from takedown.db import make_engine, make_sessionmaker
from takedown.kit.errors import Forbidden, InvalidInput
from takedown.migrate import upgrade
from takedown.platforms import authorities
from takedown.platforms.cli import register
from takedown.referrals import render, service
from tests.factories import make_actor, make_agency, make_user
from tests.referrals.factories import ensure_platform, make_team, x_item
from tests.web.conftest import BROWSER_HEADERS, browser_login, csrf_from

JUST = "Official propaganda video of a designated group, with a call to attack."


def _draft(db: Session, team: Any, platform: str = "x") -> Any:
    item = x_item(db, team.analyst) if platform == "x" else None
    [res] = service.create_batches(
        db,
        team.analyst.principal,
        item_ids=[item.id] if item else [],
        kind="removal_order",
        reasons=["a"],
        justification=JUST,
    )
    return res.referral


def _section_d(db: Session, ref: Any) -> tuple[dict[str, Any], list[str]]:
    doc = render.document(db, ref)
    return doc["sections"]["D"], doc.get("warnings", [])


def test_seed_has_the_eu27_unconfirmed_and_never_overwrites(db_session: Session) -> None:
    authorities.ensure_seeded(db_session)  # the test database is seeded as `db upgrade` does
    rows = authorities.list_authorities(db_session)
    assert [r.country for r in rows] == sorted(authorities.EU_MEMBER_STATES) and len(rows) == 27
    assert {r["country"] for r in authorities.seed_rows()} == authorities.EU_MEMBER_STATES
    assert all(not r.confirmed and r.contact_point is None for r in rows)  # nothing invented
    assert authorities.get(db_session, "IE").name == "Coimisiún na Meán"
    admin = make_actor(db_session, role="admin", operator=True)
    authorities.update(db_session, admin.principal, "IE", {"notes": "checked"})
    assert authorities.ensure_seeded(db_session) == []
    assert authorities.get(db_session, "IE").notes == "checked"


def test_an_order_to_an_irish_platform_names_irelands_authority(db_session: Session) -> None:
    authorities.ensure_seeded(db_session)
    team = make_team(db_session, country="FR")
    ensure_platform(db_session, "x", country="IE", contact="legal@x.example")
    # The trap of the defect: the platform's own liaison agency is an agency of IE.
    make_agency(db_session, name="X Corp (platform)", country="IE", kind="platform",
                platform_slug="x")  # fmt: skip
    ref = _draft(db_session, team)
    d, warnings = _section_d(db_session, ref)
    assert d["copy_to_host_state"] is True and d["host_state"] == "IE"
    assert d["host_state_authority"] == "Coimisiún na Meán"
    assert d["host_state_contact"] is None
    assert warnings and "to be confirmed by the admin" in warnings[0]
    html = render.as_html(db_session, ref)
    assert "X Corp" not in html and "legal@x.example" not in html.split("Section D")[1]
    assert "Coimisiún na Meán (contact point to be confirmed by the admin)" in html
    assert 'data-testid="section-d-warning"' in html


def test_an_admin_edit_changes_the_next_order(db_session: Session, client: Any) -> None:
    authorities.ensure_seeded(db_session)
    team = make_team(db_session, country="FR")
    ensure_platform(db_session, "x", country="IE")
    admin = make_actor(db_session, role="admin", operator=True)
    agency_admin = make_actor(db_session, role="admin")  # one agency's: refused
    body = {"name": "IE Authority (edited)", "contact_point": "tco@ie.example",
            "confirmed": True}  # fmt: skip
    no = client.put("/api/v1/tco-authorities/ie", json=body, headers=agency_admin.headers)
    assert no.status_code == 403 and "instance operator" in no.json()["detail"]
    r = client.put("/api/v1/tco-authorities/ie", json=body, headers=admin.headers)
    assert r.status_code == 200, r.text
    assert r.json()["confirmed"] is True and r.json()["country"] == "IE"
    d, warnings = _section_d(db_session, _draft(db_session, team))
    assert (d["host_state_authority"], d["host_state_contact"]) == (
        "IE Authority (edited)",
        "tco@ie.example",
    )
    assert warnings == []
    events, _ = audit_repository.list_events(
        db_session, agency_id=None, action="tco_authority.update", subject_type="tco_authority",
        subject_id="IE", limit=5, offset=0,
    )  # fmt: skip
    assert events and json.loads(events[0].details)["changed"]["name"]["to"] == body["name"]
    listed = client.get("/api/v1/tco-authorities", headers=team.analyst.headers).json()
    assert len(listed) == 27


def test_a_state_without_an_authority_warns_instead_of_naming_one(db_session: Session) -> None:
    authorities.ensure_seeded(db_session)  # LU is seeded without a name
    team = make_team(db_session, country="FR")
    ensure_platform(db_session, "x", country="LU")
    make_agency(db_session, name="Some LU agency", country="LU", kind="competent_authority")
    ref = _draft(db_session, team)
    d, warnings = _section_d(db_session, ref)
    assert d["host_state_authority"] is None and d["host_state_contact"] is None
    assert warnings and "No competent authority is recorded for Luxembourg (LU)" in warnings[0]
    html = render.as_html(db_session, ref)
    assert "Some LU agency" not in html and "No competent authority is recorded" in html
    # A provider "established" outside the Union: no authority scrutinises there.
    ensure_platform(db_session, "x", country="AE")
    _, warnings = _section_d(db_session, _draft(db_session, team))
    assert "not an EU Member State" in warnings[0]
    # The frozen document never carries the preview's warnings.
    from takedown.referrals.annex import build_annex

    assert "warnings" not in build_annex(db_session, ref)


def test_edits_are_for_admins_and_validated(db_session: Session, client: Any) -> None:
    authorities.ensure_seeded(db_session)
    sup = make_actor(db_session, role="supervisor")
    admin = make_actor(db_session, role="admin", operator=True)
    with pytest.raises(Forbidden):
        authorities.update(db_session, sup.principal, "IE", {"notes": "x"})
    assert client.put("/api/v1/tco-authorities/IE", json={"notes": "x"},
                      headers=sup.headers).status_code == 403  # fmt: skip
    bad = client.put("/api/v1/tco-authorities/IE", json={"contact_point": "not an address"},
                     headers=admin.headers)  # fmt: skip
    assert bad.status_code == 422 and "e-mail address or an http(s) URL" in bad.json()["detail"]
    assert client.put("/api/v1/tco-authorities/US", json={"notes": "x"},
                      headers=admin.headers).status_code == 422  # fmt: skip
    with pytest.raises(InvalidInput, match="confirmed with its name and its contact point"):
        authorities.update(db_session, admin.principal, "IE", {"confirmed": True})


@pytest.fixture
def web(app_factory: Any) -> Iterator[TestClient]:
    with TestClient(app_factory(), raise_server_exceptions=False, headers=BROWSER_HEADERS) as c:
        yield c


def test_pages_list_and_edit(web: TestClient, db_session: Session) -> None:
    authorities.ensure_seeded(db_session)
    analyst = make_user(db_session, role="analyst")
    browser_login(web, analyst.email)
    page = web.get("/admin/authorities")
    assert page.status_code == 200 and page.text.count('data-testid="authority-row"') == 27
    assert 'href="/admin/authorities/IE"' not in page.text  # read-only for non-admins
    assert web.get("/admin/authorities/IE").status_code == 403
    agency_admin = make_user(db_session, role="admin")  # Section D of every agency's orders
    browser_login(web, agency_admin.email)
    assert 'href="/admin/authorities/IE"' not in web.get("/admin/authorities").text
    assert web.get("/admin/authorities/IE").status_code == 403
    admin = make_user(db_session, role="admin", operator=True)
    csrf = browser_login(web, admin.email)
    form = web.get("/admin/authorities/IE")
    assert form.status_code == 200 and "Coimisiún na Meán" in form.text
    bad = web.post("/admin/authorities/IE", data={"csrf_token": csrf_from(form.text) or csrf,
                   "name": "X", "contact_point": "nope", "confirmed": "yes"})  # fmt: skip
    assert bad.status_code == 422 and "Contact point must be" in bad.text
    ok = web.post(
        "/admin/authorities/IE",
        data={"csrf_token": csrf, "name": "Coimisiún na Meán", "contact_point":
              "https://tco.ie.example/contact", "confirmed": "yes", "notes": ""},
        follow_redirects=False,
    )  # fmt: skip
    assert ok.status_code == 303, ok.text
    assert authorities.get(db_session, "IE").confirmed is True


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[typer.Typer]:
    engine = make_engine(f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    upgrade(engine)
    factory: sessionmaker[Session] = make_sessionmaker(engine)
    monkeypatch.setattr(kit_cli, "session_factory", lambda: factory)
    app = typer.Typer()
    app.command("noop")(lambda: None)
    register(app)
    yield app
    engine.dispose()


def test_cli_seed_list_set(cli: typer.Typer) -> None:
    def invoke(*args: str) -> tuple[int, str]:
        r = CliRunner().invoke(cli, list(args), env={"COLUMNS": "200", "NO_COLOR": "1"})
        return r.exit_code, r.output

    assert invoke("authority", "seed")[0] == 0
    code, out = invoke("authority", "list", "--format", "json")
    rows = {r["country"]: r for r in json.loads(out)}
    assert code == 0 and len(rows) == 27 and rows["IE"]["contact_point"] is None
    code, out = invoke("authority", "set", "ie", "--contact", "tco@ie.example", "--confirmed")
    assert code == 0, out
    code, out = invoke("authority", "list")
    assert "tco@ie.example" in out and "to be confirmed by the admin" in out
    code, out = invoke("authority", "set", "US", "--notes", "x")
    assert code == 1 and "not an EU Member State" in out
