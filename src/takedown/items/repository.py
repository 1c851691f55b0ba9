"""Every query of the items capability, including the bulk SQL of intake.

Tenant isolation is one function, :func:`visible_to`: a where-clause on
``items`` that every listing and lookup (ours and other capabilities') ANDs in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

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
from takedown.db import UTCDateTime
from takedown.items.models import Assessment, Hold, ImportJob, Item, ItemShare, Sighting

ITEMS = cast(Table, Item.__table__)

#: Extra visibility rules (OR-ed in). A hook returns a clause on ``Item`` or None.
VisibilityHook = Callable[[Principal], ColumnElement[bool] | None]
_VISIBILITY_HOOKS: list[VisibilityHook] = []

#: Identities per ``IN (...)`` lookup: parameters per statement stay under SQLite's limit.
LOOKUP_BATCH = 2000
#: Batch sizes of SQLite's ``IN (...)`` lookups (few distinct statement texts).
_SIZES = (2000, 1024, 256, 64, 16, 4, 1)


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


ITEM_COLUMNS = (
    "identity",
    "platform",
    "kind",
    "key",
    "canonical_url",
    "fetch_url",
    "parent_identity",
    "status",
    "title",
    "language",
    "first_seen_at",
    "last_seen_at",
    "created_at",
    "status_changed_at",
    "first_referred_at",
)
# PostgreSQL array types of ITEM_COLUMNS, in order, for ``unnest``.
_PG_ITEM_TYPES = (
    "varchar",
    "varchar",
    "varchar",
    "varchar",
    "text",
    "text",
    "varchar",
    "varchar",
    "text",
    "varchar",
    "timestamptz",
    "timestamptz",
    "timestamptz",
    "timestamptz",
    "timestamptz",
)
_PG_SIGHTING_TYPES = (
    "int4",
    "int4",
    "int4",
    "text",
    "timestamptz",
    "int4",
    "varchar",
    "int4",
    "text",
)
SIGHTING_COLUMNS = (
    "item_id",
    "agency_id",
    "import_id",
    "reported_url",
    "reported_at",
    "reported_by",
    "source",
    "line_no",
    "note",
)


def sqlite_utc_text(value: dt.datetime) -> str:
    """What the ORM stores for a UTC datetime on SQLite ('YYYY-MM-DD HH:MM:SS.ffffff'),
    made by ``isoformat`` in C rather than SQLAlchemy's %-formatting (one call per row)."""
    if value.tzinfo is not dt.UTC:
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


