"""Every query of the items capability, including the bulk SQL of intake.

Tenant isolation is one function, :func:`visible_to`: a where-clause on
``items`` that every listing and lookup (ours and other capabilities') ANDs in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy import (
    ColumnElement,
    Table,
    and_,
    false,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Session

from takedown.accounts.models import Agency
from takedown.accounts.principal import Principal
from takedown.db import serialize
from takedown.items.models import (
    Assessment,
    Hold,
    ImportJob,
    Item,
    ItemShare,
    SavedFilter,
    Sighting,
)

ITEMS = cast(Table, Item.__table__)

#: Extra visibility rules (OR-ed in). A hook returns a clause on ``Item`` or None.
VisibilityHook = Callable[[Principal], ColumnElement[bool] | None]
_VISIBILITY_HOOKS: list[VisibilityHook] = []


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
    # Words (case-insensitive), each found in the canonical URL, the title or the text of a
    # capture by the caller's agency.
    q: str | None = None
    ids: Sequence[int] | None = None
    operation_id: int | None = None  # items in this operation (caller checks it is visible)
    label: str | None = None  # an assessment's group or outlet (exact, case-insensitive)
    matched: bool | None = None  # has (True) / has no (False) hash match the caller may see


def add(
    session: Session,
    row: Item | Sighting | ItemShare | Assessment | Hold | ImportJob | SavedFilter,
) -> None:
    session.add(row)
    session.flush()


def item_by_id(session: Session, item_id: int) -> Item | None:
    return session.get(Item, item_id)


def lock_identity(session: Session, identity: str) -> None:
    """Hold "is this identity known yet?" until the transaction ends (see ``db.serialize``)."""
    serialize(session, f"items.identity:{identity}")


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
        conds.extend(_words_conds(principal, f.q))
    if f.ids is not None:
        conds.append(Item.id.in_(list(f.ids)))
    conds.extend(_workbench_conds(principal, f))
    where = and_(*conds)
    total = session.scalar(select(func.count()).select_from(Item).where(where)) or 0
    rows = session.scalars(
        select(Item).where(where).order_by(Item.id.desc()).limit(limit).offset(offset)
    ).all()
    return list(rows), total


MAX_SEARCH_WORDS = 8


def _words_conds(principal: Principal, q: str) -> list[ColumnElement[bool]]:
    """Every word in the URL, the title, or the captured text the caller's agency holds."""
    # The evidence model only (no service): evidence points at items, not back.
    from takedown.evidence.models import EvidenceCapture

    conds: list[ColumnElement[bool]] = []
    for word in dict.fromkeys(q.lower().split()[:MAX_SEARCH_WORDS]):
        captured = select(EvidenceCapture.item_id).where(
            func.lower(EvidenceCapture.text_excerpt).contains(word, autoescape=True)
        )
        if principal.via != "system":
            captured = captured.where(EvidenceCapture.agency_id == principal.agency_id)
        conds.append(
            or_(
                func.lower(Item.canonical_url).contains(word, autoescape=True),
                func.lower(Item.title).contains(word, autoescape=True),
                Item.id.in_(captured),
            )
        )
    return conds


def _workbench_conds(principal: Principal, f: ItemFilters) -> list[ColumnElement[bool]]:
    """The queue's extra filters: operation, attribution label, hash match."""
    # Models only (no services): operations and matching point at items, not back.
    from takedown.matching.models import MatchResult
    from takedown.operations.models import OperationItem

    conds: list[ColumnElement[bool]] = []
    if f.operation_id is not None:
        conds.append(
            Item.id.in_(
                select(OperationItem.item_id).where(OperationItem.operation_id == f.operation_id)
            )
        )
    if f.label:
        lab = f.label.strip().lower()
        conds.append(
            Item.id.in_(
                select(Assessment.item_id).where(
                    or_(func.lower(Assessment.group) == lab, func.lower(Assessment.outlet) == lab)
                )
            )
        )
    if f.matched is not None:
        seen = select(MatchResult.item_id).where(MatchResult.item_id.is_not(None))
        if principal.via != "system":
            seen = seen.where(
                or_(MatchResult.agency_id.is_(None), MatchResult.agency_id == principal.agency_id)
            )
        conds.append(Item.id.in_(seen) if f.matched else Item.id.not_in(seen))
    return conds


