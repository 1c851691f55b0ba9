"""runtime: PostgreSQL tells every process when a matching signal changes (#18.3)

A statement-level trigger on match_signals sends NOTIFY takedown_signals; each process
listening (``runtime.notify``) syncs its matching index at once. SQLite (embedded, one
process) has nothing to tell.

Revision ID: runtime_0005
"""

from __future__ import annotations

from alembic import op

revision = "runtime_0005"
down_revision = "runtime_0004"
branch_labels = None
depends_on = ["matching_0001"]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE OR REPLACE FUNCTION takedown_notify_signals() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_notify('takedown_signals', ''); "
        "RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER match_signals_notify AFTER INSERT OR UPDATE OR DELETE "
        "ON match_signals FOR EACH STATEMENT EXECUTE FUNCTION takedown_notify_signals()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS match_signals_notify ON match_signals")
    op.execute("DROP FUNCTION IF EXISTS takedown_notify_signals()")
