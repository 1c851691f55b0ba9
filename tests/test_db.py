"""Savepoints nest on both engines: a session commit inside an outer transaction must
not survive the outer rollback (pysqlite would otherwise commit it for real)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session


def test_session_commit_inside_outer_transaction_is_rolled_back(
    request: pytest.FixtureRequest, engine_kind: str
) -> None:
    engine: Engine = request.getfixturevalue(
        "pg_engine" if engine_kind == "postgresql" else "sqlite_engine")
    conn = engine.connect()
    outer = conn.begin()
    session = Session(bind=conn, join_transaction_mode="create_savepoint")
    session.execute(text("INSERT INTO login_attempts (key, at, success) VALUES "
                         "('savepoint-probe', CURRENT_TIMESTAMP, false)"))
    session.commit()  # releases the savepoint only
    session.close()
    outer.rollback()
    conn.close()
    with engine.connect() as other:
        n = other.execute(text("SELECT count(*) FROM login_attempts WHERE key = 'savepoint-probe'"))
        assert n.scalar() == 0
