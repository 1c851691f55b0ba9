"""Agencies, users, tokens, login and sessions."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass

from sqlalchemy.orm import Session

from takedown.accounts import repository
from takedown.accounts.models import (
    Agency,
    AgencyKind,
    ApiToken,
    BrowserSession,
    LoginAttempt,
    Role,
    User,
)
from takedown.accounts.passwords import (
    MIN_PASSWORD_LENGTH,
    hash_password,
    needs_rehash,
    new_totp_secret,
    verify_password,
    verify_totp,
)
from takedown.accounts.principal import Principal
from takedown.audit.service import record
from takedown.kit.clock import Clock, SystemClock
from takedown.kit.countries import is_country
from takedown.kit.errors import Conflict, InvalidInput, NotFound, RateLimited, Unauthorized

TOKEN_PREFIX = "tdk_"
SESSION_PREFIX = "tds_"
KNOWN_SCOPES = frozenset(
    {
        "*",
        "items:read",
        "items:write",
        "intake:write",
        "referrals:write",
        "evidence:read",
        "evidence:write",
        "banks:read",
        "banks:write",
        "portal:write",
        "verification:write",
        "sharing:read",
        "sharing:write",
        "monitoring:read",
        "monitoring:write",
        "resurgence:read",
        "resurgence:write",
        "admin",
    }
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

SYSTEM = Principal(user_id=0, agency_id=0, role=Role.ADMIN, via="system")


def _role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise InvalidInput(
            f"role {value!r} is not one of {', '.join(r.value for r in Role)}"
        ) from None


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def principal_for(
    user: User, agency: Agency, *, via: str, scopes: frozenset[str] = frozenset()
) -> Principal:
    if not agency.is_active:  # every way in (login, session, token, job) passes here
        raise Unauthorized(f"the agency {agency.name} is deactivated")
    return Principal(
        user_id=user.id,
        agency_id=agency.id,
        role=Role(user.role),
        scopes=scopes,
        platform_slug=agency.platform_slug,
        via=via,
        email=user.email,
        must_change_password=user.must_change_password,
    )


# --- agencies ---------------------------------------------------------------------------------


def create_agency(
    session: Session,
    actor: Principal,
    *,
    name: str,
    country: str,
    kind: str,
    contact_point: str = "",
    platform_slug: str | None = None,
) -> Agency:
    name = name.strip()
    country = country.strip().upper()
    if not name:
        raise InvalidInput("agency name is empty")
    if not is_country(country):
        raise InvalidInput(f"country {country!r} is not an ISO 3166-1 alpha-2 code")
    try:
        kind_v = AgencyKind(kind)
    except ValueError:
        raise InvalidInput(
            f"agency kind {kind!r} is not one of {', '.join(k.value for k in AgencyKind)}"
        ) from None
    if kind_v is AgencyKind.PLATFORM and not platform_slug:
        raise InvalidInput("a platform agency needs the platform it speaks for (platform_slug)")
    if repository.agency_by_name(session, name) is not None:
        raise Conflict(f"an agency named {name!r} already exists")
    agency = Agency(
        name=name,
        country=country,
        kind=kind_v.value,
        contact_point=contact_point,
        platform_slug=platform_slug,
    )
    repository.add(session, agency)
    record(
        session,
        actor,
        "agency.create",
        "agency",
        agency.id,
        {"name": name, "country": country, "kind": kind_v.value},
    )
    return agency


def get_agency(session: Session, agency_id: int) -> Agency:
    agency = repository.agency_by_id(session, agency_id)
    if agency is None:
        raise NotFound(f"agency {agency_id} does not exist")
    return agency


def find_agency(session: Session, ref: str) -> Agency:
    """An agency by id or by exact name (CLI convenience)."""
    agency = repository.agency_by_id(session, int(ref)) if ref.isdigit() else None
    agency = agency or repository.agency_by_name(session, ref)
    if agency is None:
        raise NotFound(f"agency {ref!r} does not exist")
    return agency


# --- users ------------------------------------------------------------------------------------


def create_user(
    session: Session,
    actor: Principal,
    *,
    agency_id: int,
    email: str,
    role: str,
    password: str,
    display_name: str = "",
    must_change_password: bool = False,
) -> User:
    email = email.strip()
    if not _EMAIL.match(email):
        raise InvalidInput(f"{email!r} is not an e-mail address")
    role_v = _role(role)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    agency = get_agency(session, agency_id)
    if role_v is Role.LIAISON and agency.kind != AgencyKind.PLATFORM.value:
        raise InvalidInput("platform liaison users belong to a platform agency")
    if repository.user_by_email(session, email) is not None:
        raise Conflict(f"a user with e-mail {email!r} already exists")
    user = User(
        agency_id=agency.id,
        email=email,
        role=role_v.value,
        display_name=display_name,
        password_hash=hash_password(password),
        must_change_password=must_change_password,
    )
    repository.add(session, user)
    record(
        session,
        actor,
        "user.create",
        "user",
        user.id,
        {"email": email, "role": role_v.value, "agency_id": agency.id},
    )
    return user


def get_user(session: Session, user_id: int) -> User:
    user = repository.user_by_id(session, user_id)
    if user is None:
        raise NotFound(f"user {user_id} does not exist")
    return user


def enable_totp(session: Session, actor: Principal, user_id: int) -> str:
    user = get_user(session, user_id)
    user.totp_secret = new_totp_secret()
    session.flush()
    record(session, actor, "user.totp_enable", "user", user.id, {})
    return user.totp_secret


def change_password(
    session: Session,
    actor: Principal,
    *,
    current: str,
    new: str,
    repeat: str,
    clock: Clock | None = None,
) -> User:
    """The logged-in user chooses a new password (and so clears ``must_change_password``).

    Errors name the field they are about ("current password", "new password",
    "repeat"), so the page shows each beside its field.
    """
    user = get_user(session, actor.user_id)
    if not verify_password(user.password_hash, current):
        raise InvalidInput("the current password is wrong")
    if len(new) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"the new password must have at least {MIN_PASSWORD_LENGTH} characters")
    if new != repeat:
        raise InvalidInput("the repeated password does not match the new password")
    if new == current:
        raise InvalidInput("the new password must differ from the current password")
    user.password_hash = hash_password(new)
    user.must_change_password = False
    session.flush()
    record(session, actor, "user.password_change", "user", user.id, {}, clock=clock)
    return user


def set_role(
    session: Session, actor: Principal, user_id: int, role: str, *, clock: Clock | None = None
) -> User:
    """An administrator changes a user's role (never their own: no accidental lock-out)."""
    user = get_user(session, user_id)
    role_v = _role(role)
    if actor.via != "system" and user.id == actor.user_id:
        raise Conflict("you cannot change your own role; ask another administrator")
    agency = get_agency(session, user.agency_id)
    if (role_v is Role.LIAISON) != (agency.kind == AgencyKind.PLATFORM.value):
        raise InvalidInput("platform liaison users belong to a platform agency, and only they do")
    previous = user.role
    if previous != role_v.value:
        user.role = role_v.value
        session.flush()
        record(
            session, actor, "user.role_change", "user", user.id,
            {"from": previous, "to": role_v.value}, clock=clock,
        )  # fmt: skip
    return user


