"""Every SQL query of the sharing capability but the collection objects' (objects_repository)
and deconfliction's (deconfliction_repository)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from takedown.accounts.models import Agency
from takedown.sharing.models import (
    Collection,
    Grant,
    InboxObject,
    Partner,
    Share,
    TaxiiStatus,
)


def add(session: Session, row: Any) -> None:
    session.add(row)
    session.flush()


# --- collections and grants -------------------------------------------------------------------


def collection_by_uuid(session: Session, uuid: str) -> Collection | None:
    return session.scalar(select(Collection).where(Collection.uuid == uuid))


def collection(session: Session, collection_id: int) -> Collection | None:
    return session.get(Collection, collection_id)


def grant(session: Session, collection_id: int, agency_id: int) -> Grant | None:
    return session.scalar(
        select(Grant).where(Grant.collection_id == collection_id, Grant.agency_id == agency_id)
    )


def grants_of(session: Session, collection_id: int) -> list[Grant]:
    return list(
        session.scalars(
            select(Grant).where(Grant.collection_id == collection_id).order_by(Grant.id)
        )
    )


def collections_for(
    session: Session, agency_id: int | None
) -> list[tuple[Collection, Grant | None]]:
    """Collections the agency owns or holds a grant on (all of them for the system)."""
    stmt = (
        select(Collection, Grant)
        .outerjoin(
            Grant,
            (Grant.collection_id == Collection.id) & (Grant.agency_id == (agency_id or -1)),
        )
        .order_by(Collection.id)
    )
    if agency_id is not None:
        stmt = stmt.where(or_(Collection.owner_agency_id == agency_id, Grant.id.is_not(None)))
    return [(c, g) for c, g in session.execute(stmt)]


def owned_collections(session: Session, agency_id: int) -> list[Collection]:
    return list(
        session.scalars(
            select(Collection)
            .where(Collection.owner_agency_id == agency_id)
            .order_by(Collection.id)
        )
    )


def agency_names(session: Session, ids: Sequence[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {
        a: n
        for a, n in session.execute(select(Agency.id, Agency.name).where(Agency.id.in_(set(ids))))
    }


# --- statuses ---------------------------------------------------------------------------------


def status_by_uuid(session: Session, uuid: str) -> TaxiiStatus | None:
    return session.scalar(select(TaxiiStatus).where(TaxiiStatus.uuid == uuid))


# --- partners ---------------------------------------------------------------------------------


def partner(session: Session, partner_id: int) -> Partner | None:
    return session.get(Partner, partner_id)


def partners_of(session: Session, owner_agency_id: int | None) -> list[Partner]:
    stmt = select(Partner).order_by(Partner.name, Partner.id)
    if owner_agency_id is not None:
        stmt = stmt.where(Partner.owner_agency_id == owner_agency_id)
    return list(session.scalars(stmt))


def partner_by_name(session: Session, owner_agency_id: int, name: str) -> Partner | None:
    return session.scalar(
        select(Partner).where(Partner.owner_agency_id == owner_agency_id, Partner.name == name)
    )


def partner_by_agency(session: Session, agency_id: int) -> list[Partner]:
    return list(session.scalars(select(Partner).where(Partner.agency_id == agency_id)))


def due_partners(session: Session, now: dt.datetime, limit: int = 50) -> list[int]:
    stmt = (
        select(Partner.id)
        .where(
            Partner.enabled.is_(True),
            Partner.api_root != "",
            or_(Partner.next_pull_at.is_(None), Partner.next_pull_at <= now),
        )
        .order_by(Partner.next_pull_at, Partner.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


# --- shares -----------------------------------------------------------------------------------


def share(session: Session, share_id: int) -> Share | None:
    return session.get(Share, share_id)


def active_share(
    session: Session, collection_id: int, subject_type: str, subject_id: int
) -> Share | None:
    return session.scalar(
        select(Share).where(
            Share.collection_id == collection_id,
            Share.subject_type == subject_type,
            Share.subject_id == subject_id,
            Share.revoked_at.is_(None),
        )
    )


def shares_of_collection(
    session: Session, collection_id: int, *, active: bool = True
) -> list[Share]:
    stmt = select(Share).where(Share.collection_id == collection_id).order_by(Share.id)
    if active:
        stmt = stmt.where(Share.revoked_at.is_(None))
    return list(session.scalars(stmt))


def shares_by_agency(
    session: Session, agency_id: int | None, *, limit: int, offset: int
) -> tuple[list[tuple[Share, Collection]], int]:
    where = [] if agency_id is None else [Share.agency_id == agency_id]
    total = session.scalar(select(func.count()).select_from(Share).where(*where)) or 0
    stmt = (
        select(Share, Collection)
        .join(Collection, Collection.id == Share.collection_id)
        .where(*where)
        .order_by(Share.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [(s, c) for s, c in session.execute(stmt)], int(total)


def live_shares(session: Session, limit: int = 500) -> list[int]:
    stmt = select(Share.id).where(Share.revoked_at.is_(None)).order_by(Share.id).limit(limit)
    return list(session.scalars(stmt))


# --- inbox ------------------------------------------------------------------------------------


def inbox_keys(
    session: Session, source_agency_id: int, keys: Sequence[tuple[str, str]]
) -> set[tuple[str, str]]:
    """Which (stix_id, version) of a source are already in the inbox."""
    out: set[tuple[str, str]] = set()
    ids = sorted({k[0] for k in keys})
    for i in range(0, len(ids), 500):
        stmt = select(InboxObject.stix_id, InboxObject.version).where(
            InboxObject.source_agency_id == source_agency_id,
            InboxObject.stix_id.in_(ids[i : i + 500]),
        )
        out.update((s, v) for s, v in session.execute(stmt))
    return out


def inbox_page(
    session: Session,
    owner_agency_id: int | None,
    *,
    status: str | None,
    limit: int,
    offset: int,
) -> tuple[list[InboxObject], int]:
    where = []
    if owner_agency_id is not None:
        where.append(InboxObject.owner_agency_id == owner_agency_id)
    if status:
        where.append(InboxObject.status == status)
    total = session.scalar(select(func.count()).select_from(InboxObject).where(*where)) or 0
    stmt = (
        select(InboxObject)
        .where(*where)
        .order_by(InboxObject.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(session.scalars(stmt)), int(total)


def inbox_object(session: Session, inbox_id: int) -> InboxObject | None:
    return session.get(InboxObject, inbox_id)


def inbox_by_stix_id(session: Session, source_agency_id: int, stix_id: str) -> list[InboxObject]:
    stmt = (
        select(InboxObject)
        .where(InboxObject.source_agency_id == source_agency_id, InboxObject.stix_id == stix_id)
        .order_by(InboxObject.id)
    )
    return list(session.scalars(stmt))


# --- reads of other capabilities' tables the publisher needs ---------------------------------


def bank_latest_update(session: Session, bank_id: int) -> dt.datetime | None:
    """When a bank's signals last changed (added, enabled, disabled)."""
    from takedown.matching.models import Signal

    value = session.scalar(select(func.max(Signal.updated_at)).where(Signal.bank_id == bank_id))
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value
