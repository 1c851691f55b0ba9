"""matching: the analyst's review of a match result (when, and a note)

Revision ID: matching_0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from takedown.db import UTCDateTime

revision = "matching_0003"
down_revision = "matching_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("match_results") as batch:
        batch.add_column(sa.Column("reviewed_at", UTCDateTime(), nullable=True))
        batch.add_column(
            sa.Column("review_note", sa.String(500), nullable=False, server_default="")
        )
    op.create_index("ix_match_results_agency_id_status", "match_results", ["agency_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_match_results_agency_id_status", table_name="match_results")
    with op.batch_alter_table("match_results") as batch:
        batch.drop_column("review_note")
        batch.drop_column("reviewed_at")