def held_item_ids(session: Session, item_ids: Sequence[int]) -> set[int]:
    """Which of these items carry an unreleased hold (one query for a page of rows)."""
    if not item_ids:
        return set()
    return set(
        session.scalars(
            select(Hold.item_id).where(Hold.item_id.in_(list(item_ids)), Hold.released_at.is_(None))
        )
    )


def latest_verdicts(session: Session, agency_id: int, item_ids: Sequence[int]) -> dict[int, str]:
    """The agency's latest verdict per item, for a page of rows."""
    if not item_ids:
        return {}
    rows = session.execute(
        select(Assessment.item_id, Assessment.verdict)
        .where(Assessment.item_id.in_(list(item_ids)), Assessment.agency_id == agency_id)
        .order_by(Assessment.id)
    ).all()
    return {i: v for i, v in rows}


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


def open_holds_of_agency(session: Session, agency_id: int, *, limit: int) -> tuple[list[Hold], int]:
    """The agency's holds not yet released, oldest first, and how many there are."""
    where = and_(Hold.agency_id == agency_id, Hold.released_at.is_(None))
    total = session.scalar(select(func.count()).select_from(Hold).where(where)) or 0
    rows = session.scalars(select(Hold).where(where).order_by(Hold.id).limit(limit)).all()
    return list(rows), total


def hold_by_id(session: Session, hold_id: int) -> Hold | None:
    return session.get(Hold, hold_id)


# --- import jobs ------------------------------------------------------------------------------


def import_job(session: Session, job_id: int) -> ImportJob | None:
    return session.get(ImportJob, job_id)


def import_jobs_of(session: Session, agency_id: int, *, limit: int) -> list[ImportJob]:
    return list(
        session.scalars(
            select(ImportJob)
            .where(ImportJob.agency_id == agency_id)
            .order_by(ImportJob.id.desc())
            .limit(limit)
        )
    )


def folded_sightings(
    session: Session, job: ImportJob, *, limit: int, offset: int
) -> tuple[list[tuple[Sighting, Item]], int]:
    """The import's rows that did not create an item: sightings added to an existing item.

    Either the item existed before the import, or an earlier line of the same file
    created it (this sighting is not the first of the item in the import).
    """
    first = (
        select(func.min(Sighting.id)).where(Sighting.import_id == job.id).group_by(Sighting.item_id)
    )
    where = and_(
        Sighting.import_id == job.id,
        or_(Item.created_at < job.created_at, Sighting.id.not_in(first)),
    )
    base = select(Sighting, Item).join(Item, Item.id == Sighting.item_id).where(where)
    total = (
        session.scalar(
            select(func.count())
            .select_from(Sighting)
            .join(Item, Item.id == Sighting.item_id)
            .where(where)
        )
        or 0
    )
    rows = session.execute(base.order_by(Sighting.line_no, Sighting.id).limit(limit).offset(offset))
    return [(s, i) for s, i in rows.all()], int(total)


# --- saved filters ----------------------------------------------------------------------------


def saved_filters_of(session: Session, user_id: int, *, limit: int = 100) -> list[SavedFilter]:
    return list(
        session.scalars(
            select(SavedFilter)
            .where(SavedFilter.user_id == user_id)
            .order_by(SavedFilter.name)
            .limit(limit)
        )
    )


def saved_filter(session: Session, user_id: int, filter_id: int) -> SavedFilter | None:
    return session.scalars(
        select(SavedFilter).where(SavedFilter.id == filter_id, SavedFilter.user_id == user_id)
    ).first()


def saved_filter_named(session: Session, user_id: int, name: str) -> SavedFilter | None:
    return session.scalars(
        select(SavedFilter).where(SavedFilter.user_id == user_id, SavedFilter.name == name)
    ).first()


def delete(session: Session, row: SavedFilter) -> None:
    session.delete(row)
    session.flush()


# The bulk SQL of intake lives beside this module (same rule: SQL only in repositories).
from takedown.items.intake_repository import BulkWriter as BulkWriter  # noqa: E402
