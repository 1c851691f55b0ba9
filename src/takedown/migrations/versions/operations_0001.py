"""operations: operations, participants, operation items, legal events (TCO Art. 8)

Revision ID: operations_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from takedown.db import UTCDateTime

revision = "operations_0001"
down_revision = None
branch_labels = ("operations",)
depends_on = ["accounts_0001", "items_0001", "referrals_0001"]


def _fk(table: str, col: str, ref: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([col], [f"{ref}.id"], name=f"fk_{table}_{col}_{ref}")


def upgrade() -> None:
    op.create_table(
        "operations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("lead_agency_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("ends_at", UTCDateTime(), nullable=True),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        _fk("operations", "lead_agency_id", "agencies"),
        _fk("operations", "created_by", "users"),
        sa.PrimaryKeyConstraint("id", name="pk_operations"),
    )
    op.create_index("ix_operations_lead_agency_id", "operations", ["lead_agency_id"])

    op.create_table(
        "operation_participants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operation_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("joined_at", UTCDateTime(), nullable=False),
        _fk("operation_participants", "operation_id", "operations"),
        _fk("operation_participants", "agency_id", "agencies"),
        sa.PrimaryKeyConstraint("id", name="pk_operation_participants"),
        sa.UniqueConstraint(
            "operation_id", "agency_id", name="uq_operation_participants_operation_id_agency_id"
        ),
    )
    op.create_index("ix_operation_participants_agency_id", "operation_participants", ["agency_id"])

    op.create_table(
        "operation_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operation_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("added_at", UTCDateTime(), nullable=False),
        sa.Column("via", sa.String(8), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.Column("added_by", sa.Integer(), nullable=True),
        _fk("operation_items", "operation_id", "operations"),
        _fk("operation_items", "item_id", "items"),
        _fk("operation_items", "agency_id", "agencies"),
        _fk("operation_items", "import_id", "import_jobs"),
        _fk("operation_items", "added_by", "users"),
        sa.PrimaryKeyConstraint("id", name="pk_operation_items"),
        sa.UniqueConstraint(
            "operation_id",
            "item_id",
            "agency_id",
            name="uq_operation_items_operation_id_item_id_agency_id",
        ),
    )
    op.create_index("ix_operation_items_item_id", "operation_items", ["item_id"])
    op.create_index(
        "ix_operation_items_operation_id_agency_id",
        "operation_items",
        ["operation_id", "agency_id"],
    )

    op.create_table(
        "legal_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("outcome", sa.String(24), nullable=False),
        sa.Column("platform", sa.String(64), nullable=True),
        sa.Column("referral_id", sa.Integer(), nullable=True),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("amount_eur", sa.Numeric(14, 2), nullable=True),
        sa.Column("reference", sa.String(128), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        _fk("legal_events", "agency_id", "agencies"),
        _fk("legal_events", "referral_id", "referrals"),
        _fk("legal_events", "created_by", "users"),
        sa.PrimaryKeyConstraint("id", name="pk_legal_events"),
    )
    op.create_index(
        "ix_legal_events_agency_id_occurred_at", "legal_events", ["agency_id", "occurred_at"]
    )


def downgrade() -> None:
    op.drop_table("legal_events")
    op.drop_table("operation_items")
    op.drop_table("operation_participants")
    op.drop_table("operations")
