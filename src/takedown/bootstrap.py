"""Start-up chores shared by ``serve``, ``db upgrade`` and the tests: migrate, seed, first admin."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from takedown.config import Settings
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


_wired: dict[str, Settings] = {}


def wire_hooks(settings: Settings) -> None:
    """Connect capabilities that must not import each other (idempotent).

    - a confirmed removal feeds the item's captured media to the removed-content bank,
      so a re-upload of the same media is recognised later.
    """
    first = not _wired
    _wired["settings"] = settings  # the newest app or command's settings win
    if not first:
        return
    from takedown.evidence.service import feed_removed_media
    from takedown.evidence.storage.registry import store_for_settings
    from takedown.verification.service import on_removal_confirmed

    def removed(session: Session, item_id: int) -> None:
        feed_removed_media(session, item_id, store=store_for_settings(_wired["settings"]))

    on_removal_confirmed.append(removed)
