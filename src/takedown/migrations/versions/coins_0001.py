"""coins: addresses and sightings, watch lists and entries, service labels, alerts,
traces, listing classifications

Revision ID: coins_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from takedown.db import UTCDateTime

revision = "coins_0001"
down_revision = None
branch_labels = ("coins",)
depends_on = ["accounts_0001", "items_0001", "evidence_0001"]


def upgrade() -> None:
    op.create_table(
        "coin_addresses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("address", sa.String(length=128), nullable=False),
        sa.Column("network", sa.String(length=16), nullable=False),
        sa.Column("script", sa.String(length=24), nullable=False),
        sa.Column("first_seen_at", UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(), nullable=False),
        sa.Column("sightings_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_coin_addresses_agency_id_agencies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coin_addresses")),
        sa.UniqueConstraint(
            "agency_id", "kind", "address", name=op.f("uq_coin_addresses_agency_id_kind_address")
        ),
    )
    op.create_index(op.f("ix_coin_addresses_address"), "coin_addresses", ["address"], unique=False)
    op.create_index(
        op.f("ix_coin_addresses_agency_id"), "coin_addresses", ["agency_id"], unique=False
    )
    op.create_table(
        "coin_labels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("address", sa.String(length=128), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_coin_labels_agency_id_agencies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coin_labels")),
    )
    op.create_index("ix_coin_labels_kind_address", "coin_labels", ["kind", "address"], unique=False)
    op.create_table(
        "coin_listing_classes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("source_key", sa.String(length=300), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("highlights", sa.JSON(), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("classified_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_coin_listing_classes_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_coin_listing_classes_item_id_items")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coin_listing_classes")),
        sa.UniqueConstraint(
            "agency_id", "source_key", name=op.f("uq_coin_listing_classes_agency_id_source_key")
        ),
    )
    op.create_index(
        op.f("ix_coin_listing_classes_agency_id"),
        "coin_listing_classes",
        ["agency_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_coin_listing_classes_item_id"), "coin_listing_classes", ["item_id"], unique=False
    )
    op.create_table(
        "coin_traces",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("address", sa.String(length=128), nullable=False),
        sa.Column("hops", sa.Integer(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("graph", sa.JSON(), nullable=False),
        sa.Column("traced_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_coin_traces_agency_id_agencies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coin_traces")),
    )
    op.create_index(
        "ix_coin_traces_agency_id_address", "coin_traces", ["agency_id", "address"], unique=False
    )
    op.create_table(
        "coin_watch_lists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("tlp", sa.String(length=16), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_coin_watch_lists_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_coin_watch_lists_created_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coin_watch_lists")),
        sa.UniqueConstraint("agency_id", "name", name=op.f("uq_coin_watch_lists_agency_id_name")),
    )
    op.create_index(
        op.f("ix_coin_watch_lists_agency_id"), "coin_watch_lists", ["agency_id"], unique=False
    )
    op.create_table(
        "coin_sightings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("address_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("source_key", sa.String(length=300), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("capture_id", sa.Integer(), nullable=True),
        sa.Column("manifest_sha256", sa.String(length=64), nullable=True),
        sa.Column("post_url", sa.Text(), nullable=True),
        sa.Column("attribution", sa.JSON(), nullable=False),
        sa.Column("form", sa.String(length=16), nullable=False),
        sa.Column("asset", sa.String(length=16), nullable=True),
        sa.Column("context", sa.Text(), nullable=False),
        sa.Column("seen_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["address_id"],
            ["coin_addresses.id"],
            name=op.f("fk_coin_sightings_address_id_coin_addresses"),
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_coin_sightings_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["capture_id"],
            ["evidence_captures.id"],
            name=op.f("fk_coin_sightings_capture_id_evidence_captures"),
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_coin_sightings_item_id_items")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coin_sightings")),
        sa.UniqueConstraint(
            "address_id", "source_key", name=op.f("uq_coin_sightings_address_id_source_key")
        ),
    )
    op.create_index(
        op.f("ix_coin_sightings_address_id"), "coin_sightings", ["address_id"], unique=False
    )
    op.create_index(
        op.f("ix_coin_sightings_agency_id"), "coin_sightings", ["agency_id"], unique=False
    )
    op.create_index(op.f("ix_coin_sightings_item_id"), "coin_sightings", ["item_id"], unique=False)
    op.create_table(
        "coin_watch_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("watch_list_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("address", sa.String(length=128), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("added_by", sa.Integer(), nullable=True),
        sa.Column("added_at", UTCDateTime(), nullable=False),
        sa.Column("last_traced_at", UTCDateTime(), nullable=True),
        sa.Column("balance", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("received", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("tx_count", sa.Integer(), nullable=True),
        sa.Column("first_activity", UTCDateTime(), nullable=True),
        sa.Column("last_activity", UTCDateTime(), nullable=True),
        sa.Column("seen_txids", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["added_by"], ["users.id"], name=op.f("fk_coin_watch_entries_added_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_coin_watch_entries_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["watch_list_id"],
            ["coin_watch_lists.id"],
            name=op.f("fk_coin_watch_entries_watch_list_id_coin_watch_lists"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coin_watch_entries")),
        sa.UniqueConstraint(
            "watch_list_id",
            "kind",
            "address",
            name=op.f("uq_coin_watch_entries_watch_list_id_kind_address"),
        ),
    )
    op.create_index(
        op.f("ix_coin_watch_entries_address"), "coin_watch_entries", ["address"], unique=False
    )
    op.create_index(
        op.f("ix_coin_watch_entries_agency_id"), "coin_watch_entries", ["agency_id"], unique=False
    )
    op.create_index(
        op.f("ix_coin_watch_entries_watch_list_id"),
        "coin_watch_entries",
        ["watch_list_id"],
        unique=False,
    )
    op.create_table(
        "coin_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("address", sa.String(length=128), nullable=False),
        sa.Column("rule", sa.String(length=48), nullable=False),
        sa.Column("red_flag", sa.Text(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_coin_alerts_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["coin_watch_entries.id"],
            name=op.f("fk_coin_alerts_entry_id_coin_watch_entries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coin_alerts")),
        sa.UniqueConstraint(
            "agency_id", "dedupe_key", name=op.f("uq_coin_alerts_agency_id_dedupe_key")
        ),
    )
    op.create_index(op.f("ix_coin_alerts_agency_id"), "coin_alerts", ["agency_id"], unique=False)
    op.create_index(op.f("ix_coin_alerts_entry_id"), "coin_alerts", ["entry_id"], unique=False)


def downgrade() -> None:
    op.drop_table("coin_alerts")
    op.drop_table("coin_watch_entries")
    op.drop_table("coin_sightings")
    op.drop_table("coin_watch_lists")
    op.drop_table("coin_traces")
    op.drop_table("coin_listing_classes")
    op.drop_table("coin_labels")
    op.drop_table("coin_addresses")
