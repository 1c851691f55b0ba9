"""Engines, sessions and the declarative base, for SQLite (embedded) and PostgreSQL.

Services never commit: the request (``session_dependency``) or the job
(``session_scope``) that owns the unit of work commits or rolls back, so a
failure never leaves half a change behind.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event, text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on both engines (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC)

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UTCDateTime()}


#: How long a SQLite writer waits for another's lock before giving up (milliseconds).
SQLITE_BUSY_TIMEOUT_MS = 30_000

# Statements that only read: they run outside any SQLite transaction (each sees the latest
# commit, as PostgreSQL's READ COMMITTED does), so a read never holds or waits for a lock.
_READS = ("SELECT", "PRAGMA", "EXPLAIN")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # pysqlite's own transaction handling sends a deferred BEGIN before writes, so a
    # SAVEPOINT could open (and its RELEASE commit) the real transaction. Turn it off and
    # open the transaction ourselves (see _sqlite_write_intent); savepoints then nest.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cur.close()


def _wants_write(statement: str, context: Any) -> bool:
    head = statement.lstrip()[:8].upper()
    if not head.startswith(_READS):
        return True  # INSERT, UPDATE, DELETE, SAVEPOINT, DDL...
    # ``SELECT ... FOR UPDATE`` (a claim): SQLite drops the clause, so take the lock instead.
    compiled = getattr(context, "compiled", None)
    stmt = getattr(compiled, "statement", None)
    return getattr(stmt, "_for_update_arg", None) is not None


class _Writer:
    """One engine's queue of writers, inside this process.

    SQLite's busy handler polls with growing sleeps (up to 100 ms), so under load a
    waiting writer can be overtaken again and again (seconds of tail latency). In-process
    writers queue on this lock instead and get the database as soon as it is free;
    SQLite's own lock and busy timeout still order writers of other processes (the CLI).
    """

    def __init__(self, timeout: float) -> None:
        self._lock = threading.Lock()
        self.timeout = timeout

    def acquire(self, conn: _SQLiteConnection) -> None:
        if conn.holds_writer:
            return
        if not self._lock.acquire(timeout=self.timeout):
            raise sqlite3.OperationalError(
                f"database is locked (no write turn within {self.timeout:.0f} s)"
            )
        conn.holds_writer = True

    def release(self, conn: Any) -> None:
        if getattr(conn, "holds_writer", False):
            conn.holds_writer = False
            self._lock.release()


class _SQLiteConnection(sqlite3.Connection):
    """A sqlite3 connection that knows its engine's writer queue and whether it is in it."""

    writer: _Writer | None = None
    holds_writer: bool = False


def _begin_immediate(dbapi_conn: Any) -> None:
    if dbapi_conn.in_transaction:
        return
    writer: _Writer | None = getattr(dbapi_conn, "writer", None)
    if writer is not None:
        writer.acquire(dbapi_conn)
    try:
        dbapi_conn.execute("BEGIN IMMEDIATE")
    except BaseException:
        if writer is not None:
            writer.release(dbapi_conn)
        raise


def _raw(conn: Any) -> Any:
    return getattr(conn, "dbapi_connection", conn)


def _install_writer_queue(engine: Engine) -> None:
    """Writers wait in ``_Writer``; the turn ends with the transaction, however it ends
    (commit, rollback, the pool's reset on return, a closed or invalidated connection)."""
    writer = _Writer(SQLITE_BUSY_TIMEOUT_MS / 1000)
    dialect = engine.dialect
    commit, rollback = dialect.do_commit, dialect.do_rollback

    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        if isinstance(dbapi_conn, _SQLiteConnection):
            dbapi_conn.writer = writer

    def do_commit(dbapi_connection: Any) -> None:
        try:
            commit(dbapi_connection)
        finally:
            writer.release(_raw(dbapi_connection))

    def do_rollback(dbapi_connection: Any) -> None:
        try:
            rollback(dbapi_connection)
        finally:
            writer.release(_raw(dbapi_connection))

    def on_gone(dbapi_conn: Any, *_args: Any) -> None:
        writer.release(_raw(dbapi_conn))

    setattr(dialect, "do_commit", do_commit)  # noqa: B010 (an instance's own method)
    setattr(dialect, "do_rollback", do_rollback)  # noqa: B010
    event.listen(engine, "connect", on_connect)
    event.listen(engine, "close", on_gone)
    event.listen(engine, "invalidate", on_gone)


def _sqlite_write_intent(
    conn: Any, cursor: Any, statement: str, _params: Any, context: Any, _many: bool
) -> None:
    """Open the SQLite transaction with ``BEGIN IMMEDIATE`` just before its first write.

    A deferred ``BEGIN`` that reads and then writes cannot wait for the write lock: when
    another writer committed in between, SQLite answers ``database is locked`` at once,
    whatever the busy timeout (#12.2, #19.2). ``BEGIN IMMEDIATE`` takes the lock up
    front and waits for it (``busy_timeout``); reads before it take no lock at all.
    """
    if not conn.in_transaction():
        return
    if conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
        return  # maintenance (ANALYZE, wal_checkpoint, VACUUM) runs outside transactions
    if _wants_write(statement, context):
        _begin_immediate(cursor.connection)


def write_lock(session: Session) -> None:
    """Take the database's write lock now, for a read-then-write that must not interleave
    (the audit chain's head, a claim): ``BEGIN IMMEDIATE`` on SQLite; on PostgreSQL the
    caller locks its rows (``FOR UPDATE``) or an advisory lock."""
    conn = session.connection()
    if conn.dialect.name == "sqlite":
        _begin_immediate(conn.connection.dbapi_connection)


def serialize(session: Session, key: str) -> None:
    """Serialise a read-then-write on ``key`` until the transaction ends (a new reference
    number, "is this URL known yet?"): SQLite's write lock; PostgreSQL's transaction-level
    advisory lock on the key's hash, so unrelated keys do not wait for each other."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": key})
    else:
        write_lock(session)


def is_locked_error(exc: BaseException) -> bool:
    """SQLite's lock contention (what a job retries), as opposed to a real failure."""
    text = str(getattr(exc, "orig", exc)).lower()
    return "database is locked" in text or "database table is locked" in text


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        connect_args = {"check_same_thread": False, "factory": _SQLiteConnection}
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "before_cursor_execute", _sqlite_write_intent)
        _install_writer_queue(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back everything on error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def is_postgres(session_or_engine: Session | Engine) -> bool:
    bind = (
        session_or_engine.get_bind()
        if isinstance(session_or_engine, Session)
        else session_or_engine
    )
    return bind.dialect.name == "postgresql"
