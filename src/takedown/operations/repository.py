"""Every query of the operations capability: membership, visibility and the metrics' SQL.

The dashboard's figures are SQL aggregates (``GROUP BY`` over the operation's
items), so the metrics endpoint stays fast at 26,000 items. Time-to-removal
needs each item's instants (Kaplan–Meier works on individual times), so
``referred_rows`` returns plain columns (epoch seconds computed by the database, never
ORM objects); the referred items' states are counted from the same read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Float,
    Integer,
    and_,
    case,
    cast,
    distinct,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from takedown.accounts.models import Agency
from takedown.items.models import Assessment, Hold, Item, Sighting
from takedown.operations.models import (
    LegalEvent,
    Operation,
    OperationItem,
    OperationParticipant,
)
from takedown.referrals.models import Referral, ReferralItem, ReferralStatus
from takedown.verification.models import CheckSchedule

CHUNK = 2000


def add(
    session: Session, row: Operation | OperationParticipant | OperationItem | LegalEvent
) -> None:
    session.add(row)
    session.flush()


# --- operations and participants --------------------------------------------------------------


def operation_by_id(session: Session, operation_id: int) -> Operation | None:
    return session.get(Operation, operation_id)


def participant(session: Session, operation_id: int, agency_id: int) -> OperationParticipant | None:
    return session.scalars(
        select(OperationParticipant).where(
            OperationParticipant.operation_id == operation_id,
            OperationParticipant.agency_id == agency_id,
        )
    ).first()


def participants_of(
    session: Session, operation_id: int
) -> list[tuple[OperationParticipant, Agency]]:
    rows = session.execute(
        select(OperationParticipant, Agency)
        .join(Agency, Agency.id == OperationParticipant.agency_id)
        .where(OperationParticipant.operation_id == operation_id)
        .order_by(OperationParticipant.id)
    ).all()
    return [(p, a) for p, a in rows]


def operations_of_agency(
    session: Session, agency_id: int | None, *, limit: int, offset: int
) -> tuple[list[Operation], int]:
    """Operations the agency takes part in (``None``: every operation, for the system)."""
    q = select(Operation)
    if agency_id is not None:
        q = q.where(
            Operation.id.in_(
                select(OperationParticipant.operation_id).where(
                    OperationParticipant.agency_id == agency_id
                )
            )
        )
    total = session.scalar(select(func.count()).select_from(q.subquery())) or 0
    rows = session.scalars(q.order_by(Operation.id.desc()).limit(limit).offset(offset)).all()
    return list(rows), int(total)


def agency_by_id(session: Session, agency_id: int) -> Agency | None:
    return session.get(Agency, agency_id)


def candidate_agencies(session: Session, operation_id: int, *, limit: int) -> list[Agency]:
    """Agencies that could join: not a platform, not taking part yet; by name."""
    taking_part = select(OperationParticipant.agency_id).where(
        OperationParticipant.operation_id == operation_id
    )
    return list(
        session.scalars(
            select(Agency)
            .where(Agency.kind != "platform", Agency.id.not_in(taking_part))
            .order_by(Agency.name)
            .limit(limit)
        )
    )


# --- visibility -------------------------------------------------------------------------------


def shared_with(agency_id: int) -> ColumnElement[bool]:
    """Items of every operation the agency takes part in (a clause on ``Item``)."""
    return Item.id.in_(
        select(OperationItem.item_id)
        .join(
            OperationParticipant,
            OperationParticipant.operation_id == OperationItem.operation_id,
        )
        .where(OperationParticipant.agency_id == agency_id)
    )


# --- membership -------------------------------------------------------------------------------


def _op_item_ids(operation_id: int) -> Any:
    return select(OperationItem.item_id).where(OperationItem.operation_id == operation_id)


def own_item_ids(session: Session, agency_id: int, item_ids: Sequence[int]) -> set[int]:
    """Which of these items the agency reported itself (a sighting of its own)."""
    out: set[int] = set()
    for i in range(0, len(item_ids), CHUNK):
        out.update(
            session.scalars(
                select(Sighting.item_id)
                .where(
                    Sighting.agency_id == agency_id,
                    Sighting.item_id.in_(list(item_ids[i : i + CHUNK])),
                )
                .distinct()
            )
        )
    return out


def insert_members(
    session: Session,
    operation_id: int,
    agency_id: int,
    item_ids: Iterable[int],
    *,
    via: str,
    at: dt.datetime,
    added_by: int | None,
    import_id: int | None = None,
) -> int:
    """Add ``(operation, item, agency)`` rows that do not exist yet; returns how many."""
    ids = sorted(set(item_ids))
    added = 0
    for i in range(0, len(ids), CHUNK):
        batch = ids[i : i + CHUNK]
        have = set(
            session.scalars(
                select(OperationItem.item_id).where(
                    OperationItem.operation_id == operation_id,
                    OperationItem.agency_id == agency_id,
                    OperationItem.item_id.in_(batch),
                )
            )
        )
        rows = [
            {
                "operation_id": operation_id,
                "item_id": item_id,
                "agency_id": agency_id,
                "added_at": at,
                "via": via,
                "import_id": import_id,
                "added_by": added_by,
            }
            for item_id in batch
            if item_id not in have
        ]
        if rows:
            session.execute(insert(OperationItem), rows)
            added += len(rows)
    return added


def item_ids_of_import(session: Session, import_id: int) -> list[int]:
    return list(
        session.scalars(select(Sighting.item_id).where(Sighting.import_id == import_id).distinct())
    )


def item_ids_matching(
    session: Session,
    agency_id: int,
    *,
    status: Sequence[str] = (),
    platform: str | None = None,
    kind: str | None = None,
    url_contains: str | None = None,
    label: str | None = None,
    limit: int,
) -> list[int]:
    """Items the agency reported itself that match every given criterion.

    ``label`` is an assessment's group or outlet by this agency (exact, case-insensitive).
    """
    conds: list[ColumnElement[bool]] = [
        Item.id.in_(select(Sighting.item_id).where(Sighting.agency_id == agency_id))
    ]
    if status:
        conds.append(Item.status.in_(list(status)))
    if platform:
        conds.append(Item.platform == platform)
    if kind:
        conds.append(Item.kind == kind)
    if url_contains:
        conds.append(func.lower(Item.canonical_url).contains(url_contains.lower(), autoescape=True))
    if label:
        lab = label.strip().lower()
        conds.append(
            Item.id.in_(
                select(Assessment.item_id).where(
                    Assessment.agency_id == agency_id,
                    or_(func.lower(Assessment.group) == lab, func.lower(Assessment.outlet) == lab),
                )
            )
        )
    return list(session.scalars(select(Item.id).where(*conds).order_by(Item.id).limit(limit)))


def is_member(session: Session, operation_id: int, item_id: int) -> bool:
    return (
        session.scalar(
            select(OperationItem.id)
            .where(OperationItem.operation_id == operation_id, OperationItem.item_id == item_id)
            .limit(1)
        )
        is not None
    )


def list_members(
    session: Session,
    operation_id: int,
    *,
    platform: str | None,
    status: str | None,
    limit: int,
    offset: int,
) -> tuple[list[tuple[Item, int]], int]:
    """The operation's items (each once) with the number of contributing agencies."""
    contributors = (
        select(OperationItem.item_id, func.count(distinct(OperationItem.agency_id)).label("n"))
        .where(OperationItem.operation_id == operation_id)
        .group_by(OperationItem.item_id)
        .subquery()
    )
    q = select(Item, contributors.c.n).join(contributors, contributors.c.item_id == Item.id)
    if platform:
        q = q.where(Item.platform == platform)
    if status:
        q = q.where(Item.status == status)
    total = session.scalar(select(func.count()).select_from(q.subquery())) or 0
    rows = session.execute(q.order_by(Item.id).limit(limit).offset(offset)).all()
    return [(it, int(n)) for it, n in rows], int(total)


