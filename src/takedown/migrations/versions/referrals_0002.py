"""referrals: deliveries handed over without an acknowledgement are 'delivered'

Revision ID: referrals_0002

A delivery whose platform returned no acknowledgement reference (the portal, exports,
an API or mail server without one) used to say 'acknowledged' while its batch said
'sent'. It now says 'delivered'; 'acknowledged' needs the platform's reference, as the
batch's status does. Data only: the column is a free string.
"""

from __future__ import annotations

from alembic import op

revision = "referrals_0002"
down_revision = "referrals_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "UPDATE referral_deliveries SET status = 'delivered' "
        "WHERE status = 'acknowledged' AND ack_reference IS NULL"
    )


def downgrade() -> None:
    op.execute("UPDATE referral_deliveries SET status = 'acknowledged' WHERE status = 'delivered'")
