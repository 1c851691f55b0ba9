"""runtime: leases for singleton work, and worker heartbeats (#18.1)

Revision ID: runtime_0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from takedown.db import UTCDateTime

revision = "runtime_0003"
down_revision = "runtime_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "runtime_leases",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("holder", sa.String(200), nullable=True),
        sa.Column("acquired_at", UTCDateTime(), nullable=True),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("last_run_at", UTCDateTime(), nullable=True),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_runtime_leases"),
    )
    op.create_table(
        "runtime_workers",
        sa.Column("id", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("hostname", sa.String(200), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("seen_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_runtime_workers"),
    )
    op.create_index("ix_runtime_workers_seen_at", "runtime_workers", ["seen_at"])


def downgrade() -> None:
    op.drop_index("ix_runtime_workers_seen_at", table_name="runtime_workers")
    op.drop_table("runtime_workers")
    op.drop_table("runtime_leases")
