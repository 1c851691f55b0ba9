"""Every SQL query of the coins capability."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from takedown.coins.models import (
    CoinAddress,
    CoinAlert,
    CoinSighting,
    ListingClass,
    ServiceLabel,
    TraceRecord,
    WatchEntry,
    WatchList,
)
from takedown.items.models import Assessment, Item, Sighting

SUBJECT_WATCH = "coin_watch_list"
SUBJECT_ALERT = "coin_alert"

# --- addresses and sightings -------------------------------------------------------------


def address_row(session: Session, agency_id: int, kind: str, address: str) -> CoinAddress | None:
    return session.scalars(
        select(CoinAddress).where(
            CoinAddress.agency_id == agency_id,
            CoinAddress.kind == kind,
            CoinAddress.address == address,
        )
    ).first()


def upsert_address(
    session: Session,
    agency_id: int,
    kind: str,
    address: str,
    *,
    network: str,
    script: str,
    seen_at: dt.datetime,
) -> CoinAddress:
    row = address_row(session, agency_id, kind, address)
    if row is None:
        row = CoinAddress(
            agency_id=agency_id,
            kind=kind,
            address=address,
            network=network,
            script=script,
            first_seen_at=seen_at,
            last_seen_at=seen_at,
            sightings_count=0,
        )
        try:
            with session.begin_nested():
                session.add(row)
                session.flush()
        except IntegrityError:  # another transaction recorded it first
            found = address_row(session, agency_id, kind, address)
            assert found is not None
            row = found
    return row


def sighting_exists(session: Session, address_id: int, source_key: str) -> bool:
    return (
        session.scalar(
            select(CoinSighting.id).where(
                CoinSighting.address_id == address_id, CoinSighting.source_key == source_key
            )
        )
        is not None
    )


def add(session: Session, row: object) -> None:
    session.add(row)
    session.flush()


def address_by_id(session: Session, agency_id: int, address_id: int) -> CoinAddress | None:
    row = session.get(CoinAddress, address_id)
    return row if row is not None and row.agency_id == agency_id else None


def list_addresses(
    session: Session,
    agency_id: int,
    *,
    kind: str | None = None,
    q: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[CoinAddress], int]:
    conds = [CoinAddress.agency_id == agency_id]
    if kind:
        conds.append(CoinAddress.kind == kind)
    if q:
        conds.append(CoinAddress.address.contains(q.strip(), autoescape=True))
    total = session.scalar(select(func.count()).select_from(CoinAddress).where(*conds)) or 0
    rows = session.scalars(
        select(CoinAddress)
        .where(*conds)
        .order_by(CoinAddress.last_seen_at.desc(), CoinAddress.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return list(rows), total


def sightings_of(
    session: Session, agency_id: int, address_id: int, *, limit: int = 100, offset: int = 0
) -> tuple[list[CoinSighting], int]:
    conds = [CoinSighting.agency_id == agency_id, CoinSighting.address_id == address_id]
    total = session.scalar(select(func.count()).select_from(CoinSighting).where(*conds)) or 0
    rows = session.scalars(
        select(CoinSighting)
        .where(*conds)
        .order_by(CoinSighting.seen_at, CoinSighting.id)
        .limit(limit)
        .offset(offset)
    ).all()
    return list(rows), total


def items_with_reporters(session: Session, item_ids: Sequence[int]) -> list[tuple[Item, Sighting]]:
    """Each new item with each agency's report of it (who saw it, from where)."""
    if not item_ids:
        return []
    rows = session.execute(
        select(Item, Sighting)
        .join(Sighting, Sighting.item_id == Item.id)
        .where(Item.id.in_(list(item_ids)))
        .order_by(Item.id, Sighting.id)
    ).all()
    return [(i, s) for i, s in rows]


def item_by_id(session: Session, item_id: int) -> Item | None:
    return session.get(Item, item_id)


def latest_assessment(session: Session, agency_id: int, item_id: int) -> Assessment | None:
    return session.scalars(
        select(Assessment)
        .where(Assessment.item_id == item_id, Assessment.agency_id == agency_id)
        .order_by(Assessment.created_at.desc(), Assessment.id.desc())
        .limit(1)
    ).first()


# --- watch lists ---------------------------------------------------------------------------


def watch_lists(session: Session, agency_id: int) -> list[WatchList]:
    return list(
        session.scalars(
            select(WatchList).where(WatchList.agency_id == agency_id).order_by(WatchList.name)
        ).all()
    )


def watch_list(session: Session, agency_id: int, list_id: int) -> WatchList | None:
    row = session.get(WatchList, list_id)
    return row if row is not None and row.agency_id == agency_id else None


def watch_list_named(session: Session, agency_id: int, name: str) -> WatchList | None:
    return session.scalars(
        select(WatchList).where(WatchList.agency_id == agency_id, WatchList.name == name)
    ).first()


def entries_of(session: Session, list_id: int) -> list[WatchEntry]:
    return list(
        session.scalars(
            select(WatchEntry).where(WatchEntry.watch_list_id == list_id).order_by(WatchEntry.id)
        ).all()
    )


def entry(session: Session, agency_id: int, entry_id: int) -> WatchEntry | None:
    row = session.get(WatchEntry, entry_id)
    return row if row is not None and row.agency_id == agency_id else None


def entry_in_list(session: Session, list_id: int, kind: str, address: str) -> WatchEntry | None:
    return session.scalars(
        select(WatchEntry).where(
            WatchEntry.watch_list_id == list_id,
            WatchEntry.kind == kind,
            WatchEntry.address == address,
        )
    ).first()


