"""Operation rows for tests: items with chosen platform, kind, status and removal history.

``seed_operation`` writes items directly (the way intake and verification would
leave them), so metric tests control every instant exactly.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from takedown.accounts.models import Agency
from takedown.items.models import Hold, Item, Sighting
from takedown.operations import service
from takedown.operations.models import Operation, OperationItem
from takedown.referrals.models import Referral, ReferralItem
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
    _vary(session, random.Random(rng.random()), op, lead, other, as_of)
    session.flush()
    return Seeded(op, lead, other, as_of)


def _vary(
    session: Session, rng: random.Random, op: Operation, lead: Actor, other: Actor,
    as_of: dt.datetime,
) -> None:  # fmt: skip
    """What intake, the platforms and the check before sending add on top of the items:
    repeated reports by one agency, Annex II answers (confirmed by the checks or not),
    items kept out of a batch as already gone (removed, or withheld), dismissals, a hold."""
    members = session.execute(
        select(OperationItem.item_id, OperationItem.agency_id).where(
            OperationItem.operation_id == op.id
        )
    ).all()
    items = {
        i.id: i for i in session.scalars(select(Item).where(Item.id.in_({m[0] for m in members})))
    }
    for item_id, agency_id in members:
        for _ in range(rng.choice([0, 0, 0, 1, 2])):  # the same agency reported it again
            session.add(
                Sighting(
                    item_id=item_id, agency_id=agency_id, reported_url=items[item_id].canonical_url,
                    reported_at=T0, source="test (again)",
                )
            )  # fmt: skip
    batches: dict[str, Referral] = {}

    def batch(platform: str, status: str) -> Referral:
        key = f"{platform}:{status}"
        if key not in batches:
            n = next(_seq)
            batches[key] = Referral(
                reference=f"FR-{lead.agency.id}-REF-2019-{n:06d}", kind="tos", status=status,
                platform=platform, agency_id=lead.agency.id, channel="portal", created_at=T0,
            )  # fmt: skip
            session.add(batches[key])
            session.flush()
        return batches[key]

    for it in sorted(items.values(), key=lambda i: i.id):
        r = rng.random()
        if it.first_referred_at is not None:
            ri = ReferralItem(
                referral_id=batch(it.platform, "sent").id, item_id=it.id, url=it.canonical_url,
                state="included",
            )  # fmt: skip
            if r < 0.35:  # the platform's liaison answers Annex II: removed
                ri.response = "removed"
                ri.responded_at = it.first_referred_at + dt.timedelta(hours=rng.randint(1, 300))
                if it.status in ("referred", "still_online", "restricted"):
                    it.status = "removed"  # as ``referrals.service.respond`` moves it
            session.add(ri)
        elif r < 0.4:  # kept out of a batch, already gone before sending
            withheld = rng.random() < 0.4
            it.status = "assessed" if withheld else "removed"
            session.add(
                ReferralItem(
                    referral_id=batch(it.platform, "closed").id, item_id=it.id,
                    url=it.canonical_url, state="already_gone",
                    skip_detail="removed before referral (withheld): HTTP 451" if withheld
                    else "removed before referral (removed): HTTP 404",
                )
            )  # fmt: skip
        elif r < 0.55:
            it.status = "dismissed"
        elif r < 0.8:
            session.add(
                Hold(item_id=it.id, agency_id=other.agency.id, reason="ours", created_at=T0)
            )
