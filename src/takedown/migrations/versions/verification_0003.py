"""verification: checks on demand (requests), and the host's Retry-After kept on the schedule

``check_requests`` / ``check_request_items`` hold an analyst's "check these now" and the
items it covers; progress is read from the checks recorded since. On ``check_schedules``,
``requested_at`` keeps an item due until a check that started after the request is
recorded, and ``not_before`` keeps the host's Retry-After, which a request never overrides.

Revision ID: verification_0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from takedown.db import UTCDateTime

revision = "verification_0003"
down_revision = "verification_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("check_schedules") as batch:
        batch.add_column(sa.Column("requested_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("not_before", UTCDateTime(), nullable=True))
    op.create_table(
        "check_requests",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
            autoincrement=True,
        ),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=True),
        sa.Column("requested_at", UTCDateTime(), nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("scope_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(300), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name="fk_check_requests_agency_id_agencies"
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"], ["users.id"], name="fk_check_requests_requested_by_users"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_check_requests"),
    )
    op.create_index("ix_check_requests_agency_id", "check_requests", ["agency_id"], unique=False)
    op.create_table(
        "check_request_items",
        sa.Column(
            "request_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["check_requests.id"],
            name="fk_check_request_items_request_id_check_requests",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name="fk_check_request_items_item_id_items"
        ),
        sa.PrimaryKeyConstraint("request_id", "item_id", name="pk_check_request_items"),
    )


def downgrade() -> None:
    op.drop_table("check_request_items")
    op.drop_index("ix_check_requests_agency_id", table_name="check_requests")
    op.drop_table("check_requests")
    with op.batch_alter_table("check_schedules") as batch:
        batch.drop_column("not_before")
        batch.drop_column("requested_at")