def entries_for_address(session: Session, agency_id: int, address: str) -> list[WatchEntry]:
    return list(
        session.scalars(
            select(WatchEntry).where(
                WatchEntry.agency_id == agency_id, WatchEntry.address == address
            )
        ).all()
    )


def all_entries(
    session: Session, *, agency_id: int | None = None, kinds: Sequence[str] = ()
) -> list[WatchEntry]:
    conds = []
    if agency_id is not None:
        conds.append(WatchEntry.agency_id == agency_id)
    if kinds:
        conds.append(WatchEntry.kind.in_(list(kinds)))
    return list(session.scalars(select(WatchEntry).where(*conds).order_by(WatchEntry.id)).all())


def delete(session: Session, row: object) -> None:
    session.delete(row)
    session.flush()


# --- labels -----------------------------------------------------------------------------


def labels_for(
    session: Session, agency_id: int | None, addresses: Sequence[str]
) -> dict[str, ServiceLabel]:
    """Labels of these addresses: the instance's shared list and the agency's own."""
    if not addresses:
        return {}
    owner: ColumnElement[bool] = ServiceLabel.agency_id.is_(None)
    if agency_id is not None:
        owner = or_(owner, ServiceLabel.agency_id == agency_id)
    rows = session.scalars(
        select(ServiceLabel).where(ServiceLabel.address.in_(list(addresses)), owner)
    ).all()
    return {r.address: r for r in rows}


def label_row(
    session: Session, agency_id: int | None, kind: str, address: str
) -> ServiceLabel | None:
    owner = (
        ServiceLabel.agency_id.is_(None)
        if agency_id is None
        else ServiceLabel.agency_id == agency_id
    )
    return session.scalars(
        select(ServiceLabel).where(
            owner, ServiceLabel.kind == kind, ServiceLabel.address == address
        )
    ).first()


def list_labels(session: Session, agency_id: int, *, limit: int = 500) -> list[ServiceLabel]:
    return list(
        session.scalars(
            select(ServiceLabel)
            .where(or_(ServiceLabel.agency_id.is_(None), ServiceLabel.agency_id == agency_id))
            .order_by(ServiceLabel.category, ServiceLabel.name, ServiceLabel.id)
            .limit(limit)
        ).all()
    )


# --- alerts ------------------------------------------------------------------------------


def alert_by_key(session: Session, agency_id: int, dedupe_key: str) -> CoinAlert | None:
    return session.scalars(
        select(CoinAlert).where(
            CoinAlert.agency_id == agency_id, CoinAlert.dedupe_key == dedupe_key
        )
    ).first()


def alert(session: Session, agency_id: int, alert_id: int) -> CoinAlert | None:
    row = session.get(CoinAlert, alert_id)
    return row if row is not None and row.agency_id == agency_id else None


def list_alerts(
    session: Session,
    agency_id: int,
    *,
    status: str | None = None,
    rule: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[CoinAlert], int]:
    conds = [CoinAlert.agency_id == agency_id]
    if status:
        conds.append(CoinAlert.status == status)
    if rule:
        conds.append(CoinAlert.rule == rule)
    total = session.scalar(select(func.count()).select_from(CoinAlert).where(*conds)) or 0
    rows = session.scalars(
        select(CoinAlert)
        .where(*conds)
        .order_by(CoinAlert.created_at.desc(), CoinAlert.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return list(rows), total


# --- traces and listing classes ---------------------------------------------------------


def latest_trace(session: Session, agency_id: int, address: str) -> TraceRecord | None:
    return session.scalars(
        select(TraceRecord)
        .where(TraceRecord.agency_id == agency_id, TraceRecord.address == address)
        .order_by(TraceRecord.traced_at.desc(), TraceRecord.id.desc())
        .limit(1)
    ).first()


def listing_class(session: Session, agency_id: int, source_key: str) -> ListingClass | None:
    return session.scalars(
        select(ListingClass).where(
            ListingClass.agency_id == agency_id, ListingClass.source_key == source_key
        )
    ).first()


def listing_classes_of_item(session: Session, agency_id: int, item_id: int) -> list[ListingClass]:
    return list(
        session.scalars(
            select(ListingClass).where(
                ListingClass.agency_id == agency_id, ListingClass.item_id == item_id
            )
        ).all()
    )


def list_listing_classes(
    session: Session, agency_id: int, *, category: str | None = None, limit: int = 100
) -> list[ListingClass]:
    rows = session.scalars(
        select(ListingClass)
        .where(ListingClass.agency_id == agency_id)
        .order_by(ListingClass.classified_at.desc(), ListingClass.id.desc())
        .limit(limit * (5 if category else 1))
    ).all()
    out = [r for r in rows if category is None or category in (r.categories or [])]
    return out[:limit]


def alerts_of_entry(session: Session, entry_id: int) -> list[CoinAlert]:
    return list(session.scalars(select(CoinAlert).where(CoinAlert.entry_id == entry_id)).all())


def alerts_for_address(session: Session, agency_id: int, address: str) -> list[CoinAlert]:
    return list(
        session.scalars(
            select(CoinAlert)
            .where(CoinAlert.agency_id == agency_id, CoinAlert.address == address)
            .order_by(CoinAlert.created_at.desc(), CoinAlert.id.desc())
        ).all()
    )


def item_titles(session: Session, item_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    if not item_ids:
        return {}
    rows = session.execute(
        select(Item.id, Item.title, Item.canonical_url).where(Item.id.in_(list(item_ids)))
    ).all()
    return {i: (t or "", u) for i, t, u in rows}
