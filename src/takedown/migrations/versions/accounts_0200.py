"""accounts: agencies can be deactivated

Revision ID: accounts_0200
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "accounts_0200"
down_revision = "accounts_0100"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agencies") as batch:
        batch.add_column(
            sa.Column("is_active", sa.Boolean(), nullable=False, server_default=sa.true())
        )


def downgrade() -> None:
    with op.batch_alter_table("agencies") as batch:
        batch.drop_column("is_active")
