"""Every query of the verification capability."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import and_, case, func, insert, literal, or_, select, update
from sqlalchemy.orm import Session

from takedown.accounts.principal import Principal
from takedown.db import UTCDateTime
from takedown.items.models import Item
from takedown.items.repository import visible_to
from takedown.kit import leases
from takedown.verification.models import Check, CheckRequest, CheckRequestItem, CheckSchedule

CHUNK = 500


def schedules_for(
    session: Session, item_ids: Iterable[int], *, lock: bool = False
) -> dict[int, CheckSchedule]:
    """The items' schedules; with ``lock``, locked (in item order) and re-read, so a run
    recording its results and another claiming the same items take turns."""
    ids = sorted(set(item_ids)) if lock else list(item_ids)
    out: dict[int, CheckSchedule] = {}
    for i in range(0, len(ids), CHUNK):
        q = select(CheckSchedule).where(CheckSchedule.item_id.in_(ids[i : i + CHUNK]))
        if lock:
            q = (
                q.order_by(CheckSchedule.item_id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        rows = session.scalars(q).all()
        out.update({r.item_id: r for r in rows})
    return out


def add_schedule(session: Session, row: CheckSchedule) -> None:
    session.add(row)


#: A check schedule's lease columns (``kit.leases``): which run checks the item, until when.
LEASE = leases.Leased(CheckSchedule.item_id, CheckSchedule.lease_owner, CheckSchedule.lease_until)


def claim_due(
    session: Session,
    now: dt.datetime,
    limit: int,
    lease_until: dt.datetime,
    *,
    request_id: int | None = None,
    owner: str | None = None,
) -> list[tuple[int, str]]:
    """Take up to ``limit`` due items (oldest due first) and lease them to ``owner``;
    with ``request_id``, only the due items of that on-demand request. Two runs never
    take the same item (``kit.leases.claim``)."""
    where = [CheckSchedule.active.is_(True), CheckSchedule.next_check_at <= now]
    if request_id is not None:
        where.append(CheckSchedule.item_id.in_(_request_item_ids(request_id)))
    ids = leases.claim(
        session, LEASE, where, owner=owner or leases.owner_id("verify"), now=now,
        ttl=lease_until - now, limit=limit,
        order_by=[CheckSchedule.next_check_at, CheckSchedule.item_id],
    )  # fmt: skip
    urls: dict[int, str] = {}
    for i in range(0, len(ids), CHUNK):
        rows = session.execute(
            select(Item.id, Item.fetch_url).where(Item.id.in_(ids[i : i + CHUNK]))
        )
        urls.update((int(k), str(u)) for k, u in rows)
    return [(int(i), str(urls[i])) for i in ids if i in urls]


def renew_leases(
    session: Session, item_ids: Sequence[int], *, owner: str, now: dt.datetime, ttl: dt.timedelta
) -> int:
    return leases.renew(session, LEASE, list(item_ids), owner=owner, now=now, ttl=ttl)


def release_leases(session: Session, item_ids: Sequence[int], *, owner: str) -> int:
    return leases.release(session, LEASE, list(item_ids), owner=owner)


def release_dead_leases(session: Session) -> int:
    """Schedules leased by a run that died on this host: due again at once."""
    return leases.release_dead(session, LEASE)


def request_waiting(
    session: Session, request_id: int, since: dt.datetime, now: dt.datetime
) -> tuple[int, dt.datetime | None, int]:
    """The request's items not checked since ``since``: how many a run holds now (and its
    lease's latest end), and how many are due with no run holding them (queued)."""
    ids = _request_item_ids(request_id)
    checked = select(Check.item_id).where(Check.item_id.in_(ids), Check.checked_at >= since)
    mine = and_(CheckSchedule.item_id.in_(ids), CheckSchedule.item_id.not_in(checked))
    running, until = session.execute(
        select(func.count(), func.max(CheckSchedule.lease_until)).where(
            mine, CheckSchedule.lease_until >= now
        )
    ).one()
    queued = session.scalar(
        select(func.count()).where(
            mine,
            or_(CheckSchedule.lease_until.is_(None), CheckSchedule.lease_until < now),
            or_(CheckSchedule.not_before.is_(None), CheckSchedule.not_before <= now),
        )
    )
    return int(running or 0), until, int(queued or 0)


