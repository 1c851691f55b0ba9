"""referrals: a delivery is claimed before any channel is called; each attempt is a row
from its start

Revision ID: referrals_0100

``referral_deliveries.claimed_by/claimed_until``: the sender that holds the delivery
(compare-and-set; ``kit.leases``), so Send now, the ticker and job threads never send a
batch twice (#12.1). ``referral_delivery_attempts.finished_at``: an attempt is recorded
when it starts, with its own time; one still unfinished was interrupted (#19.6).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from takedown.db import UTCDateTime

revision = "referrals_0100"
down_revision = "referrals_0090"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("referral_deliveries") as batch:
        batch.add_column(sa.Column("claimed_by", sa.String(128), nullable=True))
        batch.add_column(sa.Column("claimed_until", UTCDateTime(), nullable=True))
    with op.batch_alter_table("referral_delivery_attempts") as batch:
        batch.add_column(sa.Column("finished_at", UTCDateTime(), nullable=True))
    # Attempts recorded before this revision were recorded when they finished.
    op.execute("UPDATE referral_delivery_attempts SET finished_at = at")


def downgrade() -> None:
    with op.batch_alter_table("referral_delivery_attempts") as batch:
        batch.drop_column("finished_at")
    with op.batch_alter_table("referral_deliveries") as batch:
        batch.drop_column("claimed_until")
        batch.drop_column("claimed_by")
