"""matching: item foreign keys on signals and match results

Revision ID: matching_0002
"""

from __future__ import annotations

from alembic import op

revision = "matching_0002"
down_revision = "matching_0001"
branch_labels = None
depends_on = "items_0001"


def upgrade() -> None:
    with op.batch_alter_table("match_signals") as batch:
        batch.create_foreign_key("fk_match_signals_item_id_items", "items", ["item_id"], ["id"])
    with op.batch_alter_table("match_results") as batch:
        batch.create_foreign_key("fk_match_results_item_id_items", "items", ["item_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("match_results") as batch:
        batch.drop_constraint("fk_match_results_item_id_items", type_="foreignkey")
    with op.batch_alter_table("match_signals") as batch:
        batch.drop_constraint("fk_match_signals_item_id_items", type_="foreignkey")
