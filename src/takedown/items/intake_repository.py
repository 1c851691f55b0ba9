"""The bulk SQL of intake: plain DBAPI statements on the hot path of a large import.

Split from ``repository`` (which re-exports ``BulkWriter``) only for size: it is
still the items capability's repository, the one place that builds its SQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy.orm import Session

from takedown.db import UTCDateTime, serialize

if TYPE_CHECKING:
    import psycopg

#: Identities per ``IN (...)`` lookup: parameters per statement stay under SQLite's limit.
LOOKUP_BATCH = 2000
#: Batch sizes of SQLite's ``IN (...)`` lookups (few distinct statement texts).
_SIZES = (2000, 1024, 256, 64, 16, 4, 1)


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
# PostgreSQL types of ITEM_COLUMNS, in order: binary COPY's types and the staging table's.
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
# PostgreSQL types of SIGHTING_COLUMNS, in order, for binary COPY.
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
# Intake's staging table for new items on PostgreSQL (temporary: private to the connection).
_PG_STAGING = "takedown_intake_items"
_PG_STAGING_DDL = (
    f"CREATE TEMPORARY TABLE IF NOT EXISTS {_PG_STAGING} ("
    + ", ".join(f"{c} {t}" for c, t in zip(ITEM_COLUMNS, _PG_ITEM_TYPES, strict=True))
    + ") ON COMMIT DROP"
)
_PG_STAGING_COPY = f"COPY {_PG_STAGING} ({', '.join(ITEM_COLUMNS)}) FROM STDIN (FORMAT BINARY)"
_PG_STAGING_INSERT = (
    f"INSERT INTO items ({', '.join(ITEM_COLUMNS)}) "  # noqa: S608
    f"SELECT {', '.join(ITEM_COLUMNS)} FROM {_PG_STAGING} "
    "ON CONFLICT (identity) DO NOTHING RETURNING identity, id"
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
        if self._postgres:
            # Bulk imports take turns. Two imports naming the same URLs insert them in their
            # files' orders; ``ON CONFLICT DO NOTHING`` waits for the other's uncommitted row,
            # so A waiting on B's X while B waits on A's Y is a deadlock and one import fails
            # (tests/items/test_tasks.py). SQLite's write lock already serialises them; a
            # single URL added meanwhile takes its own lock (``items.identity:…``) and waits
            # on nothing of ours.
            serialize(session, "items.bulk_import")
        # SQL text is built only from the constant column tuples; values are always parameters.
        self._items_sql = (
            f"INSERT INTO items ({', '.join(ITEM_COLUMNS)}) "  # noqa: S608
            f"VALUES ({', '.join([m] * len(ITEM_COLUMNS))}) ON CONFLICT (identity) DO NOTHING"
        )
        self._sightings_sql = (
            f"INSERT INTO sightings ({', '.join(SIGHTING_COLUMNS)}) "  # noqa: S608
            f"VALUES ({', '.join([m] * len(SIGHTING_COLUMNS))})"
        )
        # PostgreSQL: binary COPY, each value sent in the server's own format with no SQL
        # text to parse per row. Sightings go straight into their table.
        self._sightings_copy = (
            f"COPY sightings ({', '.join(SIGHTING_COLUMNS)}) FROM STDIN (FORMAT BINARY)"
        )
        self._staging = False

    def _exec(self, sql: str, params: Any) -> Any:
        return self._session.connection().exec_driver_sql(sql, params)

    def _copy(self, sql: str, types: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        """``COPY ... FROM STDIN`` on the session's own DBAPI connection (psycopg 3), hence in
        the import's one transaction: a rollback takes the copied rows with it."""
        raw = cast(
            "psycopg.Connection[Any]", self._session.connection().connection.dbapi_connection
        )
        with raw.cursor() as cur, cur.copy(sql) as copy:
            copy.set_types(types)
            for row in rows:
                copy.write_row(row)

    def _pg_insert_items(self, rows: Sequence[tuple[Any, ...]]) -> dict[str, int]:
        """COPY into a temporary staging table, then one insert-or-skip from it.

        Measured against the former single ``INSERT ... SELECT FROM unnest(arrays)``
        per chunk, this halves the time of inserting items (and the client's CPU):
        the rows cross in binary, with no arrays to build, send and unpack.

        The staging table lives in the import's transaction (``ON COMMIT DROP``; a
        rollback drops it too), is created once per writer (``IF NOT EXISTS``: a
        second import in the same transaction reuses it) and emptied before every
        chunk, so it never holds rows but the chunk's own.
        """
        if not self._staging:
            self._exec(_PG_STAGING_DDL, ())
            self._staging = True
        self._exec(f"TRUNCATE {_PG_STAGING}", ())
        self._copy(_PG_STAGING_COPY, _PG_ITEM_TYPES, rows)
        return dict(self._exec(_PG_STAGING_INSERT, ()).fetchall())

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
        result, so the caller knows exactly what it created. PostgreSQL gets a
        binary COPY into a staging table and one ``INSERT ... SELECT ... RETURNING``
        from it; SQLite, whose inserts run in-process, an ``executemany`` and one id
        query.
        """
        out: dict[str, int] = {}
        if not rows:
            return out
        if self._postgres:
            return self._pg_insert_items(rows)
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
            self._copy(self._sightings_copy, _PG_SIGHTING_TYPES, rows)
            return
        self._exec(self._sightings_sql, list(rows))
