"""The checkpoint ticker: anchors the audit chain's head (``audit.anchors``).

Every minute it asks the database whether a checkpoint is due (the head moved by
``audit_checkpoint_events`` events, or ``audit_checkpoint_seconds`` passed since the
last one); if so it signs one, commits, then appends it to the anchor file.
Idempotent: a head already anchored is not anchored twice, and several workers
running it at once serialise on the chain's lock.
"""

from __future__ import annotations

import logging
from functools import lru_cache

from sqlalchemy.orm import Session, sessionmaker

from takedown.audit.anchors import (
    Anchor,
    append_to_file,
    is_due,
    keys_from_settings,
    write_checkpoint,
)
from takedown.config import Settings, get_settings
from takedown.db import make_engine, make_sessionmaker, session_scope
from takedown.kit.clock import Clock, SystemClock
from takedown.kit.jobs import ticker

log = logging.getLogger("takedown.audit")
TICK_SECONDS = 60


@lru_cache(maxsize=1)
def _factory() -> sessionmaker[Session]:
    settings = get_settings()
    settings.ensure_dirs()
    return make_sessionmaker(make_engine(settings.effective_database_url))


def checkpoint_if_due(
    factory: sessionmaker[Session],
    settings: Settings,
    *,
    force: bool = False,
    clock: Clock | None = None,
) -> Anchor | None:
    """Write a checkpoint when one is due (or ``force``); returns the anchor written."""
    clock = clock or SystemClock()
    keys = keys_from_settings(settings)
    with session_scope(factory) as session:
        if not force and not is_due(
            session,
            every_events=settings.audit_checkpoint_events,
            every_seconds=settings.audit_checkpoint_seconds,
            now=clock.now(),
        ):
            return None
        anchor = write_checkpoint(session, keys, clock=clock)
    if anchor is not None and keys.file is not None:
        append_to_file(keys.file, anchor)  # after the commit: the file never runs ahead
    return anchor


@ticker("audit.checkpoint", TICK_SECONDS)
def checkpoint_ticker() -> None:
    anchor = checkpoint_if_due(_factory(), get_settings())
    if anchor is not None:
        log.info("audit checkpoint written: %s", anchor)
