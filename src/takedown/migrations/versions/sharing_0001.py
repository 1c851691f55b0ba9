"""sharing: partners, collections and grants, shares, TAXII objects and statuses, the inbox,
investigations, deconfliction requests, follow-ups and answers

Revision ID: sharing_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from takedown.db import UTCDateTime

revision = "sharing_0001"
down_revision = None
branch_labels = ("sharing",)
depends_on = ["accounts_0001", "items_0001"]


def upgrade() -> None:
    op.create_table(
        "sharing_deconfliction_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("asker_agency_id", sa.Integer(), nullable=False),
        sa.Column("asked_at", UTCDateTime(), nullable=False),
        sa.Column("elements", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["asker_agency_id"],
            ["agencies.id"],
            name=op.f("fk_sharing_deconfliction_answers_asker_agency_id_agencies"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_deconfliction_answers")),
    )
    op.create_index(
        op.f("ix_sharing_deconfliction_answers_asker_agency_id"),
        "sharing_deconfliction_answers",
        ["asker_agency_id"],
        unique=False,
    )
    op.create_table(
        "sharing_investigations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("element", sa.String(length=1100), nullable=False),
        sa.Column("label", sa.String(length=300), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agencies.id"],
            name=op.f("fk_sharing_investigations_agency_id_agencies"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_sharing_investigations_created_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_investigations")),
        sa.UniqueConstraint(
            "agency_id", "element", name=op.f("uq_sharing_investigations_agency_id_element")
        ),
    )
    op.create_index(
        op.f("ix_sharing_investigations_agency_id"),
        "sharing_investigations",
        ["agency_id"],
        unique=False,
    )
    op.create_table(
        "sharing_partners",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_agency_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("api_root", sa.String(length=1000), nullable=False),
        sa.Column("collection", sa.String(length=200), nullable=False),
        sa.Column("auth_kind", sa.String(length=16), nullable=False),
        sa.Column("username", sa.String(length=200), nullable=False),
        sa.Column("secret_sealed", sa.Text(), nullable=False),
        sa.Column("deconfliction_url", sa.String(length=1000), nullable=False),
        sa.Column("trust", sa.String(length=16), nullable=False),
        sa.Column("tlp_ceiling", sa.String(length=16), nullable=False),
        sa.Column("contact_point", sa.String(length=320), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("pull_every_seconds", sa.Integer(), nullable=False),
        sa.Column("next_pull_at", UTCDateTime(), nullable=True),
        sa.Column("checkpoint", UTCDateTime(), nullable=True),
        sa.Column("last_pull_at", UTCDateTime(), nullable=True),
        sa.Column("last_pull_summary", sa.JSON(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_sharing_partners_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_sharing_partners_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["owner_agency_id"],
            ["agencies.id"],
            name=op.f("fk_sharing_partners_owner_agency_id_agencies"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_partners")),
        sa.UniqueConstraint(
            "owner_agency_id", "name", name=op.f("uq_sharing_partners_owner_agency_id_name")
        ),
    )
    op.create_index(
        op.f("ix_sharing_partners_agency_id"), "sharing_partners", ["agency_id"], unique=False
    )
    op.create_index(
        op.f("ix_sharing_partners_next_pull_at"), "sharing_partners", ["next_pull_at"], unique=False
    )
    op.create_index(
        op.f("ix_sharing_partners_owner_agency_id"),
        "sharing_partners",
        ["owner_agency_id"],
        unique=False,
    )
    op.create_table(
        "sharing_collections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("owner_agency_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("audience", sa.String(length=16), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_agency_id"],
            ["agencies.id"],
            name=op.f("fk_sharing_collections_owner_agency_id_agencies"),
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["sharing_partners.id"],
            name=op.f("fk_sharing_collections_partner_id_sharing_partners"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_collections")),
        sa.UniqueConstraint("uuid", name=op.f("uq_sharing_collections_uuid")),
    )
    op.create_index(
        op.f("ix_sharing_collections_owner_agency_id"),
        "sharing_collections",
        ["owner_agency_id"],
        unique=False,
    )
    op.create_table(
        "sharing_deconfliction_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("elements", sa.Integer(), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("bytes_sent", sa.Integer(), nullable=False),
        sa.Column("bytes_received", sa.Integer(), nullable=False),
        sa.Column("answered_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agencies.id"],
            name=op.f("fk_sharing_deconfliction_requests_agency_id_agencies"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_sharing_deconfliction_requests_created_by_users"),
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["sharing_partners.id"],
            name=op.f("fk_sharing_deconfliction_requests_partner_id_sharing_partners"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_deconfliction_requests")),
    )
    op.create_index(
        op.f("ix_sharing_deconfliction_requests_agency_id"),
        "sharing_deconfliction_requests",
        ["agency_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_sharing_deconfliction_requests_partner_id"),
        "sharing_deconfliction_requests",
        ["partner_id"],
        unique=False,
    )
    op.create_table(
        "sharing_inbox",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("owner_agency_id", sa.Integer(), nullable=False),
        sa.Column("source_agency_id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("stix_id", sa.String(length=200), nullable=False),
        sa.Column("stix_type", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("tlp", sa.String(length=16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["users.id"], name=op.f("fk_sharing_inbox_decided_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["owner_agency_id"],
            ["agencies.id"],
            name=op.f("fk_sharing_inbox_owner_agency_id_agencies"),
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["sharing_partners.id"],
            name=op.f("fk_sharing_inbox_partner_id_sharing_partners"),
        ),
        sa.ForeignKeyConstraint(
            ["source_agency_id"],
            ["agencies.id"],
            name=op.f("fk_sharing_inbox_source_agency_id_agencies"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_inbox")),
        sa.UniqueConstraint(
            "source_agency_id",
            "stix_id",
            "version",
            name=op.f("uq_sharing_inbox_source_agency_id_stix_id_version"),
        ),
    )
    op.create_index(
        "ix_sharing_inbox_owner_status",
        "sharing_inbox",
        ["owner_agency_id", "status"],
        unique=False,
    )
    op.create_index(
        op.f("ix_sharing_inbox_partner_id"), "sharing_inbox", ["partner_id"], unique=False
    )
    op.create_table(
        "sharing_followups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("element", sa.String(length=1100), nullable=False),
        sa.Column("hold_id", sa.Integer(), nullable=True),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("closed_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_sharing_followups_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["closed_by"], ["users.id"], name=op.f("fk_sharing_followups_closed_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["hold_id"], ["holds.id"], name=op.f("fk_sharing_followups_hold_id_holds")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_sharing_followups_item_id_items")
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["sharing_partners.id"],
            name=op.f("fk_sharing_followups_partner_id_sharing_partners"),
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["sharing_deconfliction_requests.id"],
            name=op.f("fk_sharing_followups_request_id_sharing_deconfliction_requests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_followups")),
    )
    op.create_index(
        op.f("ix_sharing_followups_agency_id"), "sharing_followups", ["agency_id"], unique=False
    )
    op.create_index(
        op.f("ix_sharing_followups_request_id"), "sharing_followups", ["request_id"], unique=False
    )
    op.create_table(
        "sharing_grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("collection_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("can_read", sa.Boolean(), nullable=False),
        sa.Column("can_write", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_sharing_grants_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["sharing_collections.id"],
            name=op.f("fk_sharing_grants_collection_id_sharing_collections"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_grants")),
        sa.UniqueConstraint(
            "collection_id", "agency_id", name=op.f("uq_sharing_grants_collection_id_agency_id")
        ),
    )
    op.create_index(
        op.f("ix_sharing_grants_agency_id"), "sharing_grants", ["agency_id"], unique=False
    )
    op.create_index(
        op.f("ix_sharing_grants_collection_id"), "sharing_grants", ["collection_id"], unique=False
    )
    op.create_table(
        "sharing_shares",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("collection_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("subject_type", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("tlp", sa.String(length=16), nullable=False),
        sa.Column("include_hold", sa.Boolean(), nullable=False),
        sa.Column("objects", sa.Integer(), nullable=False),
        sa.Column("withheld", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("published_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_sharing_shares_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["sharing_collections.id"],
            name=op.f("fk_sharing_shares_collection_id_sharing_collections"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_sharing_shares_created_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_shares")),
    )
    op.create_index(
        op.f("ix_sharing_shares_agency_id"), "sharing_shares", ["agency_id"], unique=False
    )
    op.create_index(
        "ix_sharing_shares_subject",
        "sharing_shares",
        ["collection_id", "subject_type", "subject_id"],
        unique=False,
    )
    op.create_table(
        "sharing_statuses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("collection_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("request_timestamp", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("total_count", sa.Integer(), nullable=False),
        sa.Column("success_count", sa.Integer(), nullable=False),
        sa.Column("failure_count", sa.Integer(), nullable=False),
        sa.Column("pending_count", sa.Integer(), nullable=False),
        sa.Column("successes", sa.JSON(), nullable=False),
        sa.Column("failures", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_sharing_statuses_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["sharing_collections.id"],
            name=op.f("fk_sharing_statuses_collection_id_sharing_collections"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_statuses")),
        sa.UniqueConstraint("uuid", name=op.f("uq_sharing_statuses_uuid")),
    )
    op.create_index(
        op.f("ix_sharing_statuses_collection_id"),
        "sharing_statuses",
        ["collection_id"],
        unique=False,
    )
    op.create_table(
        "sharing_objects",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("collection_id", sa.Integer(), nullable=False),
        sa.Column("stix_id", sa.String(length=200), nullable=False),
        sa.Column("stix_type", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("version_key", sa.String(length=32), nullable=False),
        sa.Column("is_latest", sa.Boolean(), nullable=False),
        sa.Column("is_first", sa.Boolean(), nullable=False),
        sa.Column("spec_version", sa.String(length=8), nullable=False),
        sa.Column("date_added", UTCDateTime(), nullable=False),
        sa.Column("tlp", sa.String(length=16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("share_id", sa.Integer(), nullable=True),
        sa.Column("posted_by_agency_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["sharing_collections.id"],
            name=op.f("fk_sharing_objects_collection_id_sharing_collections"),
        ),
        sa.ForeignKeyConstraint(
            ["posted_by_agency_id"],
            ["agencies.id"],
            name=op.f("fk_sharing_objects_posted_by_agency_id_agencies"),
        ),
        sa.ForeignKeyConstraint(
            ["share_id"],
            ["sharing_shares.id"],
            name=op.f("fk_sharing_objects_share_id_sharing_shares"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_objects")),
        sa.UniqueConstraint(
            "collection_id",
            "stix_id",
            "version_key",
            name=op.f("uq_sharing_objects_collection_id_stix_id_version_key"),
        ),
    )
    op.create_index(
        "ix_sharing_objects_collection_added",
        "sharing_objects",
        ["collection_id", "date_added", "id"],
        unique=False,
    )
    op.create_index(
        "ix_sharing_objects_collection_stix",
        "sharing_objects",
        ["collection_id", "stix_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_sharing_objects_share_id"), "sharing_objects", ["share_id"], unique=False
    )


def downgrade() -> None:
    op.drop_table("sharing_objects")
    op.drop_table("sharing_statuses")
    op.drop_table("sharing_shares")
    op.drop_table("sharing_grants")
    op.drop_table("sharing_followups")
    op.drop_table("sharing_inbox")
    op.drop_table("sharing_deconfliction_requests")
    op.drop_table("sharing_collections")
    op.drop_table("sharing_partners")
    op.drop_table("sharing_investigations")
    op.drop_table("sharing_deconfliction_answers")