class BulkWriter:
    """Plain DBAPI ``executemany`` and raw lookups for intake's hot path.

    Every value crosses in the database's own representation: datetimes go
    through :attr:`dt` (the very conversion the ORM applies: text on SQLite,
    aware UTC datetimes on PostgreSQL), and lookups return them unconverted, so
    comparing a converted value with a stored one is exact on both engines. No
    per-row statement compilation or type processing happens.
    """

    def __init__(self, session: Session) -> None:
        self._session = session
        dialect = session.connection().dialect
        proc = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
        self.dt: Callable[[dt.datetime], Any] = proc if proc is not None else (lambda v: v)
        if dialect.name == "sqlite":
            self.dt = sqlite_utc_text
        self._mark = m = "?" if dialect.paramstyle == "qmark" else "%s"
        self._postgres = dialect.name == "postgresql"
        # SQL text is built only from the constant column tuples; values are always parameters.
        self._items_sql = (
            f"INSERT INTO items ({', '.join(ITEM_COLUMNS)}) "  # noqa: S608
            f"VALUES ({', '.join([m] * len(ITEM_COLUMNS))}) ON CONFLICT (identity) DO NOTHING"
        )
        self._sightings_sql = (
            f"INSERT INTO sightings ({', '.join(SIGHTING_COLUMNS)}) "  # noqa: S608
            f"VALUES ({', '.join([m] * len(SIGHTING_COLUMNS))})"
        )

    def _exec(self, sql: str, params: Any) -> Any:
        return self._session.connection().exec_driver_sql(sql, params)

    def _ladder(self, n: int, cap: int) -> Iterator[tuple[int, int]]:
        """(start, size) batches whose sizes come from a short fixed list.

        SQLite caches prepared statements by their text; a statement per possible
        batch size would fill that cache with huge statements and grow memory with
        the file. With sizes from ``_SIZES`` there are at most a handful of shapes.
        """
        i = 0
        for size in (s for s in _SIZES if s <= cap):
            while n - i >= size:
                yield i, size
                i += size

    def lookup(self, identities: Sequence[str]) -> dict[str, int]:
        """identity -> id for the identities already stored."""
        out: dict[str, int] = {}
        if not identities:
            return out
        if self._postgres:
            sql = "SELECT identity, id FROM items WHERE identity = ANY(%s::varchar[])"
            for i in range(0, len(identities), 5000):
                out.update(dict(self._exec(sql, (list(identities[i : i + 5000]),)).fetchall()))
            return out
        for i, size in self._ladder(len(identities), LOOKUP_BATCH):
            sql = (
                "SELECT identity, id FROM items "  # noqa: S608
                f"WHERE identity IN ({', '.join([self._mark] * size)})"
            )
            out.update(dict(self._exec(sql, tuple(identities[i : i + size])).fetchall()))
        return out

    def insert_items(self, rows: Sequence[tuple[Any, ...]]) -> dict[str, int]:
        """Insert items (first column: identity); returns identity -> id of those inserted.

        ``ON CONFLICT (identity) DO NOTHING``: an identity already stored
        (or stored meanwhile by a concurrent import) is skipped and absent from the
        result, so the caller knows exactly what it created. PostgreSQL gets one
        statement per batch with a column array each (``unnest``) and ``RETURNING``;
        SQLite, whose inserts run in-process, an ``executemany`` and one id query.
        """
        out: dict[str, int] = {}
        if not rows:
            return out
        cols = ", ".join(ITEM_COLUMNS)
        if self._postgres:
            per = 5000
            arrays = ", ".join(f"%s::{t}[]" for t in _PG_ITEM_TYPES)
            sql = (
                f"INSERT INTO items ({cols}) SELECT * FROM unnest({arrays}) "  # noqa: S608
                "ON CONFLICT (identity) DO NOTHING RETURNING identity, id"
            )
            for i in range(0, len(rows), per):
                columns = tuple(list(c) for c in zip(*rows[i : i + per], strict=True))
                out.update(dict(self._exec(sql, columns).fetchall()))
            return out
        # SQLite: one prepared statement for every row (executemany), then the new ids in one
        # range query. The import's transaction holds SQLite's write lock from its job row on
        # (flushed before the first chunk), so no other connection inserts meanwhile, and the
        # rows above the largest id taken just before are exactly the ones this call inserted.
        before = self._exec("SELECT COALESCE(MAX(id), 0) FROM items", ()).scalar_one()
        inserted = self._exec(self._items_sql, list(rows)).rowcount
        out = dict(self._exec("SELECT identity, id FROM items WHERE id > ?", (before,)).fetchall())
        if len(out) != inserted:  # another writer after all: never guess which rows are ours
            raise RuntimeError(f"items inserted: {inserted}, found above id {before}: {len(out)}")
        return out

    def widen_seen(self, import_id: int) -> None:
        """Stretch items' first/last seen to cover this import's sightings, in one statement.

        Set-based at the end of an import: each chunk already gives new items the
        range of its own rows, so only items sighted again in a later chunk (or
        stored before) are rewritten.
        """
        m = self._mark
        self._exec(
            "UPDATE items SET first_seen_at = CASE WHEN s.lo < items.first_seen_at "  # noqa: S608
            "THEN s.lo ELSE items.first_seen_at END, "
            "last_seen_at = CASE WHEN s.hi > items.last_seen_at "
            "THEN s.hi ELSE items.last_seen_at END "
            "FROM (SELECT item_id, MIN(reported_at) AS lo, MAX(reported_at) AS hi "
            f"FROM sightings WHERE import_id = {m} GROUP BY item_id) AS s "
            "WHERE items.id = s.item_id "
            "AND (s.lo < items.first_seen_at OR s.hi > items.last_seen_at)",
            (import_id,),
        )

    def insert_sightings(self, rows: Sequence[tuple[Any, ...]]) -> None:
        if not rows:
            return
        if self._postgres:
            arrays = ", ".join(f"%s::{t}[]" for t in _PG_SIGHTING_TYPES)
            sql = (
                f"INSERT INTO sightings ({', '.join(SIGHTING_COLUMNS)}) "  # noqa: S608
                f"SELECT * FROM unnest({arrays})"
            )
            for i in range(0, len(rows), 5000):
                self._exec(sql, tuple(list(c) for c in zip(*rows[i : i + 5000], strict=True)))
            return
        self._exec(self._sightings_sql, list(rows))