def member_ids_by_platform(
    session: Session, operation_id: int, statuses: Sequence[str]
) -> dict[str, list[int]]:
    rows = session.execute(
        select(Item.platform, Item.id)
        .where(Item.id.in_(_op_item_ids(operation_id)), Item.status.in_(list(statuses)))
        .order_by(Item.platform, Item.id)
    ).all()
    out: dict[str, list[int]] = {}
    for platform, item_id in rows:
        out.setdefault(str(platform), []).append(int(item_id))
    return out


# --- metrics (SQL aggregates) -----------------------------------------------------------------


def _epoch(session: Session, col: Any) -> Any:
    """Seconds since 1970 (float, microseconds kept) of a UTC datetime column."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.extract("epoch", col), Float)
    # SQLite stores 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC): whole seconds + the fraction.
    return cast(func.strftime("%s", col), Float) + cast(func.substr(col, 20, 7), Float)


def item_groups(session: Session, operation_id: int) -> list[tuple[str, str, str, bool, int]]:
    """(platform, kind, status, referred?, items): one GROUP BY feeds every count of items."""
    referred = Item.first_referred_at.is_not(None)
    rows = session.execute(
        select(Item.platform, Item.kind, Item.status, referred, func.count())
        .where(Item.id.in_(_op_item_ids(operation_id)))
        .group_by(Item.platform, Item.kind, Item.status, referred)
    ).all()
    return [(str(p), str(k), str(s), bool(r), int(n)) for p, k, s, r, n in rows]


def gone_before_groups(session: Session, operation_id: int) -> list[tuple[str, str, str, int]]:
    """(platform, kind, status, items) of the never-referred items a batch kept out as
    already gone (removed or withheld before sending)."""
    rows = session.execute(
        select(Item.platform, Item.kind, Item.status, func.count(distinct(Item.id)))
        .join(ReferralItem, ReferralItem.item_id == Item.id)
        .where(
            Item.id.in_(_op_item_ids(operation_id)),
            Item.first_referred_at.is_(None),
            ReferralItem.state == "already_gone",
        )
        .group_by(Item.platform, Item.kind, Item.status)
    ).all()
    return [(str(p), str(k), str(s), int(n)) for p, k, s, n in rows]


def annex_ii_removed(session: Session, operation_id: int, as_of: dt.datetime) -> set[int]:
    """Referred items of the operation a platform answered "removed" for (Annex II) by as_of."""
    return set(
        session.scalars(
            select(ReferralItem.item_id)
            .join(Item, Item.id == ReferralItem.item_id)
            .where(
                Item.id.in_(_op_item_ids(operation_id)),
                Item.first_referred_at.is_not(None),
                ReferralItem.state == "included",
                ReferralItem.response == "removed",
                ReferralItem.responded_at <= as_of,
            )
            .distinct()
        )
    )


def count_reports(session: Session, operation_id: int) -> int:
    """Sightings of the operation's items by the agencies that contributed them."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(Sighting)
            .join(
                OperationItem,
                and_(
                    OperationItem.item_id == Sighting.item_id,
                    OperationItem.agency_id == Sighting.agency_id,
                ),
            )
            .where(OperationItem.operation_id == operation_id)
        )
        or 0
    )


