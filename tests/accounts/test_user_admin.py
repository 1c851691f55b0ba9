"""Changing your password, an administrator's role changes and deactivation, and their CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from takedown.accounts import service
from takedown.accounts.passwords import verify_password
from takedown.accounts.service import SYSTEM
from takedown.audit.models import AuditEvent
from takedown.kit.errors import Conflict, InvalidInput, Unauthorized
from tests.factories import PASSWORD, make_actor, make_agency, make_user
from tests.test_cli import run

LOGIN = dict(client_ip="192.0.2.7", max_attempts=50, window_seconds=300, max_age_seconds=3600)
NEW = "an entirely new passphrase"


def _actions(session: Session, user_id: int) -> list[str]:
    rows = session.query(AuditEvent).filter_by(subject_type="user").all()
    return [e.action for e in rows if e.subject_id == str(user_id)]


def test_change_password_rules(db_session: Session) -> None:
    user = make_user(db_session)
    user.must_change_password = True
    actor = service.authenticate_token(
        db_session, service.create_token(db_session, SYSTEM, user_id=user.id, name="t").token
    )
    with pytest.raises(InvalidInput, match="current password is wrong"):
        service.change_password(db_session, actor, current="wrong", new=NEW, repeat=NEW)
    with pytest.raises(InvalidInput, match="at least"):
        service.change_password(db_session, actor, current=PASSWORD, new="short", repeat="short")
    with pytest.raises(InvalidInput, match="does not match"):
        service.change_password(db_session, actor, current=PASSWORD, new=NEW, repeat=NEW + "x")
    with pytest.raises(InvalidInput, match="differ"):
        service.change_password(db_session, actor, current=PASSWORD, new=PASSWORD,
                                repeat=PASSWORD)  # fmt: skip
    assert user.must_change_password is True
    service.change_password(db_session, actor, current=PASSWORD, new=NEW, repeat=NEW)
    assert user.must_change_password is False
    assert user.password_hash.startswith("$argon2") and verify_password(user.password_hash, NEW)
    assert "user.password_change" in _actions(db_session, user.id)


def test_set_role_and_its_rules(db_session: Session) -> None:
    admin = make_actor(db_session, role="admin")
    user = make_user(db_session, admin.agency)
    service.set_role(db_session, admin.principal, user.id, "supervisor")
    assert user.role == "supervisor"
    assert "user.role_change" in _actions(db_session, user.id)
    with pytest.raises(InvalidInput, match="not one of"):
        service.set_role(db_session, admin.principal, user.id, "boss")
    with pytest.raises(InvalidInput, match="platform"):
        service.set_role(db_session, admin.principal, user.id, "liaison")
    with pytest.raises(Conflict, match="your own role"):
        service.set_role(db_session, admin.principal, admin.user.id, "analyst")


def test_deactivated_users_cannot_log_in_and_their_tokens_stop(db_session: Session) -> None:
    admin = make_actor(db_session, role="admin")
    target = make_actor(db_session, admin.agency)
    service.set_active(db_session, admin.principal, target.user.id, False)
    assert "user.deactivate" in _actions(db_session, target.user.id)
    with pytest.raises(Unauthorized):
        service.authenticate_token(db_session, target.token)
    with pytest.raises(Unauthorized):
        service.login(db_session, email=target.user.email, password=PASSWORD, totp_code=None,
                      **LOGIN)  # type: ignore[arg-type]  # fmt: skip
    with pytest.raises(Conflict, match="yourself"):
        service.set_active(db_session, admin.principal, admin.user.id, False)
    service.set_active(db_session, admin.principal, target.user.id, True)
    assert service.authenticate_token(db_session, target.token).user_id == target.user.id


def test_cli_set_role_deactivate_activate(tmp_path: Path) -> None:
    assert run(tmp_path, "db", "upgrade").returncode == 0
    assert run(tmp_path, "agency", "add", "CLI unit", "--country", "FR").returncode == 0
    r = run(tmp_path, "user", "add", "cli.user@example.invalid", "--agency", "CLI unit",
            "--password", "a-long-enough-password")  # fmt: skip
    assert r.returncode == 0, r.stderr
    r = run(tmp_path, "user", "set-role", "cli.user@example.invalid", "supervisor")
    assert r.returncode == 0 and "is now supervisor" in r.stdout
    r = run(tmp_path, "user", "set-role", "cli.user@example.invalid", "boss")
    assert r.returncode == 1 and "not one of" in r.stderr
    r = run(tmp_path, "user", "deactivate", "cli.user@example.invalid")
    assert r.returncode == 0 and "deactivated" in r.stdout
    rows = json.loads(run(tmp_path, "user", "list", "--format", "json").stdout)
    assert rows[0]["active"] is False and rows[0]["role"] == "supervisor"
    r = run(tmp_path, "user", "activate", "1")
    assert r.returncode == 0 and "is active" in r.stdout
    r = run(tmp_path, "user", "deactivate", "nobody@example.invalid")
    assert r.returncode == 1 and "does not exist" in r.stderr
    assert "intact" in run(tmp_path, "audit", "verify").stdout


def test_a_liaison_cannot_become_an_analyst(db_session: Session) -> None:
    # Liaisons belong to platform agencies; moving an analyst there is refused the other way too.
    platform = make_agency(db_session, kind="platform", platform_slug="x", country="IE")
    admin = make_actor(db_session, platform, role="admin")
    liaison = make_user(db_session, platform, role="liaison")
    with pytest.raises(InvalidInput, match="platform"):
        service.set_role(db_session, admin.principal, liaison.id, "analyst")


def test_an_admin_changes_only_their_own_agencys_users(db_session: Session) -> None:
    """#19.3: another agency's users answer 404 to an agency's administrator."""
    from takedown.kit.errors import NotFound

    admin = make_actor(db_session, role="admin")
    other = make_user(db_session)  # of another agency
    with pytest.raises(NotFound):
        service.set_role(db_session, admin.principal, other.id, "supervisor")
    with pytest.raises(NotFound):
        service.set_active(db_session, admin.principal, other.id, False)
    with pytest.raises(NotFound):
        service.enable_totp(db_session, admin.principal, other.id)
    operator = make_actor(db_session, role="admin", operator=True)
    service.set_active(db_session, operator.principal, other.id, False)  # audited as operator
    assert other.is_active is False
