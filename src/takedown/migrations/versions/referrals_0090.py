"""referrals: who last edited a draft or pending order (four-eyes rule)

Revision ID: referrals_0090

A supervisor who edits an order awaiting approval cannot approve it too:
``referrals.last_edited_by`` remembers who edited it last (``referrals.editing``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "referrals_0090"
down_revision = "referrals_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("referrals") as batch:
        batch.add_column(sa.Column("last_edited_by", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_referrals_last_edited_by_users", "users", ["last_edited_by"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("referrals") as batch:
        batch.drop_constraint("fk_referrals_last_edited_by_users", type_="foreignkey")
        batch.drop_column("last_edited_by")
