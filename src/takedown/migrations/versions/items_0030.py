"""items: every physical line of an import accounted for (lines, continued, skipped)

Revision ID: items_0030
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "items_0030"
down_revision = "items_0002"
branch_labels = None
depends_on = None

COLUMNS = ("lines_total", "lines_continued", "lines_skipped")


def upgrade() -> None:
    with op.batch_alter_table("import_jobs") as batch:
        for name in COLUMNS:
            batch.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("import_jobs") as batch:
        for name in COLUMNS:
            batch.drop_column(name)