#: ``ReferredRows.flags`` bits: back online by as_of; the platform stated a removal by as_of.
REAPPEARED, STATED = 1, 2


@dataclass(frozen=True, slots=True)
class ReferredRows:
    """Per referred item of an operation, column-wise (plain Core rows, epoch seconds)."""

    item_ids: list[int]
    platforms: list[str]
    statuses: list[str]
    referred: list[float]
    removed: list[float | None]  # the confirmed removal's time (policy.removal_instant)
    flags: list[int]  # REAPPEARED | STATED, as of the report time


def referred_rows(session: Session, operation_id: int, as_of: dt.datetime) -> ReferredRows:
    """Every referred item's instants, read once: time to removal and the items' states.

    The two instants only compared with ``as_of`` come back as bits, not times: converting
    fewer timestamps keeps this, the metrics' largest read, close to one pass over the rows.
    """
    cs = CheckSchedule
    back = and_(cs.reappeared_at.is_not(None), cs.reappeared_at <= as_of)
    stated = and_(cs.platform_removed_at.is_not(None), cs.platform_removed_at <= as_of)
    flags = case((back, REAPPEARED), else_=0) + case((stated, STATED), else_=0)
    q = (
        select(
            Item.id,
            Item.platform,
            Item.status,
            _epoch(session, Item.first_referred_at),
            _epoch(session, cs.removed_at),
            flags,
        )
        .outerjoin(cs, cs.item_id == Item.id)
        .where(Item.id.in_(_op_item_ids(operation_id)), Item.first_referred_at.is_not(None))
    )
    out = ReferredRows([], [], [], [], [], [])
    i, p, s, r, rm, f = (out.item_ids.append, out.platforms.append, out.statuses.append,
                         out.referred.append, out.removed.append, out.flags.append)  # fmt: skip
    # Row by row into columns: no list of 26,000 rows is held, so the collector stays idle.
    for row in session.connection().execute(q):
        i(row[0]), p(row[1]), s(row[2]), r(row[3]), rm(row[4]), f(row[5])
    return out


