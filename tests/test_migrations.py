"""The migrations build exactly the schema the models describe, on both engines."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect

import takedown.models_index  # noqa: F401
from takedown.db import Base


def test_migrated_schema_matches_models(db_connection: Connection) -> None:
    ctx = MigrationContext.configure(db_connection, opts={"compare_type": False})
    diff = compare_metadata(ctx, Base.metadata)
    assert diff == [], f"models and migrations disagree: {diff}"


def test_every_model_table_exists(db_connection: Connection) -> None:
    tables = set(inspect(db_connection).get_table_names())
    missing = set(Base.metadata.tables) - tables
    assert not missing


@pytest.mark.parametrize("table", ["agencies", "users", "audit_events"])
def test_core_tables_present(db_connection: Connection, table: str) -> None:
    assert table in inspect(db_connection).get_table_names()
