"""Rows for referral tests: platform records, agencies with analysts and supervisors."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from sqlalchemy.orm import Session

from takedown.items.models import Item
from takedown.platforms.models import Platform
from tests.factories import Actor, make_actor, make_agency
from tests.items.factories import make_assessed_item

_seq = itertools.count(1)


def ensure_platform(
    session: Session,
    slug: str = "x",
    *,
    country: str = "IE",
    channel: str = "portal",
    api_endpoint: str | None = None,
    contact: str = "tco@x.example",
    domains: list[str] | None = None,
    kind: str = "social",
) -> Platform:
    row = session.query(Platform).filter_by(slug=slug).one_or_none()
    if row is None:
        row = Platform(slug=slug, name=slug.upper(), kind=kind, domains=domains or [f"{slug}.com"])
        session.add(row)
    row.country = country
    row.delivery_channel = channel
    row.api_endpoint = api_endpoint
    row.tco_contact_point = contact
    row.legal_representative = f"{slug} Legal Rep Ltd"
    session.flush()
    return row


@dataclass
class Team:
    analyst: Actor
    supervisor: Actor
    supervisor2: Actor


def make_team(session: Session, country: str = "FR") -> Team:
    agency = make_agency(session, country=country)
    return Team(
        make_actor(session, agency, role="analyst"),
        make_actor(session, agency, role="supervisor"),
        make_actor(session, agency, role="supervisor"),
    )


def x_item(session: Session, actor: Actor) -> Item:
    n = next(_seq)
    return make_assessed_item(
        session, actor, url=f"https://x.com/ref_handle_{n}/status/{9_000_000 + n}"
    )
