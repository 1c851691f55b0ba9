"""Every SQL query of deconfliction between instances."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from takedown.items.models import Hold, Item
from takedown.sharing.models import (
    DeconflictionAnswer,
    DeconflictionRequest,
    Followup,
    Investigation,
    Partner,
)


def answer_elements(session: Session) -> list[str]:
    """What this instance answers from: the items its own agencies hold (not the holds it
    placed in partners' names) and every open investigations-list element."""
    partner_agencies = select(Partner.agency_id)
    held = (
        select(Item.identity)
        .join(Hold, Hold.item_id == Item.id)
        .where(Hold.released_at.is_(None), Hold.agency_id.not_in(partner_agencies))
    )
    out = {f"url:{i}" for i in session.scalars(held)}
    out.update(
        session.scalars(
            select(Investigation.element).where(
                Investigation.closed_at.is_(None), Investigation.agency_id.not_in(partner_agencies)
            )
        )
    )
    return sorted(out)


def investigation(session: Session, agency_id: int, element: str) -> Investigation | None:
    return session.scalar(
        select(Investigation).where(
            Investigation.agency_id == agency_id, Investigation.element == element
        )
    )


def investigations_of(
    session: Session, agency_id: int | None, *, limit: int, offset: int
) -> tuple[list[Investigation], int]:
    where: list[ColumnElement[bool]] = [Investigation.closed_at.is_(None)]
    if agency_id is not None:
        where.append(Investigation.agency_id == agency_id)
    total = session.scalar(select(func.count()).select_from(Investigation).where(*where)) or 0
    stmt = (
        select(Investigation)
        .where(*where)
        .order_by(Investigation.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(session.scalars(stmt)), int(total)


def answers_since(session: Session, agency_id: int, since: dt.datetime) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(DeconflictionAnswer)
            .where(
                DeconflictionAnswer.asker_agency_id == agency_id,
                DeconflictionAnswer.asked_at >= since,
            )
        )
        or 0
    )


def answers(session: Session, *, limit: int, offset: int) -> tuple[list[DeconflictionAnswer], int]:
    total = session.scalar(select(func.count()).select_from(DeconflictionAnswer)) or 0
    stmt = (
        select(DeconflictionAnswer)
        .order_by(DeconflictionAnswer.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(session.scalars(stmt)), int(total)


def requests_of(
    session: Session, agency_id: int | None, *, limit: int, offset: int
) -> tuple[list[DeconflictionRequest], int]:
    where = [] if agency_id is None else [DeconflictionRequest.agency_id == agency_id]
    total = (
        session.scalar(select(func.count()).select_from(DeconflictionRequest).where(*where)) or 0
    )
    stmt = (
        select(DeconflictionRequest)
        .where(*where)
        .order_by(DeconflictionRequest.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(session.scalars(stmt)), int(total)


def followups_of(
    session: Session, agency_id: int | None, *, status: str | None, limit: int, offset: int
) -> tuple[list[Followup], int]:
    where: list[ColumnElement[bool]] = []
    if agency_id is not None:
        where.append(Followup.agency_id == agency_id)
    if status:
        where.append(Followup.status == status)
    total = session.scalar(select(func.count()).select_from(Followup).where(*where)) or 0
    stmt = (
        select(Followup)
        .where(*where)
        .order_by(Followup.due_at, Followup.id)
        .limit(limit)
        .offset(offset)
    )
    return list(session.scalars(stmt)), int(total)
