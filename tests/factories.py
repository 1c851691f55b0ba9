"""Row factories for tests. Each call makes unique rows; pass fields to override."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from sqlalchemy.orm import Session

from takedown.accounts import service
from takedown.accounts.models import Agency, User
from takedown.accounts.principal import Principal
from takedown.accounts.service import SYSTEM

_seq = itertools.count(1)
PASSWORD = "correct horse battery staple"


def make_agency(
    session: Session,
    *,
    name: str | None = None,
    country: str = "FR",
    kind: str = "national_iru",
    contact_point: str = "",
    platform_slug: str | None = None,
) -> Agency:
    n = next(_seq)
    return service.create_agency(
        session,
        SYSTEM,
        name=name or f"Agency {n}",
        country=country,
        kind=kind,
        contact_point=contact_point or f"iru{n}@example.invalid",
        platform_slug=platform_slug,
    )


def make_user(
    session: Session,
    agency: Agency | None = None,
    *,
    role: str = "analyst",
    email: str | None = None,
    password: str = PASSWORD,
    operator: bool = False,
) -> User:
    agency = agency or make_agency(session)
    n = next(_seq)
    user = service.create_user(
        session,
        SYSTEM,
        agency_id=agency.id,
        email=email or f"user{n}@example.invalid",
        role=role,
        password=password,
        display_name=f"User {n}",
    )
    if operator:
        service.set_operator(session, SYSTEM, user.id, True)
    return user


@dataclass
class Actor:
    """A user with a token: what API tests act as."""

    user: User
    agency: Agency
    token: str
    principal: Principal

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def make_actor(
    session: Session,
    agency: Agency | None = None,
    *,
    role: str = "analyst",
    scopes: list[str] | None = None,
    operator: bool = False,
) -> Actor:
    agency = agency or make_agency(session)
    user = make_user(session, agency, role=role, operator=operator)
    issued = service.create_token(session, SYSTEM, user_id=user.id, name="test", scopes=scopes)
    principal = service.authenticate_token(session, issued.token)
    return Actor(user, agency, issued.token, principal)
