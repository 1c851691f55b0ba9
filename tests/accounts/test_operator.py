"""The instance operator (#19.3): separate from agency administrators, explicit (a flag set
from the command line only), audited, and reading no agency's content."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from takedown.accounts import repository, service
from takedown.accounts.service import SYSTEM
from takedown.audit import repository as audit_repo
from takedown.kit.errors import Forbidden
from tests.factories import make_actor, make_agency, make_user


def test_the_operator_adds_agencies_and_their_users_and_it_is_audited(
    client: TestClient, db_session: Session
) -> None:
    op = make_actor(db_session, role="admin", operator=True)
    r = client.post(
        "/api/v1/agencies",
        json={"name": "New IRU", "country": "BE", "kind": "national_iru"},
        headers=op.headers,
    )
    assert r.status_code == 201
    new_id = r.json()["id"]
    body = {"agency_id": new_id, "email": "first@be.invalid", "role": "admin", "password": "x" * 16}
    r = client.post("/api/v1/users", json=body, headers=op.headers)
    assert r.status_code == 201
    users = client.get("/api/v1/users", headers=op.headers).json()["items"]
    assert "first@be.invalid" in {u["email"] for u in users}  # accounts of every agency
    events, _ = audit_repo.list_events(
        db_session, agency_id=None, action="user.create", subject_type=None, subject_id=None,
        limit=10, offset=0,
    )  # fmt: skip
    assert any(json.loads(e.details).get("as_operator") for e in events)


def test_the_operator_reads_no_other_agencys_content(
    client: TestClient, db_session: Session
) -> None:
    from takedown.items import service as items

    owner = make_actor(db_session)
    item, _ = items.report_url(db_session, owner.principal, "https://x.com/op/status/777")
    op = make_actor(db_session, role="admin", operator=True)
    db_session.flush()
    assert client.get(f"/api/v1/items/{item.id}", headers=op.headers).status_code == 404
    listed = client.get("/api/v1/items", headers=op.headers).json()["items"]
    assert item.id not in {i["id"] for i in listed}
    r = client.post(
        "/api/v1/tokens", json={"name": "x", "user_id": owner.user.id}, headers=op.headers
    )
    assert r.status_code == 404  # no tokens for other agencies' users, operator or not


def test_only_the_command_line_sets_the_flag(db_session: Session) -> None:
    admin = make_actor(db_session, role="admin")
    user = make_user(db_session, admin.agency)
    with pytest.raises(Forbidden):
        service.set_operator(db_session, admin.principal, user.id, True)
    service.set_operator(db_session, SYSTEM, user.id, True)
    assert repository.user_by_id(db_session, user.id).is_operator  # type: ignore[union-attr]


def test_the_first_administrator_is_the_operator(db_session: Session) -> None:
    if repository.count_users(db_session) > 0:
        pytest.skip("the shared test database already has users")
    email, _ = service.bootstrap_admin(db_session) or ("", "")
    assert repository.user_by_email(db_session, email).is_operator  # type: ignore[union-attr]


def test_cli_user_operator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from takedown.cli import app

    monkeypatch.setenv("TAKEDOWN_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    r = runner.invoke(app, ["agency", "add", "Unit", "--country", "FR", "--kind", "national_iru"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(
        app, ["user", "add", "op@example.invalid", "--agency", "Unit", "--role", "admin",
              "--password", "x" * 16],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["user", "operator", "op@example.invalid"])
    assert r.exit_code == 0 and "is the instance operator" in r.output
    r = runner.invoke(app, ["user", "operator", "op@example.invalid", "--off"])
    assert r.exit_code == 0 and "no longer" in r.output


def test_an_agency_admin_cannot_add_agencies_or_users_elsewhere(db_session: Session) -> None:
    a, b = make_agency(db_session), make_agency(db_session)
    admin_b = make_actor(db_session, b, role="admin")
    with pytest.raises(Forbidden):
        service.create_agency(db_session, admin_b.principal, name="X", country="FR", kind="ngo")
    with pytest.raises(Forbidden):
        service.create_user(
            db_session, admin_b.principal, agency_id=a.id, email="z@example.invalid",
            role="admin", password="x" * 16,
        )  # fmt: skip
    user = service.create_user(
        db_session, admin_b.principal, agency_id=b.id, email="y@example.invalid",
        role="analyst", password="x" * 16,
    )  # fmt: skip
    assert user.agency_id == b.id
