"""Every query of the verification capability."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.orm import Session

from takedown.accounts.principal import Principal
from takedown.items.models import Item
from takedown.items.repository import visible_to
from takedown.verification.models import Check, CheckSchedule

CHUNK = 500


def schedules_for(session: Session, item_ids: Iterable[int]) -> dict[int, CheckSchedule]:
    ids = list(item_ids)
    out: dict[int, CheckSchedule] = {}
    for i in range(0, len(ids), CHUNK):
        rows = session.scalars(
            select(CheckSchedule).where(CheckSchedule.item_id.in_(ids[i : i + CHUNK]))
        ).all()
        out.update({r.item_id: r for r in rows})
    return out


def add_schedule(session: Session, row: CheckSchedule) -> None:
    session.add(row)


def claim_due(
    session: Session, now: dt.datetime, limit: int, lease_until: dt.datetime
) -> list[tuple[int, str]]:
    """Take up to ``limit`` due items (oldest due first) and lease them to this run."""
    due = session.execute(
        select(CheckSchedule.item_id, Item.fetch_url)
        .join(Item, Item.id == CheckSchedule.item_id)
        .where(
            CheckSchedule.active.is_(True),
            CheckSchedule.next_check_at <= now,
            or_(CheckSchedule.lease_until.is_(None), CheckSchedule.lease_until < now),
        )
        .order_by(CheckSchedule.next_check_at, CheckSchedule.item_id)
        .limit(limit)
    ).all()
    ids = [r[0] for r in due]
    for i in range(0, len(ids), CHUNK):
        session.execute(
            update(CheckSchedule)
            .where(CheckSchedule.item_id.in_(ids[i : i + CHUNK]))
            .values(lease_until=lease_until)
        )
    return [(int(r[0]), str(r[1])) for r in due]


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
