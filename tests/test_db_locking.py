"""SQLite write transactions take the lock up front (``BEGIN IMMEDIATE``) and wait for it,
so a transaction that reads, then writes, never fails on another writer (#12.2, #19.2)."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import text

from takedown.db import make_engine, make_sessionmaker, session_scope, write_lock


def _engine(tmp_path: Path):  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'lock.sqlite3'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER)"))
        conn.execute(text("INSERT INTO t (n) VALUES (0)"))
    return engine


def test_read_then_write_waits_for_a_writer_that_commits_meanwhile(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    factory = make_sessionmaker(engine)
    holder_started = threading.Event()
    reader_read = threading.Event()

    def holder() -> None:
        with engine.begin() as conn:
            conn.execute(text("UPDATE t SET n = n + 1"))
            holder_started.set()
            reader_read.wait(5)  # the other transaction has read; now we commit under it

    th = threading.Thread(target=holder)
    th.start()
    holder_started.wait(5)
    with session_scope(factory) as s:
        assert s.scalar(text("SELECT count(*) FROM t")) == 1  # reads: no lock, no wait
        reader_read.set()
        s.execute(text("UPDATE t SET n = n + 10"))  # waits for the holder, then writes
    th.join()
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT n FROM t")) == 11
    engine.dispose()


def test_reads_take_no_lock_and_write_lock_serialises(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    factory = make_sessionmaker(engine)
    with session_scope(factory) as a:
        a.scalar(text("SELECT n FROM t"))
        assert not a.connection().connection.dbapi_connection.in_transaction  # type: ignore[union-attr]
        write_lock(a)
        assert a.connection().connection.dbapi_connection.in_transaction  # type: ignore[union-attr]
        with session_scope(factory) as b:  # a reader is never blocked by the writer
            assert b.scalar(text("SELECT n FROM t")) == 0
    engine.dispose()


def test_counters_under_threads_lose_no_update(tmp_path: Path) -> None:
    """A read-modify-write under ``write_lock`` from 8 threads: every increment lands."""
    engine = _engine(tmp_path)
    factory = make_sessionmaker(engine)
    errors: list[BaseException] = []

    def bump() -> None:
        try:
            for _ in range(10):
                with session_scope(factory) as s:
                    write_lock(s)
                    n = s.scalar(text("SELECT n FROM t"))
                    s.execute(text("UPDATE t SET n = :n"), {"n": int(n or 0) + 1})
        except BaseException as exc:  # pragma: no cover - the failure being tested
            errors.append(exc)

    threads = [threading.Thread(target=bump) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT n FROM t")) == 80
    engine.dispose()