def set_active(
    session: Session, actor: Principal, user_id: int, active: bool, *, clock: Clock | None = None
) -> User:
    """Deactivate (or reactivate) a user: no login, and their API tokens and sessions stop."""
    user = get_user(session, user_id)
    if not active and actor.via != "system" and user.id == actor.user_id:
        raise Conflict("you cannot deactivate yourself")
    if user.is_active != active:
        user.is_active = active
        session.flush()
        record(
            session, actor, "user.activate" if active else "user.deactivate", "user", user.id,
            {"email": user.email}, clock=clock,
        )  # fmt: skip
    return user


def find_user(session: Session, ref: str) -> User:
    """A user by id or e-mail (CLI convenience)."""
    user = repository.user_by_id(session, int(ref)) if ref.isdigit() else None
    user = user or repository.user_by_email(session, ref.strip())
    if user is None:
        raise NotFound(f"user {ref!r} does not exist")
    return user


# --- API tokens -------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedToken:
    token: str  # shown once, never stored
    row: ApiToken


def create_token(
    session: Session,
    actor: Principal,
    *,
    user_id: int,
    name: str,
    scopes: list[str] | None = None,
    expires_in_days: int | None = 90,
    clock: Clock | None = None,
) -> IssuedToken:
    user = get_user(session, user_id)
    scopes = sorted(set(scopes or ["*"]))
    unknown = [s for s in scopes if s not in KNOWN_SCOPES]
    if unknown:
        raise InvalidInput(f"unknown scope(s): {', '.join(unknown)}")
    now = (clock or SystemClock()).now()
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires = now + dt.timedelta(days=expires_in_days) if expires_in_days else None
    row = ApiToken(
        user_id=user.id,
        name=name.strip() or "token",
        prefix=raw[:10],
        token_hash=_sha256(raw),
        scopes=scopes,
        expires_at=expires,
        created_at=now,
    )
    repository.add(session, row)
    record(
        session,
        actor,
        "token.create",
        "api_token",
        row.id,
        {"user_id": user.id, "scopes": scopes, "expires_at": expires},
    )
    return IssuedToken(raw, row)


def revoke_token(
    session: Session, actor: Principal, token_id: int, *, clock: Clock | None = None
) -> None:
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"token {token_id} does not exist")
    row.revoked_at = (clock or SystemClock()).now()
    session.flush()
    record(session, actor, "token.revoke", "api_token", row.id, {})


