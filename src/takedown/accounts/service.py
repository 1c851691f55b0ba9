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
from takedown.accounts.scopes import KNOWN_SCOPES, ROLE_SCOPES, expand, unknown
from takedown.audit.service import record
from takedown.kit.clock import Clock, SystemClock
from takedown.kit.countries import is_country
from takedown.kit.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    RateLimited,
    Unauthorized,
)

TOKEN_PREFIX = "tdk_"
SESSION_PREFIX = "tds_"
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
        is_operator=user.is_operator,
    )


def _as_operator(actor: Principal) -> dict[str, bool]:
    """Marks in the audit log what the operator did with their instance-wide power."""
    return {"as_operator": True} if actor.is_operator else {}


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
    if not actor.instance_wide:
        raise Forbidden(
            "adding an agency is for the instance operator (takedown user operator EMAIL)"
        )
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
        {"name": name, "country": country, "kind": kind_v.value, **_as_operator(actor)},
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
    if agency.id != actor.agency_id and not actor.instance_wide:
        raise Forbidden("an administrator adds users to their own agency only")
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
        {
            "email": email,
            "role": role_v.value,
            "agency_id": agency.id,
            **(_as_operator(actor) if agency.id != actor.agency_id else {}),
        },
    )
    return user


def get_user(session: Session, user_id: int) -> User:
    user = repository.user_by_id(session, user_id)
    if user is None:
        raise NotFound(f"user {user_id} does not exist")
    return user


def user_of_agency(
    session: Session, actor: Principal, user_id: int, *, operator: bool = False
) -> User:
    """A user an administrator may act on: one of the actor's own agency (404 otherwise,
    so users of other agencies do not show they exist). The system (CLI) reaches all, and
    so does the operator where ``operator`` says the act is theirs ((de)activating a user,
    setting up one-time codes for a new agency's first administrator)."""
    user = repository.user_by_id(session, user_id)
    reaches = actor.via == "system" or (operator and actor.is_operator)
    if user is None or (not reaches and user.agency_id != actor.agency_id):
        raise NotFound(f"user {user_id} does not exist")
    return user


def enable_totp(session: Session, actor: Principal, user_id: int) -> str:
    user = user_of_agency(session, actor, user_id, operator=True)
    user.totp_secret = new_totp_secret()
    session.flush()
    record(
        session, actor, "user.totp_enable", "user", user.id,
        _as_operator(actor) if user.agency_id != actor.agency_id else {},
    )  # fmt: skip
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
    user = user_of_agency(session, actor, user_id)
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
    user = user_of_agency(session, actor, user_id, operator=True)
    if not active and actor.via != "system" and user.id == actor.user_id:
        raise Conflict("you cannot deactivate yourself")
    if user.is_active != active:
        user.is_active = active
        session.flush()
        record(
            session, actor, "user.activate" if active else "user.deactivate", "user", user.id,
            {"email": user.email, **(_as_operator(actor) if user.agency_id != actor.agency_id
                                     else {})}, clock=clock,
        )  # fmt: skip
    return user


def set_operator(session: Session, actor: Principal, user_id: int, on: bool) -> User:
    """Make a user the instance operator (or not). Only from the command line (the system):
    the web and the API cannot grant it, so no agency's administrator can take it."""
    if actor.via != "system":
        raise Forbidden("the operator flag is set from the command line only")
    user = get_user(session, user_id)
    if user.is_operator != on:
        user.is_operator = on
        session.flush()
        record(
            session, actor, "user.operator_grant" if on else "user.operator_revoke", "user",
            user.id, {"email": user.email},
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
    check_grantable(actor, Role(user.role), scopes)
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


def check_grantable(actor: Principal, role: Role, scopes: list[str]) -> None:
    """Refuse scopes that are unknown, beyond the holder's role, or beyond the creator's token.

    A token never mints a token with more than it holds (``*`` included): the scopes the new
    token would grant, opened for the holder's role, must all be held by the creating token.
    """
    bad = unknown(scopes)
    if bad:
        raise InvalidInput(f"unknown scope(s): {', '.join(bad)}")
    beyond_role = [
        s for s in scopes if s in KNOWN_SCOPES and s != "*" and s not in ROLE_SCOPES[role]
    ]
    if beyond_role:
        raise Forbidden(f"a user with the role {role.value} may not hold: {', '.join(beyond_role)}")
    if actor.via == "token":
        lacking = sorted(s for s in expand(scopes, role) if not actor.has_scope(s))
        if lacking:
            raise Forbidden(
                "a token cannot create a token with scopes it does not hold: " + ", ".join(lacking)
            )


def revoke_token(
    session: Session, actor: Principal, token_id: int, *, clock: Clock | None = None
) -> None:
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"token {token_id} does not exist")
    if row.user_id != actor.user_id and actor.via != "system":
        # Someone else's token: only an admin of the holder's agency (404 for everyone else,
        # so another agency's tokens do not show they exist).
        holder = get_user(session, row.user_id)
        if not actor.is_admin or holder.agency_id != actor.agency_id:
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
        user,
        get_agency(session, user.agency_id),
        via="token",
        scopes=expand(row.scopes, Role(user.role)),
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
    max_attempts_per_address: int | None = None,
    clock: Clock | None = None,
) -> LoginResult:
    """Check credentials (and TOTP), with rate limiting per account and per client address.

    Failed attempts are recorded in the caller's transaction; callers commit
    even when this raises, so the count survives (see ``deps`` and the views).
    """
    now = (clock or SystemClock()).now()
    since = now - dt.timedelta(seconds=window_seconds)
    keys = [f"user:{email.strip().lower()}", f"ip:{client_ip}"]
    # Two separate limits: an account's, and a looser one for an address (an office behind
    # one NAT address shares it; one user's typos must not lock out their colleagues).
    limits = [max_attempts, max_attempts_per_address or max_attempts * 10]
    for key, limit in zip(keys, limits, strict=True):
        if repository.failed_attempts_since(session, key, since) >= limit:
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
    user = create_user(
        session,
        SYSTEM,
        agency_id=agency.id,
        email=email,
        role=Role.ADMIN.value,
        password=password,
        display_name="Administrator",
        must_change_password=True,
    )
    set_operator(session, SYSTEM, user.id, True)  # whoever installs the instance runs it
    return email, password