def count_removals_dated_by_platform(
    session: Session, operation_id: int, as_of: dt.datetime
) -> int:
    """Referred items removed by ``as_of`` whose time of removal is the platform's own."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(CheckSchedule)
            .join(Item, Item.id == CheckSchedule.item_id)
            .where(
                CheckSchedule.item_id.in_(_op_item_ids(operation_id)),
                Item.first_referred_at.is_not(None),
                CheckSchedule.removed_at <= as_of,
                CheckSchedule.removed_at == CheckSchedule.platform_removed_at,
            )
        )
        or 0
    )


def items_by_platform_status(session: Session, operation_id: int) -> list[tuple[str, str, int]]:
    rows = session.execute(
        select(Item.platform, Item.status, func.count())
        .where(Item.id.in_(_op_item_ids(operation_id)))
        .group_by(Item.platform, Item.status)
        .order_by(Item.platform, Item.status)
    ).all()
    return [(str(p), str(s), int(n)) for p, s, n in rows]


def contributions(session: Session, operation_id: int) -> list[tuple[int, str, str, int, int]]:
    """Per agency: (agency id, name, country, items contributed, items only it contributed).

    A window count per item (one index scan of ``(operation_id, item_id, agency_id)``)
    instead of a self-join: (operation, item, agency) is unique, so the count is the
    number of contributing agencies.
    """
    per = (
        select(
            OperationItem.agency_id.label("a"),
            func.count().over(partition_by=OperationItem.item_id).label("n"),
        )
        .where(OperationItem.operation_id == operation_id)
        .subquery()
    )
    agg = (
        select(
            per.c.a,
            func.count().label("k"),
            func.sum(case((per.c.n == 1, 1), else_=0)).label("u"),
        )
        .group_by(per.c.a)
        .subquery()
    )
    rows = session.execute(
        select(Agency.id, Agency.name, Agency.country, agg.c.k, agg.c.u)
        .join(agg, agg.c.a == Agency.id)
        .order_by(agg.c.k.desc(), Agency.name)
    ).all()
    return [(int(a), str(n), str(c), int(k), int(u or 0)) for a, n, c, k, u in rows]


@dataclass(frozen=True, slots=True)
class RemovalRow:
    item_id: int
    platform: str
    kind: str
    status: str
    referred: float  # epoch seconds of the first referral
    removed: float | None  # epoch seconds of the confirmed removal (policy.removal_instant)
    reappeared: float | None


def removal_rows(session: Session, operation_id: int) -> list[RemovalRow]:
    """Every referred item of the operation with its referral and removal instants."""
    rows = session.execute(
        select(
            Item.id,
            Item.platform,
            Item.kind,
            Item.status,
            _epoch(session, Item.first_referred_at),
            _epoch(session, CheckSchedule.removed_at),
            _epoch(session, CheckSchedule.reappeared_at),
        )
        .outerjoin(CheckSchedule, CheckSchedule.item_id == Item.id)
        .where(Item.id.in_(_op_item_ids(operation_id)), Item.first_referred_at.is_not(None))
        .order_by(Item.id)
    ).all()
    return [
        RemovalRow(
            int(i),
            str(p),
            str(k),
            str(s),
            float(r),
            None if rm is None else float(rm),
            None if ra is None else float(ra),
        )
        for i, p, k, s, r, rm, ra in rows
    ]


def held_items(
    session: Session, operation_id: int, holder_agency_id: int | None
) -> list[tuple[Item, Hold, int]]:
    """Active holds on the operation's items (of one holder, or all) with blocked referrals."""
    requests = (
        select(func.count(ReferralItem.id))
        .where(ReferralItem.item_id == Hold.item_id, ReferralItem.state == "held")
        .scalar_subquery()
    )
    q = (
        select(Item, Hold, requests)
        .join(Hold, Hold.item_id == Item.id)
        .where(Item.id.in_(_op_item_ids(operation_id)), Hold.released_at.is_(None))
    )
    if holder_agency_id is not None:
        q = q.where(Hold.agency_id == holder_agency_id)
    rows = session.execute(q.order_by(Item.id, Hold.id)).all()
    return [(it, h, int(n or 0)) for it, h, n in rows]


def count_held(session: Session, operation_id: int) -> int:
    return int(
        session.scalar(
            select(func.count(distinct(Hold.item_id))).where(
                Hold.item_id.in_(_op_item_ids(operation_id)), Hold.released_at.is_(None)
            )
        )
        or 0
    )


