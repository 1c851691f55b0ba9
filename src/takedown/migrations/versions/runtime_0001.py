"""runtime: the transactional outbox and the effect keys (#18.1)

Revision ID: runtime_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from takedown.db import UTCDateTime

revision = "runtime_0001"
down_revision = None
branch_labels = ("runtime",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "runtime_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job", sa.String(100), nullable=False),
        sa.Column("kwargs", sa.JSON(), nullable=False),
        sa.Column("key", sa.String(200), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("relays", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("relayed_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_runtime_outbox"),
        sa.UniqueConstraint("key", name="uq_runtime_outbox_key"),
    )
    op.create_index("ix_runtime_outbox_state_due", "runtime_outbox", ["state", "due_at"])
    op.create_table(
        "runtime_effects",
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("job", sa.String(100), nullable=False),
        sa.Column("done_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_runtime_effects"),
    )


def downgrade() -> None:
    op.drop_table("runtime_effects")
    op.drop_index("ix_runtime_outbox_state_due", table_name="runtime_outbox")
    op.drop_table("runtime_outbox")
