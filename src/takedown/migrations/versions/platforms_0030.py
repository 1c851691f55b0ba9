"""platforms: the registry of TCO competent authorities per Member State (Art. 4 scrutiny)

Revision ID: platforms_0030
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from takedown.db import UTCDateTime

revision = "platforms_0030"
down_revision = "platforms_0001"
branch_labels = None
depends_on = ("accounts_0001",)


def upgrade() -> None:
    op.create_table(
        "tco_authorities",
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("name", sa.String(300), nullable=True),
        sa.Column("contact_point", sa.String(500), nullable=True),
        sa.Column("confirmed", sa.Boolean(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name="fk_tco_authorities_updated_by_users"
        ),
        sa.PrimaryKeyConstraint("country", name="pk_tco_authorities"),
    )


def downgrade() -> None:
    op.drop_table("tco_authorities")
