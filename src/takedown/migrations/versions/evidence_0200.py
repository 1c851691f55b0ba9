"""evidence: the start of each capture's text, for the item page and the queue's search

Revision ID: evidence_0200
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "evidence_0200"
down_revision = "evidence_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("evidence_captures") as batch:
        batch.add_column(sa.Column("text_excerpt", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("evidence_captures") as batch:
        batch.drop_column("text_excerpt")
