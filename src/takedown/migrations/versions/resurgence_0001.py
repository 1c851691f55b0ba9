"""resurgence: successor candidates, predicted successor handles, due scans

Revision ID: resurgence_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from takedown.db import UTCDateTime

revision = "resurgence_0001"
down_revision = None
branch_labels = ("resurgence",)
depends_on = ["accounts_0001", "items_0001", "referrals_0001"]


def _fk(table: str, col: str, ref: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([col], [f"{ref}.id"], name=f"fk_{table}_{col}_{ref}")


def upgrade() -> None:
    t = "resurgence_candidates"
    op.create_table(
        t,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("predecessor_id", sa.Integer(), nullable=False),
        sa.Column("successor_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("suggestion", sa.JSON(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=True),
        _fk(t, "predecessor_id", "items"),
        _fk(t, "successor_id", "items"),
        _fk(t, "decided_by", "users"),
        _fk(t, "referral_id", "referrals"),
        sa.PrimaryKeyConstraint("id", name=f"pk_{t}"),
        sa.UniqueConstraint(
            "predecessor_id", "successor_id", name=f"uq_{t}_predecessor_id_successor_id"
        ),
    )
    op.create_index(f"ix_{t}_predecessor_id", t, ["predecessor_id"], unique=False)
    op.create_index(f"ix_{t}_successor_id", t, ["successor_id"], unique=False)
    op.create_index(f"ix_{t}_status_score", t, ["status", "score"], unique=False)

    t = "resurgence_predictions"
    op.create_table(
        t,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("removed_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(64), nullable=False),
        sa.Column("handle", sa.String(200), nullable=False),
        sa.Column("pattern", sa.String(16), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("next_probe_at", UTCDateTime(), nullable=True),
        sa.Column("probed_at", UTCDateTime(), nullable=True),
        sa.Column("probes", sa.Integer(), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("detail", sa.String(500), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        _fk(t, "removed_id", "items"),
        sa.PrimaryKeyConstraint("id", name=f"pk_{t}"),
        sa.UniqueConstraint("removed_id", "handle", name=f"uq_{t}_removed_id_handle"),
    )
    op.create_index(f"ix_{t}_removed_id", t, ["removed_id"], unique=False)
    op.create_index(f"ix_{t}_next_probe_at", t, ["next_probe_at"], unique=False)

    t = "resurgence_due"
    op.create_table(
        t,
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        _fk(t, "item_id", "items"),
        sa.PrimaryKeyConstraint("item_id", name=f"pk_{t}"),
    )
    op.create_index(f"ix_{t}_due_at", t, ["due_at"], unique=False)


def downgrade() -> None:
    op.drop_table("resurgence_due")
    op.drop_table("resurgence_predictions")
    op.drop_table("resurgence_candidates")