def plain_group_by(session: Session, operation_id: int) -> list[tuple[str, str, int]]:
    """The bound the benchmark compares with: one GROUP BY over the same rows."""
    return items_by_platform_status(session, operation_id)


# --- transparency (TCO Art. 8) ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReferralOutcomeRow:
    referral_id: int
    kind: str
    platform: str
    items: int
    removed: int  # Annex II answer or a confirmed removal by verification
    cannot_comply: int
    reasons: tuple[str, ...]


def referral_outcomes(
    session: Session, agency_id: int | None, start: dt.datetime, end: dt.datetime
) -> list[ReferralOutcomeRow]:
    """Referrals and removal orders issued in ``[start, end)`` with per-item outcomes."""
    issued = func.coalesce(Referral.issued_at, Referral.sent_at)
    removed_item = and_(
        ReferralItem.state == "included",
        (ReferralItem.response == "removed")
        | exists(
            select(literal(1)).where(
                CheckSchedule.item_id == ReferralItem.item_id,
                CheckSchedule.removed_at.is_not(None),
            )
        ),
    )
    # A batch cancelled before it went out, or closed unsent because every item was
    # already gone just before sending, was never issued to the platform.
    conds = [
        issued.is_not(None),
        issued >= start,
        issued < end,
        Referral.status != ReferralStatus.CANCELLED.value,
    ]
    if agency_id is not None:
        conds.append(Referral.agency_id == agency_id)
    included = func.sum(cast(ReferralItem.state == "included", Integer))
    rows = session.execute(
        select(
            Referral.id,
            Referral.kind,
            Referral.platform,
            included,
            func.sum(cast(removed_item, Integer)),
            func.sum(cast(ReferralItem.response == "cannot_comply", Integer)),
        )
        .join(ReferralItem, ReferralItem.referral_id == Referral.id)
        .where(*conds)
        .group_by(Referral.id, Referral.kind, Referral.platform)
        .having(included > 0)
        .order_by(Referral.id)
    ).all()
    reasons: dict[int, list[str]] = {}
    for rid, reason in session.execute(
        select(ReferralItem.referral_id, ReferralItem.response_reason)
        .join(Referral, Referral.id == ReferralItem.referral_id)
        .where(*conds, ReferralItem.response == "cannot_comply")
    ).all():
        reasons.setdefault(int(rid), []).append(str(reason or "unspecified"))
    return [
        ReferralOutcomeRow(
            int(r),
            str(k),
            str(p),
            int(n or 0),
            int(rm or 0),
            int(cc or 0),
            tuple(reasons.get(int(r), [])),
        )
        for r, k, p, n, rm, cc in rows
    ]


def legal_event_counts(
    session: Session, agency_id: int | None, start: dt.datetime, end: dt.datetime
) -> list[tuple[str, str, str, int, float]]:
    """(kind, outcome, platform, count, total amount in EUR) of legal events in the year."""
    conds = [LegalEvent.occurred_at >= start, LegalEvent.occurred_at < end]
    if agency_id is not None:
        conds.append(LegalEvent.agency_id == agency_id)
    platform = func.coalesce(LegalEvent.platform, "")
    rows = session.execute(
        select(
            LegalEvent.kind,
            LegalEvent.outcome,
            platform,
            func.count(),
            func.coalesce(func.sum(LegalEvent.amount_eur), 0),
        )
        .where(*conds)
        .group_by(LegalEvent.kind, LegalEvent.outcome, platform)
        .order_by(LegalEvent.kind, LegalEvent.outcome, platform)
    ).all()
    return [(str(k), str(o), str(p), int(n), float(a or 0)) for k, o, p, n, a in rows]


def legal_events(
    session: Session, agency_id: int, *, limit: int, offset: int
) -> tuple[list[LegalEvent], int]:
    q = select(LegalEvent).where(LegalEvent.agency_id == agency_id)
    total = session.scalar(select(func.count()).select_from(q.subquery())) or 0
    rows = session.scalars(
        q.order_by(LegalEvent.occurred_at.desc(), LegalEvent.id.desc()).limit(limit).offset(offset)
    ).all()
    return list(rows), int(total)


def referral_of_agency(session: Session, referral_id: int, agency_id: int) -> Referral | None:
    return session.scalars(
        select(Referral).where(Referral.id == referral_id, Referral.agency_id == agency_id)
    ).first()
