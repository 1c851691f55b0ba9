"""The platform record: who hosts the content and how to reach them under TCO."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from takedown.db import Base
from takedown.kit.clock import utcnow


class PlatformKind(StrEnum):
    SOCIAL = "social"
    VIDEO = "video"
    MESSAGING = "messaging"
    CHAT_SERVER = "chat_server"
    ARCHIVE = "archive"
    FILE_HOST = "file_host"
    PASTE = "paste"
    BLOG = "blog"
    WEBSITE = "website"
    ONION = "onion"


class DeliveryChannel(StrEnum):
    API = "api"
    EMAIL = "email"
    PORTAL = "portal"
    EXPORT = "export"


class Platform(Base):
    __tablename__ = "platforms"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The slug is what items, referrals and identities carry (``ItemIdentity.platform``).
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    # ISO 3166-1 alpha-2 of the main establishment; None where it varies (self-hosted, websites).
    country: Mapped[str | None] = mapped_column(String(2), default=None)
    domains: Mapped[list[str]] = mapped_column(JSON, default=list)
    # TCO Art. 17: only providers without an EU establishment must designate one.
    legal_representative: Mapped[str | None] = mapped_column(String(500), default=None)
    # TCO Art. 15: the provider's contact point for removal orders (e-mail or URL).
    tco_contact_point: Mapped[str | None] = mapped_column(String(500), default=None)
    delivery_channel: Mapped[str] = mapped_column(String(16), default=DeliveryChannel.EXPORT.value)
    api_endpoint: Mapped[str | None] = mapped_column(String(500), default=None)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class TcoAuthority(Base):
    """The authority of an EU Member State competent to scrutinise removal orders sent to a
    provider established there (TCO Art. 4, Art. 12(1)(b)): named in Annex I, Section D,
    and the addressee of the copy of a cross-border order.

    Seeded from ``data/tco_authorities.json`` unconfirmed; an admin confirms the name and
    contact point against the Commission's published list.
    """

    __tablename__ = "tco_authorities"

    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(300), default=None)
    # E-mail address or URL; None: to be confirmed by the admin (never guessed).
    contact_point: Mapped[str | None] = mapped_column(String(500), default=None)
    confirmed: Mapped[bool] = mapped_column(default=False)
    notes: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
