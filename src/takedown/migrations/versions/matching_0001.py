"""matching: banks, signals, match results

Revision ID: matching_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from takedown.db import UTCDateTime

revision = "matching_0001"
down_revision = None
branch_labels = ("matching",)
depends_on = "accounts_0001"


def upgrade() -> None:
    op.create_table(
        "match_banks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("thresholds", sa.JSON(), nullable=False),
        sa.Column("tlp", sa.String(16), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name="fk_match_banks_agency_id_agencies"
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name="fk_match_banks_created_by_users"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_match_banks"),
        sa.UniqueConstraint("agency_id", "name", name="uq_match_banks_agency_id_name"),
    )
    op.create_index("ix_match_banks_agency_id", "match_banks", ["agency_id"])
    op.create_table(
        "match_signals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bank_id", sa.Integer(), nullable=False),
        sa.Column("signal_type", sa.String(32), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("variant", sa.String(32), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("tlp", sa.String(16), nullable=True),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("external_id", sa.String(200), nullable=True),
        sa.Column("added_by", sa.Integer(), nullable=True),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bank_id"], ["match_banks.id"], name="fk_match_signals_bank_id_match_banks"
        ),
        sa.ForeignKeyConstraint(["added_by"], ["users.id"], name="fk_match_signals_added_by_users"),
        sa.PrimaryKeyConstraint("id", name="pk_match_signals"),
        sa.UniqueConstraint(
            "bank_id", "signal_type", "digest", name="uq_match_signals_bank_id_signal_type_digest"
        ),
    )
    op.create_index("ix_match_signals_bank_id", "match_signals", ["bank_id"])
    op.create_index("ix_match_signals_item_id", "match_signals", ["item_id"])
    op.create_index("ix_match_signals_type_digest", "match_signals", ["signal_type", "digest"])
    op.create_index("ix_match_signals_updated_at", "match_signals", ["updated_at"])
    op.create_table(
        "match_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("agency_id", sa.Integer(), nullable=True),
        sa.Column("signal_id", sa.Integer(), nullable=False),
        sa.Column("bank_id", sa.Integer(), nullable=False),
        sa.Column("signal_type", sa.String(32), nullable=False),
        sa.Column("distance", sa.Integer(), nullable=False),
        sa.Column("variant", sa.String(64), nullable=False),
        sa.Column("media_sha256", sa.String(64), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reviewed_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name="fk_match_results_agency_id_agencies"
        ),
        sa.ForeignKeyConstraint(
            ["signal_id"], ["match_signals.id"], name="fk_match_results_signal_id_match_signals"
        ),
        sa.ForeignKeyConstraint(
            ["bank_id"], ["match_banks.id"], name="fk_match_results_bank_id_match_banks"
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by"], ["users.id"], name="fk_match_results_reviewed_by_users"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_match_results"),
    )
    op.create_index("ix_match_results_item_id", "match_results", ["item_id"])
    op.create_index("ix_match_results_agency_id", "match_results", ["agency_id"])
    op.create_index("ix_match_results_signal_id", "match_results", ["signal_id"])


def downgrade() -> None:
    op.drop_table("match_results")
    op.drop_table("match_signals")
    op.drop_table("match_banks")
