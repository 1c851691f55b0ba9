"""Every SQL query of the matching capability."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from typing import NamedTuple

from sqlalchemy import ColumnElement, func, or_, select, tuple_
from sqlalchemy.orm import Session

from takedown.matching.models import STALE_VARIANT, Bank, MatchResult, Signal, Tlp

SHAREABLE_TLPS = (Tlp.CLEAR.value, Tlp.GREEN.value)


class ChangedSignal(NamedTuple):
    id: int
    signal_type: str
    value: str
    enabled: bool
    updated_at: dt.datetime


def _bank_visible(agency_id: int) -> ColumnElement[bool]:
    return or_(
        Bank.agency_id == agency_id,
        Bank.tlp.in_(SHAREABLE_TLPS),
        (Bank.shared.is_(True)) & (Bank.tlp != Tlp.RED.value),
    )


def visible_banks(session: Session, agency_id: int | None) -> list[Bank]:
    """Banks an agency may match against and read: its own, CLEAR/GREEN, and shared non-RED ones.

    ``agency_id=None`` is the system (every bank), used by instance-level jobs.
    """
    stmt = select(Bank).order_by(Bank.id)
    if agency_id is not None:
        stmt = stmt.where(_bank_visible(agency_id))
    return list(session.scalars(stmt))


def page_visible_banks(
    session: Session, agency_id: int | None, *, limit: int, offset: int
) -> tuple[list[Bank], int]:
    """One page of ``visible_banks``: the agency's own first, then by name."""
    where = [] if agency_id is None else [_bank_visible(agency_id)]
    total = session.scalar(select(func.count()).select_from(Bank).where(*where)) or 0
    own_first = (Bank.agency_id != agency_id) if agency_id is not None else Bank.id.is_(None)
    stmt = select(Bank).where(*where).order_by(own_first, Bank.name, Bank.id)
    return list(session.scalars(stmt.limit(limit).offset(offset))), int(total)


def get_bank(session: Session, bank_id: int) -> Bank | None:
    return session.get(Bank, bank_id)


def bank_by_name(session: Session, agency_id: int, name: str) -> Bank | None:
    return session.scalar(select(Bank).where(Bank.agency_id == agency_id, Bank.name == name))


def first_agency_id(session: Session) -> int | None:
    from takedown.accounts.models import Agency

    return session.scalar(select(func.min(Agency.id)))


def add(session: Session, row: Bank | Signal | MatchResult) -> None:
    session.add(row)
    session.flush()


def add_many(session: Session, rows: Sequence[Signal | MatchResult]) -> None:
    session.add_all(rows)
    session.flush()


def get_signal(session: Session, signal_id: int) -> Signal | None:
    return session.get(Signal, signal_id)


def signals_by_ids(session: Session, ids: Iterable[int]) -> list[Signal]:
    wanted = sorted(set(ids))
    out: list[Signal] = []
    for i in range(0, len(wanted), 500):
        out.extend(session.scalars(select(Signal).where(Signal.id.in_(wanted[i : i + 500]))))
    return out


def signals_by_digest(session: Session, pairs: Sequence[tuple[str, str]]) -> list[Signal]:
    """Enabled signals with these exact (signal_type, digest) pairs."""
    if not pairs:
        return []
    stmt = select(Signal).where(
        Signal.enabled.is_(True), tuple_(Signal.signal_type, Signal.digest).in_(list(pairs))
    )
    return list(session.scalars(stmt))


def derived_signals(session: Session, parent_id: int) -> list[Signal]:
    """The signals derived from one signal (``Signal.parent_id``)."""
    return list(session.scalars(select(Signal).where(Signal.parent_id == parent_id)))


def bank_signal(session: Session, bank_id: int, signal_type: str, digest: str) -> Signal | None:
    """One signal of a bank by its digest (the unique key), without loading the bank."""
    return session.scalars(
        select(Signal).where(
            Signal.bank_id == bank_id, Signal.signal_type == signal_type, Signal.digest == digest
        )
    ).first()


def bank_signals_by_key(
    session: Session, bank_id: int, keys: set[tuple[str, str]]
) -> dict[tuple[str, str], Signal]:
    """The bank's signals among ``keys`` ((signal_type, digest) pairs), by key."""
    if not keys:
        return {}
    rows = session.scalars(
        select(Signal).where(
            Signal.bank_id == bank_id, Signal.digest.in_(sorted({d for _, d in keys}))
        )
    )
    return {(s.signal_type, s.digest): s for s in rows if (s.signal_type, s.digest) in keys}


def list_signals(
    session: Session,
    bank_id: int,
    *,
    limit: int,
    offset: int,
    include_disabled: bool = True,
    hide_red_of: Bank | None = None,
) -> tuple[list[Signal], int]:
    """A bank's signals by id; ``hide_red_of``: leave out signals whose effective TLP is RED."""
    base = select(Signal).where(Signal.bank_id == bank_id)
    if hide_red_of is not None:
        base = base.where(func.coalesce(Signal.tlp, hide_red_of.tlp) != Tlp.RED.value)
    if not include_disabled:
        base = base.where(Signal.enabled.is_(True))
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = list(session.scalars(base.order_by(Signal.id).limit(limit).offset(offset)))
    return rows, int(total)


def iter_bank_signals(session: Session, bank_id: int, batch: int = 1000) -> Iterator[Signal]:
    last = 0
    while True:
        rows = list(
            session.scalars(
                select(Signal)
                .where(Signal.bank_id == bank_id, Signal.id > last)
                .order_by(Signal.id)
                .limit(batch)
            )
        )
        if not rows:
            return
        yield from rows
        last = rows[-1].id