def count_due(session: Session, now: dt.datetime) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(CheckSchedule)
            .where(CheckSchedule.active.is_(True), CheckSchedule.next_check_at <= now)
        )
        or 0
    )


def insert_checks(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    for i in range(0, len(rows), CHUNK):
        session.execute(insert(Check), list(rows[i : i + CHUNK]))


def items_by_id(session: Session, ids: Iterable[int]) -> dict[int, Item]:
    ids = list(ids)
    out: dict[int, Item] = {}
    for i in range(0, len(ids), CHUNK):
        out.update(
            {
                it.id: it
                for it in session.scalars(select(Item).where(Item.id.in_(ids[i : i + CHUNK])))
            }
        )
    return out


def list_checks(
    session: Session,
    principal: Principal,
    *,
    item_id: int | None = None,
    outcome: str | None = None,
    platform: str | None = None,
    since: dt.datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Check], int]:
    conds = [visible_to(principal)]
    if item_id is not None:
        conds.append(Check.item_id == item_id)
    if outcome:
        conds.append(Check.outcome == outcome)
    if platform:
        conds.append(Item.platform == platform)
    if since is not None:
        conds.append(Check.checked_at >= since)
    where = and_(*conds)
    base = select(Check).join(Item, Item.id == Check.item_id).where(where)
    total = session.scalar(
        select(func.count()).select_from(Check).join(Item, Item.id == Check.item_id).where(where)
    )
    rows = session.scalars(
        base.order_by(Check.checked_at.desc(), Check.id.desc()).limit(limit).offset(offset)
    ).all()
    return list(rows), int(total or 0)


def latest_checks(session: Session, item_ids: Iterable[int]) -> dict[int, Check]:
    """The newest check of each item (by check time, then id), for those that have one."""
    ids = list(dict.fromkeys(item_ids))
    out: dict[int, Check] = {}
    for i in range(0, len(ids), CHUNK):
        chunk = ids[i : i + CHUNK]
        newest = (
            select(Check.item_id, func.max(Check.checked_at).label("at"))
            .where(Check.item_id.in_(chunk))
            .group_by(Check.item_id)
            .subquery()
        )
        rows = session.scalars(
            select(Check)
            .join(newest, and_(newest.c.item_id == Check.item_id, newest.c.at == Check.checked_at))
            .order_by(Check.item_id, Check.id)
        ).all()
        out.update({r.item_id: r for r in rows})  # the last of a tie wins: the newest id
    return out


def checks_of_run(session: Session, run_id: str, item_ids: Iterable[int]) -> dict[int, Check]:
    """The checks one run recorded for these items (the newest per item)."""
    ids = list(dict.fromkeys(item_ids))
    out: dict[int, Check] = {}
    for i in range(0, len(ids), CHUNK):
        rows = session.scalars(
            select(Check)
            .where(Check.run_id == run_id, Check.item_id.in_(ids[i : i + CHUNK]))
            .order_by(Check.item_id, Check.checked_at, Check.id)
        ).all()
        out.update({r.item_id: r for r in rows})
    return out


def timeline(session: Session, item_id: int) -> list[Check]:
    return list(
        session.scalars(
            select(Check).where(Check.item_id == item_id).order_by(Check.checked_at, Check.id)
        ).all()
    )


def schedule_rows_visible(
    session: Session, principal: Principal, *, platform: str | None = None
) -> list[tuple[CheckSchedule, Item]]:
    q = select(CheckSchedule, Item).join(Item, Item.id == CheckSchedule.item_id)
    q = q.where(visible_to(principal))
    if platform:
        q = q.where(Item.platform == platform)
    return [(s, i) for s, i in session.execute(q).all()]


# --- checks on demand ---------------------------------------------------------------------


def _request_item_ids(request_id: int) -> Any:
    return select(CheckRequestItem.item_id).where(CheckRequestItem.request_id == request_id)


