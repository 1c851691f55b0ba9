"""verification: who holds a check schedule's lease

Revision ID: verification_0100

``check_schedules.lease_owner`` (``host:pid:token``, ``kit.leases``): leases are short
and renewed while a run works, and a restarted worker releases its dead predecessor's
at once instead of waiting for them to expire (#19.6).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "verification_0100"
down_revision = "verification_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("check_schedules") as batch:
        batch.add_column(sa.Column("lease_owner", sa.String(128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("check_schedules") as batch:
        batch.drop_column("lease_owner")