def count_signals(session: Session, bank_ids: Sequence[int]) -> dict[int, int]:
    if not bank_ids:
        return {}
    stmt = (
        select(Signal.bank_id, func.count())
        .where(Signal.bank_id.in_(list(bank_ids)), Signal.enabled.is_(True))
        .group_by(Signal.bank_id)
    )
    return {int(b): int(c) for b, c in session.execute(stmt)}


def count_stale(session: Session, bank_ids: Sequence[int]) -> dict[int, int]:
    """Per bank, its derived signals made by an older hasher (``models.STALE_VARIANT``)."""
    if not bank_ids:
        return {}
    stmt = (
        select(Signal.bank_id, func.count())
        .where(Signal.bank_id.in_(list(bank_ids)), Signal.variant == STALE_VARIANT)
        .group_by(Signal.bank_id)
    )
    return {int(b): int(c) for b, c in session.execute(stmt)}


def derived_of(session: Session, parent_id: int, signal_type: str) -> list[Signal]:
    """The derived signals of type ``signal_type`` made from signal ``parent_id``."""
    return list(
        session.scalars(
            select(Signal)
            .where(Signal.parent_id == parent_id, Signal.signal_type == signal_type)
            .order_by(Signal.id)
        )
    )


def enabled_signal_values(
    session: Session, signal_type: str, batch: int = 50_000
) -> Iterator[tuple[int, str]]:
    last = 0
    while True:
        rows = session.execute(
            select(Signal.id, Signal.value)
            .where(Signal.signal_type == signal_type, Signal.enabled.is_(True), Signal.id > last)
            .order_by(Signal.id)
            .limit(batch)
        ).all()
        if not rows:
            return
        for sid, value in rows:
            yield int(sid), str(value)
        last = int(rows[-1][0])


def max_signal_updated_at(session: Session) -> dt.datetime | None:
    value = session.scalar(select(func.max(Signal.updated_at)))
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value


def signals_changed_since(session: Session, since: dt.datetime) -> list[ChangedSignal]:
    rows = session.execute(
        select(Signal.id, Signal.signal_type, Signal.value, Signal.enabled, Signal.updated_at)
        .where(Signal.updated_at >= since)
        .order_by(Signal.updated_at, Signal.id)
    ).all()
    return [ChangedSignal(int(a), str(b), str(c), bool(d), e) for a, b, c, d, e in rows]


def results_for_item(session: Session, item_id: int) -> list[MatchResult]:
    return list(
        session.scalars(
            select(MatchResult).where(MatchResult.item_id == item_id).order_by(MatchResult.id)
        )
    )


# ---- match results and their review -------------------------------------------------


class MatchRow(NamedTuple):
    result: MatchResult
    signal: Signal
    bank: Bank
    item_url: str | None


def _readable(agency_id: int) -> list[ColumnElement[bool]]:
    """The bank is still visible to the agency, and a TLP:RED signal is the agency's own."""
    own = Bank.agency_id == agency_id
    return [
        _bank_visible(agency_id),
        or_(own, func.coalesce(Signal.tlp, Bank.tlp) != Tlp.RED.value),
    ]


def result_readable(session: Session, result_id: int, agency_id: int) -> MatchRow | None:
    from takedown.items.models import Item

    stmt = (
        select(MatchResult, Signal, Bank, Item.canonical_url)
        .join(Signal, Signal.id == MatchResult.signal_id)
        .join(Bank, Bank.id == MatchResult.bank_id)
        .outerjoin(Item, Item.id == MatchResult.item_id)
        .where(MatchResult.id == result_id, MatchResult.agency_id == agency_id,
               *_readable(agency_id))
    )  # fmt: skip
    row = session.execute(stmt).first()
    return None if row is None else MatchRow(row[0], row[1], row[2], row[3])


def _review_filter(status: str | None) -> list[ColumnElement[bool]]:
    return [] if status is None else [MatchResult.status == status]


def list_results(
    session: Session, agency_id: int, *, status: str | None, limit: int, offset: int
) -> tuple[list[MatchRow], int]:
    """An agency's match results (newest first), with their signal, bank and item URL."""
    from takedown.items.models import Item

    conds = [MatchResult.agency_id == agency_id, *_review_filter(status), *_readable(agency_id)]
    joined = (
        select(func.count())
        .select_from(MatchResult)
        .join(Signal, Signal.id == MatchResult.signal_id)
        .join(Bank, Bank.id == MatchResult.bank_id)
    )
    total = session.scalar(joined.where(*conds)) or 0
    stmt = (
        select(MatchResult, Signal, Bank, Item.canonical_url)
        .join(Signal, Signal.id == MatchResult.signal_id)
        .join(Bank, Bank.id == MatchResult.bank_id)
        .outerjoin(Item, Item.id == MatchResult.item_id)
        .where(*conds)
        .order_by(MatchResult.id.desc())
        .limit(limit)
        .offset(offset)
    )
    rows = [MatchRow(r, s, b, u) for r, s, b, u in session.execute(stmt).all()]
    return rows, int(total)


def get_result(session: Session, result_id: int) -> MatchResult | None:
    return session.get(MatchResult, result_id)


def count_results(session: Session, agency_id: int, status: str) -> int:
    stmt = select(func.count()).select_from(MatchResult)
    return int(
        session.scalar(stmt.where(MatchResult.agency_id == agency_id, MatchResult.status == status))
        or 0
    )
