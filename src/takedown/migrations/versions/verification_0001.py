"""verification: checks and the check schedule

Revision ID: verification_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from takedown.db import UTCDateTime

revision = "verification_0001"
down_revision = None
branch_labels = ("verification",)
depends_on = ["accounts_0001", "items_0001"]


def upgrade() -> None:
    op.create_table(
        "checks",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
            autoincrement=True,
        ),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("checked_at", UTCDateTime(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("detector", sa.String(64), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("elapsed_ms", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(32), nullable=True),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name="fk_checks_item_id_items"),
        sa.PrimaryKeyConstraint("id", name="pk_checks"),
    )
    op.create_index("ix_checks_checked_at", "checks", ["checked_at"], unique=False)
    op.create_index(
        "ix_checks_item_id_checked_at", "checks", ["item_id", "checked_at"], unique=False
    )
    op.create_index("ix_checks_outcome", "checks", ["outcome"], unique=False)
    op.create_table(
        "check_schedules",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("anchor_at", UTCDateTime(), nullable=False),
        sa.Column("next_check_at", UTCDateTime(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("checks", sa.Integer(), nullable=False),
        sa.Column("last_checked_at", UTCDateTime(), nullable=True),
        sa.Column("last_outcome", sa.String(16), nullable=True),
        sa.Column("last_online_at", UTCDateTime(), nullable=True),
        sa.Column("removed_since", UTCDateTime(), nullable=True),
        sa.Column("removed_confirmed_at", UTCDateTime(), nullable=True),
        sa.Column("removed_at", UTCDateTime(), nullable=True),
        sa.Column("online_before_removal_at", UTCDateTime(), nullable=True),
        sa.Column("reappeared_at", UTCDateTime(), nullable=True),
        sa.Column("lease_until", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name="fk_check_schedules_item_id_items"),
        sa.PrimaryKeyConstraint("item_id", name="pk_check_schedules"),
    )
    op.create_index(
        "ix_check_schedules_next_check_at", "check_schedules", ["next_check_at"], unique=False
    )


def downgrade() -> None:
    op.drop_table("check_schedules")
    op.drop_table("checks")
