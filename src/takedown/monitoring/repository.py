"""Every query of the monitoring capability."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from takedown.items.models import Item
from takedown.monitoring.models import (
    Crawl,
    Observation,
    Proposal,
    RocketChatServer,
    Source,
    SourceStatus,
)
from takedown.operations.models import Operation, OperationItem


def add(session: Session, row: Any) -> None:
    session.add(row)
    session.flush()


# --- servers ------------------------------------------------------------------------------


def server_for(session: Session, agency_id: int, base_url: str) -> RocketChatServer | None:
    return session.scalars(
        select(RocketChatServer).where(
            RocketChatServer.agency_id == agency_id, RocketChatServer.base_url == base_url
        )
    ).first()


def server_by_id(session: Session, server_id: int) -> RocketChatServer | None:
    return session.get(RocketChatServer, server_id)


def servers_of(session: Session, agency_id: int) -> list[RocketChatServer]:
    return list(
        session.scalars(
            select(RocketChatServer)
            .where(RocketChatServer.agency_id == agency_id)
            .order_by(RocketChatServer.id)
        )
    )


# --- sources ------------------------------------------------------------------------------


def source_by_id(session: Session, source_id: int) -> Source | None:
    return session.get(Source, source_id)


def source_by_url(session: Session, agency_id: int, url: str) -> Source | None:
    return session.scalars(
        select(Source).where(Source.agency_id == agency_id, Source.url == url)
    ).first()


def list_sources(
    session: Session,
    agency_id: int,
    *,
    status: str | None = None,
    kind: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[Source], int]:
    conds = [Source.agency_id == agency_id]
    if status:
        conds.append(Source.status == status)
    else:
        conds.append(Source.status != SourceStatus.REMOVED.value)
    if kind:
        conds.append(Source.kind == kind)
    total = int(session.scalar(select(func.count()).select_from(Source).where(*conds)) or 0)
    rows = session.scalars(
        select(Source).where(*conds).order_by(Source.id).limit(limit).offset(offset)
    )
    return list(rows), total


def claim_due(
    session: Session,
    now: dt.datetime,
    limit: int,
    lease_until: dt.datetime,
    *,
    source_ids: Sequence[int] | None = None,
) -> list[Source]:
    """Take up to ``limit`` due sources (oldest due first) and lease them to this run."""
    q = select(Source).where(
        Source.status == SourceStatus.ACTIVE.value,
        or_(Source.lease_until.is_(None), Source.lease_until < now),
    )
    if source_ids is not None:
        q = q.where(Source.id.in_(list(source_ids)))
    else:
        q = q.where(Source.next_due_at <= now)
    rows = list(session.scalars(q.order_by(Source.next_due_at, Source.id).limit(limit)))
    ids = [r.id for r in rows]
    for i in range(0, len(ids), 500):
        session.execute(
            update(Source).where(Source.id.in_(ids[i : i + 500])).values(lease_until=lease_until)
        )
    for r in rows:
        r.lease_until = lease_until
    return rows


def count_due(session: Session, now: dt.datetime) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(Source)
            .where(Source.status == SourceStatus.ACTIVE.value, Source.next_due_at <= now)
        )
        or 0
    )


def surging_operations(session: Session, agency_id: int, now: dt.datetime) -> set[int]:
    """Operations whose window is open now: those the agency leads."""
    rows = session.scalars(
        select(Operation.id).where(
            Operation.starts_at <= now,
            or_(Operation.ends_at.is_(None), Operation.ends_at >= now),
            Operation.closed_at.is_(None),
            Operation.lead_agency_id == agency_id,
        )
    )
    return set(rows)


def operation_open(session: Session, operation_id: int, now: dt.datetime) -> bool:
    op = session.get(Operation, operation_id)
    return (
        op is not None
        and op.closed_at is None
        and op.starts_at <= now
        and (op.ends_at is None or op.ends_at >= now)
    )


def operation_by_id(session: Session, operation_id: int) -> Operation | None:
    return session.get(Operation, operation_id)


def operation_accounts(session: Session, operation_id: int) -> list[Item]:
    """The accounts and channels of an operation's item set."""
    return list(
        session.scalars(
            select(Item)
            .join(OperationItem, OperationItem.item_id == Item.id)
            .where(
                OperationItem.operation_id == operation_id,
                Item.kind.in_(("account", "channel")),
            )
            .distinct()
            .order_by(Item.id)
        )
    )


# --- crawls and observations --------------------------------------------------------------


def crawls_of(session: Session, source_id: int, limit: int = 20) -> list[Crawl]:
    return list(
        session.scalars(
            select(Crawl)
            .where(Crawl.source_id == source_id)
            .order_by(Crawl.started_at.desc(), Crawl.id.desc())
            .limit(limit)
        )
    )


def observed_item_ids(
    session: Session, source_id: int, item_ids: Sequence[int], kind: str
) -> set[int]:
    if not item_ids:
        return set()
    return set(
        session.scalars(
            select(Observation.item_id).where(
                Observation.source_id == source_id,
                Observation.kind == kind,
                Observation.item_id.in_(list(item_ids)),
            )
        )
    )


def feed(
    session: Session,
    agency_id: int,
    *,
    source_id: int | None = None,
    limit: int = 50,
    before_id: int | None = None,
) -> list[tuple[Observation, Source, Item]]:
    q = (
        select(Observation, Source, Item)
        .join(Source, Source.id == Observation.source_id)
        .join(Item, Item.id == Observation.item_id)
        .where(Observation.agency_id == agency_id)
    )
    if source_id is not None:
        q = q.where(Observation.source_id == source_id)
    if before_id is not None:
        q = q.where(Observation.id < before_id)
    rows = session.execute(q.order_by(Observation.id.desc()).limit(limit)).all()
    return [(r[0], r[1], r[2]) for r in rows]


def new_items_per_source(
    session: Session, source_ids: Sequence[int], since: dt.datetime
) -> dict[int, int]:
    if not source_ids:
        return {}
    rows = session.execute(
        select(Observation.source_id, func.count())
        .where(Observation.source_id.in_(list(source_ids)), Observation.seen_at >= since)
        .group_by(Observation.source_id)
    ).all()
    return {int(r[0]): int(r[1]) for r in rows}


# --- proposals ----------------------------------------------------------------------------


def proposal_by_identity(session: Session, agency_id: int, identity: str) -> Proposal | None:
    return session.scalars(
        select(Proposal).where(Proposal.agency_id == agency_id, Proposal.identity == identity)
    ).first()


def proposal_by_id(session: Session, proposal_id: int) -> Proposal | None:
    return session.get(Proposal, proposal_id)


def proposals_of(
    session: Session, agency_id: int, *, status: str | None = "pending", limit: int = 100
) -> list[Proposal]:
    conds = [Proposal.agency_id == agency_id]
    if status:
        conds.append(Proposal.status == status)
    return list(
        session.scalars(
            select(Proposal).where(and_(*conds)).order_by(Proposal.id.desc()).limit(limit)
        )
    )


def watched_identities(session: Session, agency_id: int, identities: Sequence[str]) -> set[str]:
    """Which of these item identities the agency already watches (as a source's item)."""
    if not identities:
        return set()
    return set(
        session.scalars(
            select(Item.identity)
            .join(Source, Source.item_id == Item.id)
            .where(
                Source.agency_id == agency_id,
                Source.status != "removed",
                Item.identity.in_(list(identities)),
            )
        )
    )