def visible_ids(session: Session, principal: Principal, ids: Sequence[int]) -> list[int]:
    """Which of ``ids`` the principal may see, in id order."""
    out: set[int] = set()
    for i in range(0, len(ids), CHUNK):
        out.update(
            session.scalars(
                select(Item.id).where(Item.id.in_(list(ids[i : i + CHUNK])), visible_to(principal))
            )
        )
    return sorted(out)


def scheduled_ids(session: Session, ids: Sequence[int]) -> list[int]:
    """Which of ``ids`` are under verification (have a schedule), in id order."""
    out: set[int] = set()
    for i in range(0, len(ids), CHUNK):
        out.update(
            session.scalars(
                select(CheckSchedule.item_id).where(
                    CheckSchedule.item_id.in_(list(ids[i : i + CHUNK]))
                )
            )
        )
    return sorted(out)


def add_request(session: Session, row: CheckRequest, item_ids: Sequence[int]) -> None:
    session.add(row)
    session.flush()
    rows = [{"request_id": row.id, "item_id": i} for i in item_ids]
    for i in range(0, len(rows), CHUNK):
        session.execute(insert(CheckRequestItem), rows[i : i + CHUNK])


def mark_requested(session: Session, request_id: int, now: dt.datetime) -> None:
    """The request's items are due now, or when their host's Retry-After ends if later;
    never later than they already were. Stopped schedules (six months on) run once more."""
    not_held = or_(CheckSchedule.not_before.is_(None), CheckSchedule.not_before <= now)
    due = case(
        (and_(not_held, CheckSchedule.next_check_at > now), literal(now, UTCDateTime())),
        (
            and_(~not_held, CheckSchedule.next_check_at > CheckSchedule.not_before),
            CheckSchedule.not_before,
        ),
        else_=CheckSchedule.next_check_at,
    )
    session.execute(
        update(CheckSchedule)
        .where(CheckSchedule.item_id.in_(_request_item_ids(request_id)))
        .values(active=True, requested_at=now, next_check_at=due)
        .execution_options(synchronize_session="fetch")
    )


def get_request(session: Session, request_id: int) -> CheckRequest | None:
    return session.get(CheckRequest, request_id)


def request_outcomes(session: Session, request_id: int, since: dt.datetime) -> dict[str, int]:
    """Per outcome, how many of the request's items were checked since ``since`` (each
    item counted once, by its latest check)."""
    latest = (
        select(func.max(Check.id).label("cid"))
        .where(Check.item_id.in_(_request_item_ids(request_id)), Check.checked_at >= since)
        .group_by(Check.item_id)
        .subquery()
    )
    rows = session.execute(
        select(Check.outcome, func.count())
        .join(latest, Check.id == latest.c.cid)
        .group_by(Check.outcome)
        .order_by(Check.outcome)
    ).all()
    return {str(o): int(n) for o, n in rows}


def request_held(
    session: Session, request_id: int, since: dt.datetime, now: dt.datetime
) -> tuple[int, dt.datetime | None]:
    """The request's items not checked since ``since`` whose host asked us to wait past
    ``now``: how many, and until when at the latest."""
    checked = select(Check.item_id).where(
        Check.item_id.in_(_request_item_ids(request_id)), Check.checked_at >= since
    )
    n, until = session.execute(
        select(func.count(), func.max(CheckSchedule.not_before)).where(
            CheckSchedule.item_id.in_(_request_item_ids(request_id)),
            CheckSchedule.not_before > now,
            CheckSchedule.item_id.not_in(checked),
        )
    ).one()
    return int(n or 0), until


def latest_request(
    session: Session, agency_id: int, scope: str, scope_id: int
) -> CheckRequest | None:
    return session.scalars(
        select(CheckRequest)
        .where(
            CheckRequest.agency_id == agency_id,
            CheckRequest.scope == scope,
            CheckRequest.scope_id == scope_id,
        )
        .order_by(CheckRequest.id.desc())
        .limit(1)
    ).first()
