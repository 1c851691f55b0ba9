"""runtime: the per-host politeness budget shared by every process (#18.2)

Revision ID: runtime_0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "runtime_0004"
down_revision = "runtime_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "runtime_host_budget",
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("next_slot", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("host", name="pk_runtime_host_budget"),
    )


def downgrade() -> None:
    op.drop_table("runtime_host_budget")
