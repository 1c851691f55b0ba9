"""The dead-letter queue in the CLI (``takedown jobs failed|retry``) and on the admin page
(admins only) (#18.1)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import typer
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

import takedown.cli  # noqa: F401  (the root installs the settings provider)
import takedown.kit.cli as kit_cli
from takedown.kit.clock import utcnow
from takedown.runtime import deadletters
from takedown.runtime.cli import register
from takedown.runtime.models import DeadJob, OutboxJob
from tests.factories import make_user
from tests.web.conftest import BROWSER_HEADERS, browser_login, csrf_from


def _dead(session: Session, n: int) -> DeadJob:
    return deadletters.record_dead(
        session, "evidence.capture", {"item_ids": [n], "user_id": 1}, outbox_id=None,
        attempts=5, error=f"TimeoutError: host {n} did not answer", now=utcnow(),
    )  # fmt: skip


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, session_factory: sessionmaker[Session]) -> Any:
    monkeypatch.setattr(kit_cli, "session_factory", lambda: session_factory)
    app = typer.Typer()
    register(app)

    def invoke(*args: str) -> Any:
        return CliRunner().invoke(app, list(args), env={"COLUMNS": "200", "NO_COLOR": "1"})

    return invoke


def test_cli_lists_and_retries_failed_jobs(cli: Any, db_session: Session) -> None:
    a, b = _dead(db_session, 1), _dead(db_session, 2)
    db_session.commit()
    r = cli("jobs", "failed")
    assert r.exit_code == 0, r.output
    assert "evidence.capture" in r.output and "host 2 did not answer" in r.output
    r = cli("jobs", "retry", str(a.id))
    assert r.exit_code == 0 and "1 job(s) queued again" in r.output
    r = cli("jobs", "retry", str(a.id))
    assert r.exit_code == 1 and "already retried" in r.output
    r = cli("jobs", "retry")
    assert r.exit_code == 1 and "--all" in r.output
    r = cli("jobs", "retry", "--all")
    assert r.exit_code == 0 and "1 job(s) queued again" in r.output
    assert "no failed jobs" in cli("jobs", "failed").output
    assert cli("jobs", "failed", "--all", "--json").output.count('"retried_as"') == 2
    kwargs = db_session.scalars(select(OutboxJob.kwargs).order_by(OutboxJob.id)).all()
    assert kwargs[-2:] == [{"item_ids": [1], "user_id": 1}, {"item_ids": [2], "user_id": 1}]
    assert "pending: 2" in cli("jobs", "outbox").output
    assert b.id != a.id


@pytest.fixture
def web(app_factory: Any) -> Iterator[TestClient]:
    with TestClient(app_factory(), raise_server_exceptions=False, headers=BROWSER_HEADERS) as c:
        yield c


def test_admin_page_is_the_operators_and_retries(web: TestClient, db_session: Session) -> None:
    dead = _dead(db_session, 3)
    db_session.commit()
    supervisor = make_user(db_session, role="supervisor")
    browser_login(web, supervisor.email)
    assert web.get("/admin/jobs").status_code == 403
    # A failed job's arguments and error may name any agency's rows: the operator's page.
    agency_admin = make_user(db_session, role="admin")
    browser_login(web, agency_admin.email)
    refused = web.get("/admin/jobs")
    assert refused.status_code == 403 and "host 3 did not answer" not in refused.text
    assert 'href="/admin/jobs"' not in web.get("/").text
    admin = make_user(db_session, role="admin", operator=True)
    browser_login(web, admin.email)
    page = web.get("/admin/jobs")
    assert 'href="/admin/jobs"' in page.text
    assert page.status_code == 200 and "host 3 did not answer" in page.text
    r = web.post(f"/admin/jobs/{dead.id}/retry", data={"csrf_token": csrf_from(page.text)},
                 follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    db_session.expire_all()
    assert db_session.get(DeadJob, dead.id).retried_as is not None  # type: ignore[union-attr]
    assert "No failed jobs." in web.get("/admin/jobs").text
