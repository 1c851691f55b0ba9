"""evidence: captures, their files, retention holds

Revision ID: evidence_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from takedown.db import UTCDateTime

revision = "evidence_0001"
down_revision = None
branch_labels = ("evidence",)
depends_on = ["accounts_0001", "items_0001"]


def upgrade() -> None:
    op.create_table(
        "evidence_captures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("url_reported", sa.Text(), nullable=False),
        sa.Column("url_canonical", sa.Text(), nullable=False),
        sa.Column("final_url", sa.Text(), nullable=True),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("content_type", sa.String(200), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("with_screenshot", sa.Boolean(), nullable=False),
        sa.Column("tool", sa.String(64), nullable=False),
        sa.Column("tool_version", sa.String(64), nullable=False),
        sa.Column("access_context", sa.JSON(), nullable=False),
        sa.Column("response_headers", sa.JSON(), nullable=False),
        sa.Column("tls_certificate", sa.JSON(), nullable=True),
        sa.Column("storage_backend", sa.String(32), nullable=False),
        sa.Column("manifest_sha256", sa.String(64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("captured_at", UTCDateTime(), nullable=True),
        sa.Column("purged_at", UTCDateTime(), nullable=True),
        sa.Column("purge_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name="fk_evidence_captures_agency_id_agencies"
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name="fk_evidence_captures_item_id_items"
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"], ["users.id"], name="fk_evidence_captures_requested_by_users"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_evidence_captures"),
    )
    op.create_index("ix_evidence_captures_item_id", "evidence_captures", ["item_id"])
    op.create_index("ix_evidence_captures_agency_id", "evidence_captures", ["agency_id"])
    op.create_index("ix_evidence_captures_status", "evidence_captures", ["status"])

    op.create_table(
        "evidence_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("capture_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("media_type", sa.String(200), nullable=False),
        sa.Column("source_url", sa.Text(), nullable=True),
        sa.Column("derived_from_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("deleted_at", UTCDateTime(), nullable=True),
        sa.Column("hooks_done_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["capture_id"],
            ["evidence_captures.id"],
            name="fk_evidence_files_capture_id_evidence_captures",
        ),
        sa.ForeignKeyConstraint(
            ["derived_from_id"],
            ["evidence_files.id"],
            name="fk_evidence_files_derived_from_id_evidence_files",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name="fk_evidence_files_created_by_users"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_evidence_files"),
    )
    op.create_index("ix_evidence_files_capture_id", "evidence_files", ["capture_id"])
    op.create_index("ix_evidence_files_sha256", "evidence_files", ["sha256"])

    op.create_table(
        "evidence_holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("reference", sa.String(200), nullable=False),
        sa.Column("placed_by", sa.Integer(), nullable=True),
        sa.Column("placed_at", UTCDateTime(), nullable=False),
        sa.Column("until", UTCDateTime(), nullable=True),
        sa.Column("released_at", UTCDateTime(), nullable=True),
        sa.Column("released_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name="fk_evidence_holds_agency_id_agencies"
        ),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name="fk_evidence_holds_item_id_items"),
        sa.ForeignKeyConstraint(
            ["placed_by"], ["users.id"], name="fk_evidence_holds_placed_by_users"
        ),
        sa.ForeignKeyConstraint(
            ["released_by"], ["users.id"], name="fk_evidence_holds_released_by_users"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_evidence_holds"),
    )
    op.create_index("ix_evidence_holds_item_id", "evidence_holds", ["item_id"])
    op.create_index("ix_evidence_holds_agency_id", "evidence_holds", ["agency_id"])


def downgrade() -> None:
    op.drop_table("evidence_holds")
    op.drop_table("evidence_files")
    op.drop_table("evidence_captures")
