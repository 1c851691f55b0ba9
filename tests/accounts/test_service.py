from __future__ import annotations

import datetime as dt

import pyotp
import pytest
from sqlalchemy.orm import Session

from takedown.accounts import service
from takedown.accounts.models import Role
from takedown.accounts.service import SYSTEM
from takedown.kit.clock import FrozenClock
from takedown.kit.errors import Conflict, InvalidInput, RateLimited, Unauthorized
from tests.factories import PASSWORD, make_agency, make_user

LOGIN = dict(client_ip="192.0.2.1", max_attempts=3, window_seconds=300, max_age_seconds=3600)


def test_agency_validation(db_session: Session) -> None:
    with pytest.raises(InvalidInput, match="ISO 3166"):
        service.create_agency(db_session, SYSTEM, name="X", country="France", kind="national_iru")
    with pytest.raises(InvalidInput, match="ISO 3166"):
        service.create_agency(db_session, SYSTEM, name="X", country="XX", kind="national_iru")
    with pytest.raises(InvalidInput, match="kind"):
        service.create_agency(db_session, SYSTEM, name="X", country="FR", kind="police")
    with pytest.raises(InvalidInput, match="platform_slug"):
        service.create_agency(db_session, SYSTEM, name="X", country="IE", kind="platform")
    make_agency(db_session, name="Dup")
    with pytest.raises(Conflict):
        make_agency(db_session, name="Dup")


def test_user_password_is_hashed_with_argon2(db_session: Session) -> None:
    user = make_user(db_session)
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    with pytest.raises(InvalidInput, match="at least"):
        make_user(db_session, password="short")
    with pytest.raises(InvalidInput, match="liaison"):
        make_user(db_session, role="liaison")


def test_token_shown_once_and_stored_hashed(db_session: Session) -> None:
    user = make_user(db_session)
    issued = service.create_token(
        db_session, SYSTEM, user_id=user.id, name="t", scopes=["items:read"]
    )
    assert issued.token.startswith("tdk_")
    assert issued.row.token_hash != issued.token and len(issued.row.token_hash) == 64
    p = service.authenticate_token(db_session, issued.token)
    assert p.user_id == user.id and p.has_scope("items:read") and not p.has_scope("items:write")
    with pytest.raises(Unauthorized):
        service.authenticate_token(db_session, issued.token + "x")
    service.revoke_token(db_session, SYSTEM, issued.row.id)
    with pytest.raises(Unauthorized, match="not valid"):
        service.authenticate_token(db_session, issued.token)


def test_token_expiry(db_session: Session) -> None:
    user = make_user(db_session)
    clock = FrozenClock(dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    issued = service.create_token(
        db_session, SYSTEM, user_id=user.id, name="t", expires_in_days=1, clock=clock
    )
    service.authenticate_token(db_session, issued.token, clock=clock)
    clock.advance(dt.timedelta(days=1, seconds=1))
    with pytest.raises(Unauthorized, match="expired"):
        service.authenticate_token(db_session, issued.token, clock=clock)
    with pytest.raises(InvalidInput, match="unknown scope"):
        service.create_token(db_session, SYSTEM, user_id=user.id, name="t", scopes=["root"])


def test_login_session_and_rate_limit(db_session: Session) -> None:
    user = make_user(db_session, role="supervisor")
    res = service.login(
        db_session, email=user.email.upper(), password=PASSWORD, totp_code=None, **LOGIN
    )
    assert res.principal.role is Role.SUPERVISOR and res.principal.via == "session"
    p, bs = service.authenticate_session(db_session, res.session_token)
    assert p.user_id == user.id and bs.csrf_token == res.csrf_token
    service.logout(db_session, res.session_token)
    with pytest.raises(Unauthorized):
        service.authenticate_session(db_session, res.session_token)
    for _ in range(3):
        with pytest.raises(Unauthorized):
            service.login(
                db_session, email=user.email, password="wrong password!", totp_code=None, **LOGIN
            )
    # Even the right password is refused while the window is full.
    with pytest.raises(RateLimited):
        service.login(db_session, email=user.email, password=PASSWORD, totp_code=None, **LOGIN)


def test_login_rate_limit_window_passes(db_session: Session) -> None:
    user = make_user(db_session)
    clock = FrozenClock(dt.datetime(2026, 3, 1, tzinfo=dt.UTC))
    for _ in range(3):
        with pytest.raises(Unauthorized):
            service.login(
                db_session,
                email=user.email,
                password="nope-nope-nope",
                totp_code=None,
                clock=clock,
                **LOGIN,
            )
    clock.advance(dt.timedelta(seconds=301))
    service.login(
        db_session, email=user.email, password=PASSWORD, totp_code=None, clock=clock, **LOGIN
    )


def test_totp_required_when_enabled(db_session: Session) -> None:
    user = make_user(db_session)
    secret = service.enable_totp(db_session, SYSTEM, user.id)
    with pytest.raises(Unauthorized):
        service.login(db_session, email=user.email, password=PASSWORD, totp_code=None, **LOGIN)
    with pytest.raises(Unauthorized):
        service.login(
            db_session,
            email=user.email,
            password=PASSWORD,
            totp_code="000000",
            **{**LOGIN, "client_ip": "192.0.2.9"},
        )
    code = pyotp.TOTP(secret).now()
    res = service.login(
        db_session,
        email=user.email,
        password=PASSWORD,
        totp_code=code,
        **{**LOGIN, "client_ip": "192.0.2.10"},
    )
    assert res.principal.user_id == user.id


def test_bootstrap_admin_only_once(db_session: Session) -> None:
    from takedown.accounts import repository

    if repository.count_users(db_session) == 0:
        first = service.bootstrap_admin(db_session)
        assert first is not None
        res = service.login(db_session, email=first[0], password=first[1], totp_code=None, **LOGIN)
        assert res.principal.role is Role.ADMIN
    assert service.bootstrap_admin(db_session) is None
