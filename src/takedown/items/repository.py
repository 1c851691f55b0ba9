"""Every query of the items capability, including the bulk SQL of intake.

Tenant isolation is one function, :func:`visible_to`: a where-clause on
``items`` that every listing and lookup (ours and other capabilities') ANDs in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Table,
    and_,
    bindparam,
    case,
    false,
    func,
    insert,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.orm import Session

from takedown.accounts.models import Agency
from takedown.accounts.principal import Principal
from takedown.db import UTCDateTime
from takedown.items.models import Assessment, Hold, ImportJob, Item, ItemShare, Sighting

ITEMS = cast(Table, Item.__table__)
SIGHTINGS = cast(Table, Sighting.__table__)

#: Extra visibility rules (OR-ed in). A hook returns a clause on ``Item`` or None.
VisibilityHook = Callable[[Principal], ColumnElement[bool] | None]
_VISIBILITY_HOOKS: list[VisibilityHook] = []

#: Rows per ``IN (...)`` lookup: well under SQLite's variable limit.
LOOKUP_BATCH = 2000


def register_visibility(hook: VisibilityHook) -> None:
    """Let another capability widen visibility (e.g. referrals: a liaison sees what was sent).

    Hooks can only add rows a principal may see, never remove them; keep them narrow.
    """
    if hook not in _VISIBILITY_HOOKS:
        _VISIBILITY_HOOKS.append(hook)


def unregister_visibility(hook: VisibilityHook) -> None:
    if hook in _VISIBILITY_HOOKS:
        _VISIBILITY_HOOKS.remove(hook)


def visible_to(principal: Principal) -> ColumnElement[bool]:
    """The where-clause on ``Item`` of what ``principal`` may see.

    - an agency's users see items their agency reported (a sighting) or that were
      shared with their agency; instance admins are no exception;
    - a platform liaison sees items on their platform once referred;
    - the system principal (background jobs, CLI maintenance) sees everything.
    """
    if principal.via == "system":
        return true()
    clauses: list[ColumnElement[bool]] = []
    if principal.is_liaison:
        if principal.platform_slug:
            clauses.append(
                and_(
                    Item.platform == principal.platform_slug,
                    Item.first_referred_at.is_not(None),
                )
            )
    else:
        clauses.append(
            Item.id.in_(select(Sighting.item_id).where(Sighting.agency_id == principal.agency_id))
        )
        clauses.append(
            Item.id.in_(select(ItemShare.item_id).where(ItemShare.agency_id == principal.agency_id))
        )
    for hook in _VISIBILITY_HOOKS:
        clause = hook(principal)
        if clause is not None:
            clauses.append(clause)
    return or_(false(), *clauses)


# --- items ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemFilters:
    """Filters of item listings; None means "any"."""

    status: Sequence[str] | None = None
    platform: str | None = None
    kind: str | None = None
    agency_id: int | None = None  # items reported (sighted) by this agency
    first_seen_from: dt.datetime | None = None
    first_seen_to: dt.datetime | None = None  # exclusive
    q: str | None = None  # case-insensitive substring of the canonical URL
    ids: Sequence[int] | None = None


def add(session: Session, row: Item | Sighting | ItemShare | Assessment | Hold | ImportJob) -> None:
    session.add(row)
    session.flush()


def item_by_id(session: Session, item_id: int) -> Item | None:
    return session.get(Item, item_id)


def item_by_identity(session: Session, identity: str) -> Item | None:
    return session.scalars(select(Item).where(Item.identity == identity)).first()


def visible_item(session: Session, principal: Principal, item_id: int) -> Item | None:
    return session.scalars(select(Item).where(Item.id == item_id, visible_to(principal))).first()


def list_items(
    session: Session, principal: Principal, filters: ItemFilters, *, limit: int, offset: int
) -> tuple[list[Item], int]:
    conds: list[ColumnElement[bool]] = [visible_to(principal)]
    f = filters
    if f.status:
        conds.append(Item.status.in_(list(f.status)))
    if f.platform:
        conds.append(Item.platform == f.platform)
    if f.kind:
        conds.append(Item.kind == f.kind)
    if f.agency_id is not None:
        conds.append(Item.id.in_(select(Sighting.item_id).where(Sighting.agency_id == f.agency_id)))
    if f.first_seen_from is not None:
        conds.append(Item.first_seen_at >= f.first_seen_from)
    if f.first_seen_to is not None:
        conds.append(Item.first_seen_at < f.first_seen_to)
    if f.q:
        conds.append(func.lower(Item.canonical_url).contains(f.q.lower(), autoescape=True))
    if f.ids is not None:
        conds.append(Item.id.in_(list(f.ids)))
    where = and_(*conds)
    total = session.scalar(select(func.count()).select_from(Item).where(where)) or 0
    rows = session.scalars(
        select(Item).where(where).order_by(Item.id.desc()).limit(limit).offset(offset)
    ).all()
    return list(rows), total


# --- sightings, shares ------------------------------------------------------------------------


def sightings_of(session: Session, item_id: int) -> list[tuple[Sighting, str]]:
    """Every sighting of an item with its agency's name, oldest first."""
    rows = session.execute(
        select(Sighting, Agency.name)
        .join(Agency, Agency.id == Sighting.agency_id)
        .where(Sighting.item_id == item_id)
        .order_by(Sighting.reported_at, Sighting.id)
    ).all()
    return [(s, name) for s, name in rows]


