"""monitoring: watched sources, Rocket.Chat servers (sealed credentials), crawls,
observations (what crawls saw) and proposals (the review queue)

Revision ID: monitoring_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from takedown.db import UTCDateTime

revision = "monitoring_0001"
down_revision = None
branch_labels = ("monitoring",)
depends_on = ["accounts_0001", "items_0001", "operations_0001"]


def upgrade() -> None:
    op.create_table(
        "monitoring_servers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("base_url", sa.String(length=500), nullable=False),
        sa.Column("user_id_sealed", sa.Text(), nullable=False),
        sa.Column("token_sealed", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_monitoring_servers_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_monitoring_servers_created_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitoring_servers")),
        sa.UniqueConstraint(
            "agency_id", "base_url", name=op.f("uq_monitoring_servers_agency_id_base_url")
        ),
    )
    with op.batch_alter_table("monitoring_servers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_monitoring_servers_agency_id"), ["agency_id"], unique=False
        )

    op.create_table(
        "monitoring_sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("url", sa.String(length=1024), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("label", sa.String(length=300), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("server_id", sa.Integer(), nullable=True),
        sa.Column("operation_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("origin", sa.String(length=32), nullable=False),
        sa.Column("base_interval_s", sa.Integer(), nullable=False),
        sa.Column("interval_s", sa.Integer(), nullable=False),
        sa.Column("next_due_at", UTCDateTime(), nullable=False),
        sa.Column("lease_until", UTCDateTime(), nullable=True),
        sa.Column("cursor", sa.String(length=255), nullable=True),
        sa.Column("checkpoint", sa.JSON(), nullable=True),
        sa.Column("etag", sa.String(length=255), nullable=True),
        sa.Column("last_modified", sa.String(length=64), nullable=True),
        sa.Column("last_crawl_at", UTCDateTime(), nullable=True),
        sa.Column("last_result", sa.String(length=16), nullable=True),
        sa.Column("last_reason", sa.Text(), nullable=False),
        sa.Column("last_new", sa.Integer(), nullable=False),
        sa.Column("last_post_at", UTCDateTime(), nullable=True),
        sa.Column("crawls", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("new_total", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("removed_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_monitoring_sources_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_monitoring_sources_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_monitoring_sources_item_id_items")
        ),
        sa.ForeignKeyConstraint(
            ["operation_id"],
            ["operations.id"],
            name=op.f("fk_monitoring_sources_operation_id_operations"),
        ),
        sa.ForeignKeyConstraint(
            ["server_id"],
            ["monitoring_servers.id"],
            name=op.f("fk_monitoring_sources_server_id_monitoring_servers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitoring_sources")),
        sa.UniqueConstraint("agency_id", "url", name=op.f("uq_monitoring_sources_agency_id_url")),
    )
    with op.batch_alter_table("monitoring_sources", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_monitoring_sources_agency_id"), ["agency_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_monitoring_sources_host"), ["host"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_monitoring_sources_item_id"), ["item_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_monitoring_sources_kind"), ["kind"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_monitoring_sources_operation_id"), ["operation_id"], unique=False
        )
        batch_op.create_index(
            "ix_monitoring_sources_status_next_due_at", ["status", "next_due_at"], unique=False
        )

    op.create_table(
        "monitoring_crawls",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("new_items", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["monitoring_sources.id"],
            name=op.f("fk_monitoring_crawls_source_id_monitoring_sources"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitoring_crawls")),
    )
    with op.batch_alter_table("monitoring_crawls", schema=None) as batch_op:
        batch_op.create_index(
            "ix_monitoring_crawls_source_id_started_at", ["source_id", "started_at"], unique=False
        )

    op.create_table(
        "monitoring_observations",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("parent_item_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("matches", sa.Integer(), nullable=False),
        sa.Column("posted_at", UTCDateTime(), nullable=True),
        sa.Column("seen_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agencies.id"],
            name=op.f("fk_monitoring_observations_agency_id_agencies"),
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_monitoring_observations_item_id_items")
        ),
        sa.ForeignKeyConstraint(
            ["parent_item_id"],
            ["items.id"],
            name=op.f("fk_monitoring_observations_parent_item_id_items"),
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["monitoring_sources.id"],
            name=op.f("fk_monitoring_observations_source_id_monitoring_sources"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitoring_observations")),
    )
    with op.batch_alter_table("monitoring_observations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_monitoring_observations_agency_id_seen_at", ["agency_id", "seen_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_monitoring_observations_item_id"), ["item_id"], unique=False
        )
        batch_op.create_index(
            "ix_monitoring_observations_source_id_item_id", ["source_id", "item_id"], unique=False
        )

    op.create_table(
        "monitoring_proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("identity", sa.String(length=1024), nullable=False),
        sa.Column("url", sa.String(length=1024), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("found_in_source_id", sa.Integer(), nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("seen", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_monitoring_proposals_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["users.id"], name=op.f("fk_monitoring_proposals_decided_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["found_in_source_id"],
            ["monitoring_sources.id"],
            name=op.f("fk_monitoring_proposals_found_in_source_id_monitoring_sources"),
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["monitoring_sources.id"],
            name=op.f("fk_monitoring_proposals_source_id_monitoring_sources"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitoring_proposals")),
        sa.UniqueConstraint(
            "agency_id", "identity", name=op.f("uq_monitoring_proposals_agency_id_identity")
        ),
    )
    with op.batch_alter_table("monitoring_proposals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_monitoring_proposals_agency_id"), ["agency_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_monitoring_proposals_status"), ["status"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("monitoring_proposals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_monitoring_proposals_status"))
        batch_op.drop_index(batch_op.f("ix_monitoring_proposals_agency_id"))

    op.drop_table("monitoring_proposals")
    with op.batch_alter_table("monitoring_observations", schema=None) as batch_op:
        batch_op.drop_index("ix_monitoring_observations_source_id_item_id")
        batch_op.drop_index(batch_op.f("ix_monitoring_observations_item_id"))
        batch_op.drop_index("ix_monitoring_observations_agency_id_seen_at")

    op.drop_table("monitoring_observations")
    with op.batch_alter_table("monitoring_crawls", schema=None) as batch_op:
        batch_op.drop_index("ix_monitoring_crawls_source_id_started_at")

    op.drop_table("monitoring_crawls")
    with op.batch_alter_table("monitoring_sources", schema=None) as batch_op:
        batch_op.drop_index("ix_monitoring_sources_status_next_due_at")
        batch_op.drop_index(batch_op.f("ix_monitoring_sources_operation_id"))
        batch_op.drop_index(batch_op.f("ix_monitoring_sources_kind"))
        batch_op.drop_index(batch_op.f("ix_monitoring_sources_item_id"))
        batch_op.drop_index(batch_op.f("ix_monitoring_sources_host"))
        batch_op.drop_index(batch_op.f("ix_monitoring_sources_agency_id"))

    op.drop_table("monitoring_sources")
    with op.batch_alter_table("monitoring_servers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_monitoring_servers_agency_id"))

    op.drop_table("monitoring_servers")
