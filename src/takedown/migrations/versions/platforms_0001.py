"""platforms: the platform registry

Revision ID: platforms_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from takedown.db import UTCDateTime

revision = "platforms_0001"
down_revision = None
branch_labels = ("platforms",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "platforms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("country", sa.String(2), nullable=True),
        sa.Column("domains", sa.JSON(), nullable=False),
        sa.Column("legal_representative", sa.String(500), nullable=True),
        sa.Column("tco_contact_point", sa.String(500), nullable=True),
        sa.Column("delivery_channel", sa.String(16), nullable=False),
        sa.Column("api_endpoint", sa.String(500), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_platforms"),
        sa.UniqueConstraint("slug", name="uq_platforms_slug"),
    )


def downgrade() -> None:
    op.drop_table("platforms")
