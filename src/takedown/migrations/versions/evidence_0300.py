"""evidence: the job a capture belongs to, so a job delivered twice captures an item once

Revision ID: evidence_0300
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "evidence_0300"
down_revision = "evidence_0200"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("evidence_captures") as batch:
        batch.add_column(sa.Column("job_key", sa.String(200), nullable=True))
        batch.create_unique_constraint("uq_evidence_captures_job_key_item", ["job_key", "item_id"])


def downgrade() -> None:
    with op.batch_alter_table("evidence_captures") as batch:
        batch.drop_constraint("uq_evidence_captures_job_key_item", type_="unique")
        batch.drop_column("job_key")
