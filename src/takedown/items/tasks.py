"""Background job: a bulk import (``items.import``) run by a worker.

The file is spooled where every worker reads it (the data directory on a shared volume,
or a path the caller owns); the job imports it in one transaction (``intake``), and the
import's effect key (``runtime_effects``) is claimed first in that same transaction. So:

- a worker killed mid-import rolls the whole import back: the job is delivered again
  and imports the file from the start (no row lost, none doubled);
- a worker killed after the commit, before the job is marked done: the next delivery
  finds the key and does nothing (no sighting doubled);
- two deliveries at once (the broker's and the outbox's): the second waits on the key
  until the first commits, then does nothing.
"""

from __future__ import annotations

import contextlib
import logging
import os
from functools import lru_cache

from sqlalchemy.orm import Session, sessionmaker

from takedown.config import get_settings
from takedown.db import make_engine, make_sessionmaker, session_scope
from takedown.kit.jobs import job

log = logging.getLogger("takedown.items.intake")

IMPORT = "items.import"


@lru_cache(maxsize=1)
def _factory() -> sessionmaker[Session]:
    settings = get_settings()
    settings.ensure_dirs()
    return make_sessionmaker(make_engine(settings.effective_database_url))


def effect_key(key: str) -> str:
    return f"{IMPORT}:{key}"


def import_file(
    factory: sessionmaker[Session],
    *,
    path: str,
    filename: str,
    user_id: int,
    key: str,
    format: str | None = None,
) -> int | None:
    """Import ``path`` once for ``key``; returns the import's id, or None when an earlier
    delivery already imported it."""
    from takedown.accounts import service as accounts
    from takedown.items import intake
    from takedown.runtime import outbox
    from takedown.runtime import repository as runtime

    with session_scope(factory) as session:
        if runtime.effect_done(session, effect_key(key)):
            return None
    with session_scope(factory) as session:
        # First statement of the import's transaction: a racing delivery waits here.
        if not outbox.claim_effect(session, effect_key(key), IMPORT):
            return None
        user = accounts.get_user(session, user_id)
        principal = accounts.principal_for(
            user, accounts.get_agency(session, user.agency_id), via="job"
        )
        with open(path, "rb") as stream:
            imported = intake.import_stream(
                session, principal, stream, filename=filename, format=format
            )
        return int(imported.id)


@job(IMPORT)
def import_job(
    path: str,
    filename: str,
    user_id: int,
    key: str,
    format: str | None = None,
    remove: bool = False,
) -> None:
    """Import a spooled file (see the module's docstring); with ``remove`` the file is
    deleted once its import has committed."""
    import_id = import_file(
        _factory(), path=path, filename=filename, user_id=user_id, key=key, format=format
    )
    if import_id is not None:
        log.info("import %s (%s): import %d", key, filename, import_id)
    if remove:
        with contextlib.suppress(OSError):
            os.unlink(path)