def has_sighting(session: Session, agency_id: int, item_id: int) -> bool:
    return (
        session.scalar(
            select(Sighting.id)
            .where(Sighting.item_id == item_id, Sighting.agency_id == agency_id)
            .limit(1)
        )
        is not None
    )


def share_of(session: Session, item_id: int, agency_id: int) -> ItemShare | None:
    return session.scalars(
        select(ItemShare).where(ItemShare.item_id == item_id, ItemShare.agency_id == agency_id)
    ).first()


def shares_of(session: Session, item_id: int) -> list[ItemShare]:
    return list(
        session.scalars(
            select(ItemShare).where(ItemShare.item_id == item_id).order_by(ItemShare.id)
        )
    )


def agency_names(session: Session, ids: Iterable[int]) -> dict[int, str]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return {
        a: n
        for a, n in session.execute(select(Agency.id, Agency.name).where(Agency.id.in_(wanted)))
    }


# --- assessments, holds -----------------------------------------------------------------------


def assessments_of(session: Session, item_id: int) -> list[Assessment]:
    return list(
        session.scalars(
            select(Assessment)
            .where(Assessment.item_id == item_id)
            .order_by(Assessment.created_at, Assessment.id)
        )
    )


def active_holds(session: Session, item_id: int) -> list[Hold]:
    return list(
        session.scalars(
            select(Hold)
            .where(Hold.item_id == item_id, Hold.released_at.is_(None))
            .order_by(Hold.id)
        )
    )


def hold_by_id(session: Session, hold_id: int) -> Hold | None:
    return session.get(Hold, hold_id)


# --- import jobs ------------------------------------------------------------------------------


def import_job(session: Session, job_id: int) -> ImportJob | None:
    return session.get(ImportJob, job_id)


# --- bulk intake ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SeenRow:
    id: int
    first_seen_at: dt.datetime
    last_seen_at: dt.datetime


def existing_items(session: Session, identities: Sequence[str]) -> dict[str, SeenRow]:
    """Items already stored for these identities (batched ``IN`` lookups)."""
    out: dict[str, SeenRow] = {}
    for i in range(0, len(identities), LOOKUP_BATCH):
        batch = identities[i : i + LOOKUP_BATCH]
        for ident, item_id, first, last in session.execute(
            select(Item.identity, Item.id, Item.first_seen_at, Item.last_seen_at).where(
                Item.identity.in_(batch)
            )
        ):
            out[ident] = SeenRow(item_id, first, last)
    return out


def _insert_ignoring_duplicates(session: Session) -> Any:
    """``INSERT ... ON CONFLICT (identity) DO NOTHING`` for the session's engine."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(ITEMS).on_conflict_do_nothing(index_elements=["identity"])
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(ITEMS).on_conflict_do_nothing(index_elements=["identity"])


def insert_items(
    session: Session, rows: Sequence[dict[str, Any]]
) -> tuple[dict[str, int], list[int]]:
    """Insert new items; returns (identity -> id for every row, ids actually created).

    ``ON CONFLICT DO NOTHING`` keeps two imports racing on the same identity from
    failing; the identities a concurrent transaction won are looked up afterwards.
    """
    if not rows:
        return {}, []
    stmt = _insert_ignoring_duplicates(session).returning(ITEMS.c.identity, ITEMS.c.id)
    out: dict[str, int] = {
        ident: item_id for ident, item_id in session.connection().execute(stmt, list(rows))
    }
    created = list(out.values())
    missing = [r["identity"] for r in rows if r["identity"] not in out]
    if missing:
        out.update({k: v.id for k, v in existing_items(session, missing).items()})
    return out, created


_B_FIRST = bindparam("b_first", type_=UTCDateTime())
_B_LAST = bindparam("b_last", type_=UTCDateTime())
_UPDATE_SEEN = (
    update(ITEMS)
    .where(ITEMS.c.id == bindparam("b_id"))
    .values(
        first_seen_at=case(
            (ITEMS.c.first_seen_at > _B_FIRST, _B_FIRST), else_=ITEMS.c.first_seen_at
        ),
        last_seen_at=case((ITEMS.c.last_seen_at < _B_LAST, _B_LAST), else_=ITEMS.c.last_seen_at),
    )
)


def update_seen(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Widen first/last seen of existing items: rows of {b_id, b_first, b_last}."""
    if rows:
        session.connection().execute(_UPDATE_SEEN, list(rows))


def insert_sightings(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        session.connection().execute(insert(SIGHTINGS), list(rows))
