"""A database for tests whose code commits (jobs that own their transactions).

On PostgreSQL the shared fixtures nest those commits in savepoints that are
rolled back. On SQLite a released outermost savepoint is a real COMMIT, so
such tests get their own migrated SQLite file instead of the shared one.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from takedown.db import make_engine, make_sessionmaker
from takedown.migrate import upgrade


@pytest.fixture
def committing_db(
    request: pytest.FixtureRequest, engine_kind: str, tmp_path: Path
) -> Iterator[tuple[Session, sessionmaker[Session]]]:
    if engine_kind == "postgresql":
        factory: sessionmaker[Session] = request.getfixturevalue("session_factory")
        session: Session = request.getfixturevalue("db_session")
        yield session, factory
        return
    engine = make_engine(f"sqlite:///{tmp_path / 'committing.sqlite3'}")
    upgrade(engine)
    factory = make_sessionmaker(engine)
    session = factory()
    try:
        yield session, factory
    finally:
        session.close()
        engine.dispose()
