"""matching: derived signals (a PDQ of an image's inner region) name the signal they came from

Revision ID: matching_0100
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "matching_0100"
down_revision = "matching_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("match_signals") as batch:
        batch.add_column(sa.Column("parent_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_match_signals_parent_id_match_signals", "match_signals", ["parent_id"], ["id"]
        )
    op.create_index("ix_match_signals_parent_id", "match_signals", ["parent_id"])


def downgrade() -> None:
    op.drop_index("ix_match_signals_parent_id", table_name="match_signals")
    with op.batch_alter_table("match_signals") as batch:
        batch.drop_constraint("fk_match_signals_parent_id_match_signals", type_="foreignkey")
        batch.drop_column("parent_id")
