"""referrals: referral batches, items, deliveries, attempts, notices, notifications

Revision ID: referrals_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from takedown.db import UTCDateTime

revision = "referrals_0001"
down_revision = None
branch_labels = ("referrals",)
depends_on = ["accounts_0001", "items_0001"]


def upgrade() -> None:
    op.create_table(
        "referrals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("platform", sa.String(64), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("approver_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("emergency", sa.Boolean(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("justification", sa.Text(), nullable=False),
        sa.Column("disclosure_delayed", sa.Boolean(), nullable=False),
        sa.Column("disclosure_delay_weeks", sa.Integer(), nullable=False),
        sa.Column("annex", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("approved_at", UTCDateTime(), nullable=True),
        sa.Column("issued_at", UTCDateTime(), nullable=True),
        sa.Column("not_before", UTCDateTime(), nullable=True),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("received_at", UTCDateTime(), nullable=True),
        sa.Column("deadline_at", UTCDateTime(), nullable=True),
        sa.Column("ack_reference", sa.String(128), nullable=True),
        sa.Column("overdue_at", UTCDateTime(), nullable=True),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name="fk_referrals_agency_id_agencies"
        ),
        sa.ForeignKeyConstraint(
            ["approver_id"], ["users.id"], name="fk_referrals_approver_id_users"
        ),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], name="fk_referrals_author_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_referrals"),
        sa.UniqueConstraint("reference", name="uq_referrals_reference"),
    )
    op.create_index("ix_referrals_agency_id", "referrals", ["agency_id"], unique=False)
    op.create_index("ix_referrals_deadline_at", "referrals", ["deadline_at"], unique=False)
    op.create_index("ix_referrals_platform", "referrals", ["platform"], unique=False)
    op.create_index("ix_referrals_status", "referrals", ["status"], unique=False)
    op.create_table(
        "referral_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("skip_detail", sa.Text(), nullable=False),
        sa.Column("response", sa.String(16), nullable=True),
        sa.Column("response_reason", sa.String(32), nullable=True),
        sa.Column("response_text", sa.Text(), nullable=False),
        sa.Column("responded_at", UTCDateTime(), nullable=True),
        sa.Column("responded_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name="fk_referral_items_item_id_items"),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referrals.id"], name="fk_referral_items_referral_id_referrals"
        ),
        sa.ForeignKeyConstraint(
            ["responded_by"], ["users.id"], name="fk_referral_items_responded_by_users"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_referral_items"),
        sa.UniqueConstraint("referral_id", "item_id", name="uq_referral_items_referral_id_item_id"),
    )
    op.create_index(
        "ix_referral_items_item_id_state", "referral_items", ["item_id", "state"], unique=False
    )
    op.create_index(
        "ix_referral_items_referral_id", "referral_items", ["referral_id"], unique=False
    )
    op.create_table(
        "referral_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("idempotency_key", sa.String(64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("ack_reference", sa.String(128), nullable=True),
        sa.Column("acknowledged_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referrals.id"], name="fk_referral_deliveries_referral_id_referrals"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_referral_deliveries"),
        sa.UniqueConstraint("idempotency_key", name="uq_referral_deliveries_idempotency_key"),
    )
    op.create_index(
        "ix_referral_deliveries_next_attempt_at",
        "referral_deliveries",
        ["next_attempt_at"],
        unique=False,
    )
    op.create_index(
        "ix_referral_deliveries_referral_id", "referral_deliveries", ["referral_id"], unique=False
    )
    op.create_index(
        "ix_referral_deliveries_status", "referral_deliveries", ["status"], unique=False
    )
    op.create_table(
        "referral_delivery_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["referral_deliveries.id"],
            name="fk_referral_delivery_attempts_delivery_id_referral_deliveries",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_referral_delivery_attempts"),
    )
    op.create_index(
        "ix_referral_delivery_attempts_delivery_id",
        "referral_delivery_attempts",
        ["delivery_id"],
        unique=False,
    )
    op.create_table(
        "referral_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(64), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("given_at", UTCDateTime(), nullable=False),
        sa.Column("effective_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referrals.id"], name="fk_referral_notices_referral_id_referrals"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_referral_notices"),
    )
    op.create_index("ix_referral_notices_platform", "referral_notices", ["platform"], unique=False)
    op.create_table(
        "referral_notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("read_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referrals.id"],
            name="fk_referral_notifications_referral_id_referrals",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_referral_notifications_user_id_users"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_referral_notifications"),
        sa.UniqueConstraint(
            "user_id",
            "referral_id",
            "kind",
            name="uq_referral_notifications_user_id_referral_id_kind",
        ),
    )
    op.create_index(
        "ix_referral_notifications_user_id", "referral_notifications", ["user_id"], unique=False
    )


def downgrade() -> None:
    op.drop_table("referral_notifications")
    op.drop_table("referral_notices")
    op.drop_table("referral_delivery_attempts")
    op.drop_table("referral_deliveries")
    op.drop_table("referral_items")
    op.drop_table("referrals")
