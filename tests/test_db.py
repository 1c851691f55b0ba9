"""Savepoints nest on both engines: a session commit inside an outer transaction must
not survive the outer rollback (pysqlite would otherwise commit it for real)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session


def test_session_commit_inside_outer_transaction_is_rolled_back(
    request: pytest.FixtureRequest, engine_kind: str
) -> None:
    engine: Engine = request.getfixturevalue(
        "pg_engine" if engine_kind == "postgresql" else "sqlite_engine"
    )
    conn = engine.connect()
    outer = conn.begin()
    session = Session(bind=conn, join_transaction_mode="create_savepoint")
    session.execute(
        text(
            "INSERT INTO login_attempts (key, at, success) VALUES "
            "('savepoint-probe', CURRENT_TIMESTAMP, false)"
        )
    )
    session.commit()  # releases the savepoint only
    session.close()
    outer.rollback()
    conn.close()
    with engine.connect() as other:
        n = other.execute(text("SELECT count(*) FROM login_attempts WHERE key = 'savepoint-probe'"))
        assert n.scalar() == 0


def test_sqlite_autocommit_connection_runs_maintenance(tmp_path: Path) -> None:
    """AUTOCOMMIT is not wrapped in our explicit BEGIN: a WAL checkpoint and ANALYZE after
    a bulk load (benches, operations) would otherwise fail with "table is locked"."""
    from takedown.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path}/maint.sqlite3")
    with engine.begin() as c:
        c.execute(text("CREATE TABLE t (x INTEGER)"))
        c.execute(text("INSERT INTO t VALUES (1)"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.exec_driver_sql("SELECT 1")
        assert not c.connection.dbapi_connection.in_transaction  # type: ignore[union-attr]
        c.execute(text("ANALYZE"))
        busy, _log, _done = c.execute(text("PRAGMA wal_checkpoint(TRUNCATE)")).one()
        assert busy == 0
    with engine.begin() as c:  # ordinary transactions still begin explicitly
        c.execute(text("INSERT INTO t VALUES (2)"))
        assert c.connection.dbapi_connection.in_transaction  # type: ignore[union-attr]
    engine.dispose()
