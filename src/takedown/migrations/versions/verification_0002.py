"""verification: the platform's stated removal time beside the observed one

``removed_at`` stays the instant the statistics use; ``removed_observed_at``
keeps the first ``removed`` check of the confirmed run (what ``removed_at``
held until now, so it is copied), and ``platform_removed_at`` the time the
platform itself stated (Annex II, or its status API).

Revision ID: verification_0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from takedown.db import UTCDateTime

revision = "verification_0002"
down_revision = "verification_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("check_schedules") as batch:
        batch.add_column(sa.Column("removed_observed_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("platform_removed_at", UTCDateTime(), nullable=True))
    op.execute("UPDATE check_schedules SET removed_observed_at = removed_at")


def downgrade() -> None:
    op.execute(
        "UPDATE check_schedules SET removed_at = removed_observed_at "
        "WHERE removed_observed_at IS NOT NULL"
    )
    with op.batch_alter_table("check_schedules") as batch:
        batch.drop_column("platform_removed_at")
        batch.drop_column("removed_observed_at")
