"""Alembic environment.

Each capability owns a branch of revisions (``branch_labels``) so that
capabilities can add migrations independently; ``upgrade heads`` applies all.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from alembic import context
from alembic.migration import MigrationContext, MigrationInfo
from sqlalchemy import Connection

import takedown.models_index  # noqa: F401  (registers every model on Base.metadata)
from takedown.db import Base, make_engine

config = context.config
target_metadata = Base.metadata


def _applied(
    ctx: MigrationContext, step: MigrationInfo, heads: Collection[Any], run_args: Mapping[str, Any]
) -> None:
    # What ran, for ``takedown db upgrade`` to say (migrate.upgrade returns it).
    if step.is_upgrade:
        config.attributes.setdefault("applied", []).extend(step.up_revision_ids)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        on_version_apply=_applied,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = config.get_main_option("sqlalchemy.url")
    assert url, "sqlalchemy.url must be set"
    engine = make_engine(url)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()
