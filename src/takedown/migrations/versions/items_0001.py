"""items: items, import jobs, sightings, shares, assessments, holds

Revision ID: items_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from takedown.db import UTCDateTime

revision = "items_0001"
down_revision = None
branch_labels = ("items",)
depends_on = ["accounts_0001"]


def _fk(table: str, col: str, ref: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([col], [f"{ref}.id"], name=f"fk_{table}_{col}_{ref}")


def upgrade() -> None:
    op.create_table(
        "items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("identity", sa.String(1024), nullable=False),
        sa.Column("platform", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("key", sa.String(1024), nullable=False),
        sa.Column("canonical_url", sa.Text(), nullable=False),
        sa.Column("fetch_url", sa.Text(), nullable=False),
        sa.Column("parent_identity", sa.String(1024), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("language", sa.String(16), nullable=True),
        sa.Column("first_seen_at", UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("status_changed_at", UTCDateTime(), nullable=False),
        sa.Column("first_referred_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_items"),
        sa.UniqueConstraint("identity", name="uq_items_identity"),
    )
    op.create_index("ix_items_platform", "items", ["platform"])
    op.create_index("ix_items_kind", "items", ["kind"])
    op.create_index("ix_items_parent_identity", "items", ["parent_identity"])
    op.create_index("ix_items_status", "items", ["status"])
    op.create_index("ix_items_first_seen_at", "items", ["first_seen_at"])

    op.create_table(
        "import_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("format", sa.String(8), nullable=False),
        sa.Column("encoding", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=False),
        sa.Column("rows_ok", sa.Integer(), nullable=False),
        sa.Column("rows_bad", sa.Integer(), nullable=False),
        sa.Column("items_created", sa.Integer(), nullable=False),
        sa.Column("duplicates_folded", sa.Integer(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("warnings", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        _fk("import_jobs", "agency_id", "agencies"),
        _fk("import_jobs", "user_id", "users"),
        sa.PrimaryKeyConstraint("id", name="pk_import_jobs"),
    )
    op.create_index("ix_import_jobs_agency_id", "import_jobs", ["agency_id"])

    op.create_table(
        "sightings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.Column("reported_url", sa.Text(), nullable=False),
        sa.Column("reported_at", UTCDateTime(), nullable=False),
        sa.Column("reported_by", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(255), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        _fk("sightings", "item_id", "items"),
        _fk("sightings", "agency_id", "agencies"),
        _fk("sightings", "import_id", "import_jobs"),
        _fk("sightings", "reported_by", "users"),
        sa.PrimaryKeyConstraint("id", name="pk_sightings"),
    )
    op.create_index("ix_sightings_item_id", "sightings", ["item_id"])
    op.create_index("ix_sightings_import_id", "sightings", ["import_id"])
    op.create_index("ix_sightings_agency_id_item_id", "sightings", ["agency_id", "item_id"])

    op.create_table(
        "item_shares",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("shared_by_agency_id", sa.Integer(), nullable=False),
        sa.Column("shared_by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        _fk("item_shares", "item_id", "items"),
        _fk("item_shares", "agency_id", "agencies"),
        _fk("item_shares", "shared_by_agency_id", "agencies"),
        _fk("item_shares", "shared_by_user_id", "users"),
        sa.PrimaryKeyConstraint("id", name="pk_item_shares"),
        sa.UniqueConstraint("item_id", "agency_id", name="uq_item_shares_item_id_agency_id"),
    )
    op.create_index("ix_item_shares_agency_id", "item_shares", ["agency_id"])

    op.create_table(
        "assessments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("analyst_id", sa.Integer(), nullable=True),
        sa.Column("verdict", sa.String(32), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("group", sa.String(200), nullable=True),
        sa.Column("outlet", sa.String(200), nullable=True),
        sa.Column("language", sa.String(16), nullable=True),
        sa.Column("language_suggested", sa.String(16), nullable=True),
        sa.Column("language_scores", sa.JSON(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        _fk("assessments", "item_id", "items"),
        _fk("assessments", "agency_id", "agencies"),
        _fk("assessments", "analyst_id", "users"),
        sa.PrimaryKeyConstraint("id", name="pk_assessments"),
    )
    op.create_index("ix_assessments_item_id", "assessments", ["item_id"])

    op.create_table(
        "holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("contact_point", sa.String(320), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("released_at", UTCDateTime(), nullable=True),
        sa.Column("released_by", sa.Integer(), nullable=True),
        _fk("holds", "item_id", "items"),
        _fk("holds", "agency_id", "agencies"),
        _fk("holds", "created_by", "users"),
        _fk("holds", "released_by", "users"),
        sa.PrimaryKeyConstraint("id", name="pk_holds"),
    )
    op.create_index("ix_holds_item_id", "holds", ["item_id"])


def downgrade() -> None:
    op.drop_table("holds")
    op.drop_table("assessments")
    op.drop_table("item_shares")
    op.drop_table("sightings")
    op.drop_table("import_jobs")
    op.drop_table("items")
