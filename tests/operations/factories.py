"""Operation rows for tests: items with chosen platform, kind, status and removal history.

``seed_operation`` writes items directly (the way intake and verification would
leave them), so metric tests control every instant exactly.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from dataclasses import dataclass

from sqlalchemy.orm import Session

from takedown.accounts.models import Agency
from takedown.items.models import Item, Sighting
from takedown.operations import service
from takedown.operations.models import Operation, OperationItem
from takedown.verification.models import CheckSchedule
from tests.factories import Actor, make_actor, make_agency

_seq = itertools.count(1)
T0 = dt.datetime(2019, 11, 21, 6, 0, tzinfo=dt.UTC)
PLATFORMS = ("telegram", "x", "youtube", "dropvault")
KINDS = ("account", "post", "channel", "file")


def make_operation(
    session: Session,
    lead: Actor,
    *,
    name: str | None = None,
    participants: list[Agency] | None = None,
) -> Operation:
    return service.create_operation(
        session,
        lead.principal,
        name=name or f"Operation {next(_seq)}",
        starts_at=T0,
        ends_at=T0 + dt.timedelta(days=3),
        participants=[(a.id, "participant") for a in participants or []],
    )


def raw_item(
    session: Session,
    agency_ids: list[int],
    *,
    platform: str,
    kind: str,
    status: str = "new",
    referred: dt.datetime | None = None,
    removed: dt.datetime | None = None,
    reappeared: dt.datetime | None = None,
    stated: dt.datetime | None = None,
) -> Item:
    n = next(_seq)
    item = Item(
        identity=f"{platform}:{kind}:synthetic{n}",
        platform=platform,
        kind=kind,
        key=f"synthetic{n}",
        canonical_url=f"https://{platform}.example/synthetic{n}",
        fetch_url=f"https://{platform}.example/synthetic{n}",
        status=status,
        first_seen_at=T0,
        last_seen_at=T0,
        created_at=T0,
        status_changed_at=T0,
        first_referred_at=referred,
    )
    session.add(item)
    session.flush()
    for a in agency_ids:
        session.add(
            Sighting(
                item_id=item.id,
                agency_id=a,
                reported_url=item.canonical_url,
                reported_at=T0,
                source="test",
            )
        )
    if referred is not None:
        session.add(
            CheckSchedule(
                item_id=item.id,
                anchor_at=referred,
                next_check_at=referred,
                removed_at=removed,
                removed_observed_at=removed,
                platform_removed_at=stated,
                reappeared_at=reappeared,
            )
        )
    return item


@dataclass
class Seeded:
    op: Operation
    lead: Actor
    other: Actor
    as_of: dt.datetime


def seed_operation(session: Session, rng: random.Random, n: int = 60) -> Seeded:
    """An operation of ``n`` items from two agencies, some shared, some referred and removed."""
    lead = make_actor(session, make_agency(session, country="FR"), role="supervisor")
    other = make_actor(session, make_agency(session, country="DE"), role="analyst")
    op = make_operation(session, lead, participants=[other.agency])
    as_of = T0 + dt.timedelta(days=9)
    for k in range(n):
        who = rng.choice([[lead.agency.id], [other.agency.id], [lead.agency.id, other.agency.id]])
        platform, kind = rng.choice(PLATFORMS), rng.choice(KINDS)
        r = rng.random()
        referred = removed = reappeared = None
        status = rng.choice(["new", "assessed"])
        if r < 0.75:
            referred = T0 + dt.timedelta(minutes=rng.randint(0, 48 * 60))
            status = "referred"
            if rng.random() < 0.7:
                removed = referred + dt.timedelta(
                    seconds=rng.choice(
                        [
                            rng.randint(1, 3600),
                            rng.randint(3600, 86400),
                            rng.randint(86400, 8 * 86400),
                        ]
                    )
                )
                status = "removed"
                if removed > as_of:
                    status = "still_online"  # removal after the report time: not yet seen
                elif rng.random() < 0.15:
                    reappeared = removed + dt.timedelta(hours=rng.randint(1, 30))
                    status = "reappeared"
            else:
                status = rng.choice(["still_online", "restricted", "referred"])
        it = raw_item(
            session,
            who,
            platform=platform,
            kind=kind,
            status=status,
            referred=referred,
            removed=removed,
            reappeared=reappeared,
            # every other removal dated by the platform; a third of the others carry a statement
            # the checks did not use (the rng stream stays as it was)
            stated=None
            if removed is None or k % 3 == 1
            else removed
            if k % 2 == 0
            else removed - dt.timedelta(minutes=1),
        )
        for a in who:
            session.add(
                OperationItem(
                    operation_id=op.id, item_id=it.id, agency_id=a, added_at=T0, via="single"
                )
            )
    session.flush()
    return Seeded(op, lead, other, as_of)
