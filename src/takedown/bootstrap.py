"""Start-up chores shared by ``serve``, ``db upgrade`` and the tests: migrate, seed, first admin."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from takedown.db import make_sessionmaker, session_scope
from takedown.migrate import upgrade


def prepare_database(engine: Engine) -> None:
    """Migrate, then seed reference data (idempotent: never overwrites an edit)."""
    from takedown.platforms.seed import ensure_seeded

    upgrade(engine)
    with session_scope(make_sessionmaker(engine)) as session:
        ensure_seeded(session)


def first_start(factory: sessionmaker[Session]) -> tuple[str, str] | None:
    from takedown.accounts.service import bootstrap_admin

    with session_scope(factory) as session:
        return bootstrap_admin(session)
