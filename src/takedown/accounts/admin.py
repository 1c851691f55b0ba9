"""Administration of existing accounts: an administrator resets a user's password, and
agencies are edited and deactivated.

Why a module of its own: these act on other people's accounts, so each says who may do
it. An agency's administrator acts within their own agency only; the instance (the CLI,
which runs as the system, and the instance operator) acts across agencies. A reset
password is a random one shown once; the user must choose their own at the next login
(``must_change_password``), and their open browser sessions end. A deactivated agency's
users can no longer log in or use their tokens (``service.principal_for``); its rows
stay, and it can be reactivated.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from takedown.accounts import repository
from takedown.accounts.models import Agency, User
from takedown.accounts.passwords import hash_password
from takedown.accounts.principal import Principal
from takedown.accounts.service import get_agency, get_user
from takedown.audit.service import record
from takedown.kit.clock import Clock, SystemClock
from takedown.kit.countries import is_country
from takedown.kit.errors import Conflict, Forbidden, InvalidInput

RESET_PASSWORD_BYTES = 15  # 20 URL-safe characters


def _may_administer(actor: Principal, agency_id: int) -> None:
    if actor.instance_wide:
        return
    if not actor.is_admin:
        raise Forbidden("this needs an administrator")
    if agency_id != actor.agency_id:
        raise Forbidden("an administrator acts within their own agency only")


# --- password reset ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PasswordReset:
    user: User
    password: str  # shown once to the administrator, never stored
    sessions_ended: int


def reset_password(
    session: Session, actor: Principal, user_id: int, *, clock: Clock | None = None
) -> PasswordReset:
    """Give a user a new random password that they must change at their next login."""
    now = (clock or SystemClock()).now()
    user = get_user(session, user_id)
    _may_administer(actor, user.agency_id)
    if actor.via != "system" and user.id == actor.user_id:
        raise Conflict("you cannot reset your own password here: change it on your account page")
    if not user.is_active:
        raise Conflict(f"{user.email} is deactivated: reactivate the user first")
    password = secrets.token_urlsafe(RESET_PASSWORD_BYTES)
    user.password_hash = hash_password(password)
    user.must_change_password = True
    ended = 0
    for bs in repository.open_sessions_of_user(session, user.id, now):
        bs.revoked_at = now
        ended += 1
    session.flush()
    record(
        session, actor, "user.password_reset", "user", user.id,
        {"email": user.email, "sessions_ended": ended}, clock=clock,
    )  # fmt: skip
    return PasswordReset(user, password, ended)


# --- agencies ---------------------------------------------------------------------------------

EDITABLE = ("name", "country", "contact_point")


def update_agency(
    session: Session,
    actor: Principal,
    agency_id: int,
    *,
    name: str | None = None,
    country: str | None = None,
    contact_point: str | None = None,
    clock: Clock | None = None,
) -> Agency:
    """Change an agency's name, country or contact point (its kind and platform stay)."""
    agency = get_agency(session, agency_id)
    _may_administer(actor, agency.id)
    changes: dict[str, Any] = {}
    if name is not None:
        name = name.strip()
        if not name:
            raise InvalidInput("agency name is empty")
        if len(name) > 200:
            raise InvalidInput("agency name is longer than 200 characters")
        other = repository.agency_by_name(session, name)
        if other is not None and other.id != agency.id:
            raise Conflict(f"an agency named {name!r} already exists")
        if name != agency.name:
            changes["name"] = [agency.name, name]
            agency.name = name
    if country is not None:
        country = country.strip().upper()
        if not is_country(country):
            raise InvalidInput(f"country {country!r} is not an ISO 3166-1 alpha-2 code")
        if country != agency.country:
            changes["country"] = [agency.country, country]
            agency.country = country
    if contact_point is not None:
        contact_point = contact_point.strip()
        if len(contact_point) > 320:
            raise InvalidInput("contact point is longer than 320 characters")
        if contact_point != agency.contact_point:
            changes["contact_point"] = [agency.contact_point, contact_point]
            agency.contact_point = contact_point
    if changes:
        session.flush()
        record(session, actor, "agency.update", "agency", agency.id, changes, clock=clock)
    return agency


def set_agency_active(
    session: Session,
    actor: Principal,
    agency_id: int,
    active: bool,
    *,
    clock: Clock | None = None,
) -> Agency:
    """Deactivate (or reactivate) an agency: its users can no longer log in or use tokens.

    Only the instance does it (the CLI, the instance operator), and never to its own
    agency: an agency's administrator would lock everyone out, themselves included.
    """
    agency = get_agency(session, agency_id)
    if not actor.instance_wide:
        raise Forbidden(
            "deactivating an agency is for the instance operator "
            "(or `takedown agency deactivate` on the server)"
        )
    if not active and actor.via != "system" and agency.id == actor.agency_id:
        raise Conflict("you cannot deactivate your own agency")
    if agency.is_active != active:
        agency.is_active = active
        session.flush()
        record(
            session, actor, "agency.activate" if active else "agency.deactivate", "agency",
            agency.id, {"name": agency.name}, clock=clock,
        )  # fmt: skip
    return agency


def may_edit_agency(actor: Principal, agency: Agency) -> bool:
    return actor.instance_wide or (actor.is_admin and agency.id == actor.agency_id)


def may_reset_password(actor: Principal, user: User) -> bool:
    return (
        (actor.instance_wide or (actor.is_admin and user.agency_id == actor.agency_id))
        and user.id != actor.user_id
        and user.is_active
    )
