"""referrals: the Art. 4(1) copy of a cross-border removal order is a delivery of its own

Revision ID: referrals_0300

``referral_deliveries.kind``: ``order`` (the batch to its platform; every row before this
revision) or ``host_copy`` (the copy of a removal order to the competent authority of the
platform's host state, TCO Art. 4(1)), claimed, retried and recorded like the order.
``referral_deliveries.recipient``: the address the copy goes to (the authority's contact
point when the copy was queued or sent again); empty for an order.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "referrals_0300"
down_revision = "referrals_0100"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("referral_deliveries") as batch:
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="order"))
        batch.add_column(sa.Column("recipient", sa.String(500), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("referral_deliveries") as batch:
        batch.drop_column("recipient")
        batch.drop_column("kind")
