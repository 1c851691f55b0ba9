"""matching: image inner signals made before the region left logo bars out are marked stale

An image's ``pdq_inner`` was the PDQ of the image cut 10 % from every side; it is now cut
17 % from the top and the bottom (``hashers.windows.IMAGE_REGION``), and query windows look
for that region. Signals made the old way have no pixels to be remade from here: they are
marked ``stale`` (still searched), counted by ``takedown bank list``, and renewed in place
when their media is added again.

Revision ID: matching_0200
"""

from __future__ import annotations

from alembic import op

revision = "matching_0200"
down_revision = "matching_0100"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "UPDATE match_signals SET variant = 'stale' "
        "WHERE signal_type = 'pdq_inner' AND variant = 'inner'"
    )


def downgrade() -> None:
    op.execute(
        "UPDATE match_signals SET variant = 'inner' "
        "WHERE signal_type = 'pdq_inner' AND variant = 'stale'"
    )
