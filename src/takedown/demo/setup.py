"""Before the day starts: the agencies' files, the people, the platforms, the operation.

Each agency of the testbed's report files becomes a national IRU with an analyst and
a supervisor; a coordination agency holds the administrator. Passwords are random per
run and returned once. The platform records of the platforms the demo refers to are
pointed at the testbed's trust-and-safety desks (the same edit an administrator makes
with ``takedown platform set``).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from takedown.accounts import service as accounts
from takedown.accounts.models import AgencyKind, Role
from takedown.accounts.principal import Principal
from takedown.db import session_scope
from takedown.demo.result import Login
from takedown.kit.clock import Clock
from takedown.kit.countries import is_country
from takedown.kit.errors import Unavailable
from takedown.operations import service as operations
from takedown.platforms import authorities
from takedown.platforms import repository as platforms_repository
from takedown.platforms import service as platforms
from takedown.sim.app import authority_email
from takedown.sim.harness import SimHandle
from takedown.sim.reports import export_reports

REPORT_SUFFIXES = ("-report.csv", "-report.jsonl", "-report.txt")


@dataclass(frozen=True, slots=True)
class Referred:
    """A platform the demo refers to, the way its trust-and-safety desk takes referrals."""

    platform: str  # our slug, and the testbed's platform id
    kind: str  # tos | removal_order
    channel: str  # api | email


REFERRED: tuple[Referred, ...] = (
    Referred("x", "tos", "api"),
    Referred("telegram", "tos", "email"),
    Referred("youtube", "removal_order", "email"),
)


@dataclass(frozen=True, slots=True)
class Team:
    agency_id: int
    agency: str
    analyst: Principal
    supervisor: Principal
    file: Path


def password() -> str:
    return secrets.token_urlsafe(12)  # 16 characters, about 72 bits


def export_files(sim: SimHandle, out: Path) -> list[Path]:
    """The agencies' report files for the day, as the testbed writes them (one per agency)."""
    sim.call(lambda: export_reports(sim.world, out))
    files = sorted(p for p in out.iterdir() if p.name.endswith(REPORT_SUFFIXES))
    if not files:
        raise Unavailable("the testbed wrote no agency report files")
    return files


def _user(
    s: Session,
    logins: list[Login],
    agency_id: int,
    agency: str,
    role: Role,
    email: str,
    *,
    operator: bool = False,
) -> Principal:
    secret = password()
    user = accounts.create_user(
        s,
        accounts.SYSTEM,
        agency_id=agency_id,
        email=email,
        role=role.value,
        password=secret,
        display_name=f"{agency} {role.value}",
        # A throw-away instance with random passwords printed once: forcing a change at the
        # first login would only stand between the audience and the dashboard.
        must_change_password=False,
    )
    if operator:  # the instance operator: edits the platform registry and the authorities
        accounts.set_operator(s, accounts.SYSTEM, user.id, True)
    logins.append(Login(email, secret, role.value, agency))
    return accounts.principal_for(user, accounts.get_agency(s, agency_id), via="cli")


def create_teams(
    factory: sessionmaker[Session], files: Sequence[Path]
) -> tuple[Principal, list[Team], list[Login]]:
    """An administrator, and per report file an agency with an analyst and a supervisor."""
    teams: list[Team] = []
    logins: list[Login] = []
    with session_scope(factory) as s:
        coord = accounts.create_agency(
            s,
            accounts.SYSTEM,
            name="Demo coordination",
            country="EU",
            kind=AgencyKind.COORDINATOR.value,
            contact_point="coordination@demo.invalid",
        )
        admin = _user(
            s, logins, coord.id, coord.name, Role.ADMIN, "admin@demo.invalid", operator=True
        )
        for f in files:
            name = f.name.split("-report", 1)[0].upper()  # "IRU-BE"
            slug = name.lower()
            parts = name.split("-")
            country = parts[1] if len(parts) > 1 and is_country(parts[1]) else "EU"
            agency = accounts.create_agency(
                s,
                accounts.SYSTEM,
                name=name,
                country=country,
                kind=AgencyKind.NATIONAL_IRU.value,
                contact_point=f"referrals@{slug}.demo.invalid",
            )
            analyst = _user(
                s, logins, agency.id, name, Role.ANALYST, f"analyst@{slug}.demo.invalid"
            )
            sup = _user(
                s, logins, agency.id, name, Role.SUPERVISOR, f"supervisor@{slug}.demo.invalid"
            )
            teams.append(Team(agency.id, name, analyst, sup, f))
    return admin, teams, logins


def point_platforms(
    factory: sessionmaker[Session], sim: SimHandle, admin: Principal, clock: Clock
) -> tuple[list[Referred], list[str]]:
    """Point the platform records at the testbed's desks; the platforms ready, and notes."""

    def desks() -> dict[str, tuple[str, str]]:
        return {pid: (p.tns.host, p.tns.email) for pid, p in sim.world.platforms.items()}

    found = sim.call(desks)
    ready: list[Referred] = []
    notes: list[str] = []
    with session_scope(factory) as s:
        for r in REFERRED:
            host, email = found.get(r.platform, ("", ""))
            if not host or not email:
                notes.append(f"the scenario has no {r.platform} desk; nothing is referred there")
                continue
            platforms.update(
                s,
                admin,
                r.platform,
                {
                    "delivery_channel": r.channel,
                    # The status API answers for any acknowledgement, whatever the channel.
                    "api_endpoint": f"https://{host}/api/v1/referrals",
                    "tco_contact_point": email,
                },
                clock=clock,
            )
            ready.append(r)
            # The removal order's Art. 4(1) copy goes to the host state's competent
            # authority: the testbed's mailbox for it, confirmed, so the copy arrives.
            row = platforms_repository.by_slug(s, r.platform)
            country = (row.country or "").upper() if row else ""
            if r.kind == "removal_order" and country in authorities.EU_MEMBER_STATES:
                known = authorities.for_state(s, country).name
                authorities.update(
                    s, admin, country,
                    {"name": known or f"Simulated competent authority ({country})",
                     "contact_point": authority_email(country), "confirmed": True},
                    clock=clock,
                )  # fmt: skip
    return ready, notes


def create_operation(
    factory: sessionmaker[Session],
    teams: Sequence[Team],
    name: str,
    span: dt.timedelta,
    clock: Clock,
) -> tuple[int, str]:
    """The operation, led by the first agency with the others taking part, and running."""
    lead = teams[0]
    with session_scope(factory) as s:
        op = operations.create_operation(
            s,
            lead.supervisor,
            name=name,
            starts_at=clock.now(),
            ends_at=clock.now() + span,
            participants=[(t.agency_id, "participant") for t in teams[1:]],
            notes="Created by `takedown demo` on the testbed: synthetic content only.",
            clock=clock,
        )
        operations.set_status(s, lead.supervisor, op.id, "running", clock=clock)
        return op.id, op.name