def authenticate_token(session: Session, raw: str, *, clock: Clock | None = None) -> Principal:
    now = (clock or SystemClock()).now()
    row = repository.token_by_hash(session, _sha256(raw.strip()))
    if row is None or row.revoked_at is not None:
        raise Unauthorized("the API token is not valid")
    if row.expires_at is not None and row.expires_at <= now:
        raise Unauthorized("the API token has expired")
    user = get_user(session, row.user_id)
    if not user.is_active:
        raise Unauthorized("the user of this token is deactivated")
    if row.last_used_at is None or now - row.last_used_at > dt.timedelta(minutes=5):
        row.last_used_at = now
    return principal_for(
        user, get_agency(session, user.agency_id), via="token", scopes=frozenset(row.scopes)
    )


# --- login and browser sessions ---------------------------------------------------------------


@dataclass(frozen=True)
class LoginResult:
    principal: Principal
    session_token: str  # the cookie value, shown once
    csrf_token: str
    browser_session: BrowserSession


def login(
    session: Session,
    *,
    email: str,
    password: str,
    totp_code: str | None,
    client_ip: str,
    max_attempts: int,
    window_seconds: int,
    max_age_seconds: int,
    clock: Clock | None = None,
) -> LoginResult:
    """Check credentials (and TOTP), with rate limiting per account and per client address.

    Failed attempts are recorded in the caller's transaction; callers commit
    even when this raises, so the count survives (see ``deps`` and the views).
    """
    now = (clock or SystemClock()).now()
    since = now - dt.timedelta(seconds=window_seconds)
    keys = [f"user:{email.strip().lower()}", f"ip:{client_ip}"]
    for key in keys:
        if repository.failed_attempts_since(session, key, since) >= max_attempts:
            raise RateLimited(
                f"too many failed logins; try again in {window_seconds // 60} minutes",
                retry_after=window_seconds,
            )
    user = repository.user_by_email(session, email.strip())
    ok = user is not None and user.is_active and verify_password(user.password_hash, password)
    if ok and user is not None and user.totp_secret:
        ok = bool(totp_code) and verify_totp(user.totp_secret, totp_code or "", at=now.timestamp())
    if not ok or user is None:
        for key in keys:
            repository.add(session, LoginAttempt(key=key, at=now, success=False))
        record(
            session,
            None,
            "auth.login_failed",
            "user",
            email.strip().lower()[:128],
            {"ip": client_ip},
        )
        raise Unauthorized("wrong e-mail, password or one-time code")
    repository.clear_attempts(session, keys[0])
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = now
    raw = SESSION_PREFIX + secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    bs = BrowserSession(
        user_id=user.id,
        token_hash=_sha256(raw),
        csrf_token=csrf,
        created_at=now,
        expires_at=now + dt.timedelta(seconds=max_age_seconds),
    )
    repository.add(session, bs)
    principal = principal_for(user, get_agency(session, user.agency_id), via="session")
    record(session, principal, "auth.login", "user", user.id, {"ip": client_ip})
    return LoginResult(principal, raw, csrf, bs)


def authenticate_session(
    session: Session, raw: str, *, clock: Clock | None = None
) -> tuple[Principal, BrowserSession]:
    now = (clock or SystemClock()).now()
    bs = repository.session_by_hash(session, _sha256(raw))
    if bs is None or bs.revoked_at is not None or bs.expires_at <= now:
        raise Unauthorized("your session has ended; log in again")
    user = get_user(session, bs.user_id)
    if not user.is_active:
        raise Unauthorized("this user is deactivated")
    return principal_for(user, get_agency(session, user.agency_id), via="session"), bs


def logout(session: Session, raw: str, *, clock: Clock | None = None) -> None:
    bs = repository.session_by_hash(session, _sha256(raw))
    if bs is None or bs.revoked_at is not None:
        return
    bs.revoked_at = (clock or SystemClock()).now()
    user = get_user(session, bs.user_id)
    record(
        session,
        principal_for(user, get_agency(session, user.agency_id), via="session"),
        "auth.logout",
        "user",
        user.id,
        {},
    )


# --- bootstrap --------------------------------------------------------------------------------


def bootstrap_admin(session: Session) -> tuple[str, str] | None:
    """On first start (no users at all) create an admin and return its one-time login."""
    if repository.count_users(session) > 0:
        return None
    agency = repository.agency_by_name(session, "Local administration")
    if agency is None:
        agency = create_agency(
            session,
            SYSTEM,
            name="Local administration",
            country="EU",
            kind=AgencyKind.COORDINATOR.value,
            contact_point="",
        )
    password = secrets.token_urlsafe(18)
    email = "admin@takedown.local"
    create_user(
        session,
        SYSTEM,
        agency_id=agency.id,
        email=email,
        role=Role.ADMIN.value,
        password=password,
        display_name="Administrator",
        must_change_password=True,
    )
    return email, password
