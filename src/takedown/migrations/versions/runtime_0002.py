"""runtime: the dead-letter queue (#18.1)

Revision ID: runtime_0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from takedown.db import UTCDateTime

revision = "runtime_0002"
down_revision = "runtime_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "runtime_dead_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job", sa.String(100), nullable=False),
        sa.Column("kwargs", sa.JSON(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("failed_at", UTCDateTime(), nullable=False),
        sa.Column("retried_at", UTCDateTime(), nullable=True),
        sa.Column("retried_as", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_runtime_dead_jobs"),
    )
    op.create_index("ix_runtime_dead_jobs_failed_at", "runtime_dead_jobs", ["failed_at"])


def downgrade() -> None:
    op.drop_index("ix_runtime_dead_jobs_failed_at", table_name="runtime_dead_jobs")
    op.drop_table("runtime_dead_jobs")
