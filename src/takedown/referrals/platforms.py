"""What referrals need to know about a platform, read from the platform registry.

One adapter, so the rest of the capability does not depend on the shape of
the platform records: the addressee, its legal representative and contact
point, its state of main establishment, its delivery channel and endpoint.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from takedown.accounts.models import Agency, AgencyKind


@dataclass(frozen=True, slots=True)
class PlatformInfo:
    slug: str
    name: str
    country: str  # state of main establishment (or of the legal representative)
    legal_representative: str
    contact_point: str  # TCO contact point (an e-mail address or a URL)
    delivery_channel: str  # api | email | portal | export
    api_endpoint: str | None
    email: str | None

    @property
    def is_known(self) -> bool:
        return bool(self.country)


def _platform_row(session: Session, slug: str) -> Any | None:
    try:
        pmodels = importlib.import_module("takedown.platforms.models")
    except ImportError:  # the registry is not installed in this build
        return None
    model = getattr(pmodels, "Platform", None)
    if model is None:
        return None
    return session.scalars(select(model).where(model.slug == slug)).first()


def lookup(session: Session, slug: str) -> PlatformInfo:
    row = _platform_row(session, slug)
    if row is None:
        return PlatformInfo(slug, slug, "", "", "", "portal", None, None)
    contact = str(getattr(row, "tco_contact_point", "") or "")
    email = getattr(row, "referral_email", None) or (contact if "@" in contact else None)
    return PlatformInfo(
        slug=slug,
        name=str(getattr(row, "name", slug) or slug),
        country=str(getattr(row, "country", "") or "").upper(),
        legal_representative=str(getattr(row, "legal_representative", "") or ""),
        contact_point=contact,
        delivery_channel=str(getattr(row, "delivery_channel", "") or "portal"),
        api_endpoint=getattr(row, "api_endpoint", None) or None,
        email=email,
    )


def host_state_authority(session: Session, country: str) -> Agency | None:
    """The competent authority of the platform's host state (Annex I, Section D)."""
    if not country:
        return None
    return session.scalars(
        select(Agency)
        .where(Agency.country == country.upper())
        .order_by(
            (Agency.kind != AgencyKind.COMPETENT_AUTHORITY.value),
            Agency.id,
        )
    ).first()


def signing_key(secret_key: str, platform: str) -> bytes:
    """The per-platform HMAC key for API deliveries (given to the platform out of band)."""
    return hmac.new(
        secret_key.encode("utf-8"), f"referrals-api:{platform}".encode(), hashlib.sha256
    ).digest()
