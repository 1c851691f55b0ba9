"""accounts: the instance operator flag (issue 19 point 3)

Agency administrators act within their own agency; creating agencies and the first users of
another agency is for an instance operator, an explicit flag set from the command line.

Revision ID: accounts_0100
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "accounts_0100"
down_revision = "accounts_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("is_operator", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    # The administrator made on first start set the instance up: keep their powers.
    op.execute(
        "UPDATE users SET is_operator = true"
        " WHERE email = 'admin@takedown.local' AND role = 'admin'"
    )


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("is_operator")
