"""What referrals need to know about a platform, read from the platform registry.

One adapter, so the rest of the capability does not depend on the shape of
the platform records: the addressee, its legal representative and contact
point, its state of main establishment, its delivery channel and endpoint.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from sqlalchemy.orm import Session

from takedown.platforms import authorities
from takedown.platforms import repository as platforms_repository
from takedown.platforms.authorities import HostAuthority


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


def lookup(session: Session, slug: str) -> PlatformInfo:
    row = platforms_repository.by_slug(session, slug)
    if row is None:
        return PlatformInfo(slug, slug, "", "", "", "portal", None, None)
    contact = row.tco_contact_point or ""
    return PlatformInfo(
        slug=slug,
        name=row.name or slug,
        country=(row.country or "").upper(),
        legal_representative=row.legal_representative or "",
        contact_point=contact,
        delivery_channel=row.delivery_channel or "portal",
        api_endpoint=row.api_endpoint or None,
        email=contact if "@" in contact else None,
    )


def host_state_authority(session: Session, country: str) -> HostAuthority | None:
    """The competent authority of the platform's host state (Annex I, Section D), from the
    registry of TCO authorities (never an agency of that country: the platform's own
    liaison agency was named there), with a warning when it is unknown or unconfirmed."""
    if not country:
        return None
    return authorities.for_state(session, country)


def signing_key(secret_key: str, platform: str) -> bytes:
    """The per-platform HMAC key for API deliveries (given to the platform out of band)."""
    return hmac.new(
        secret_key.encode("utf-8"), f"referrals-api:{platform}".encode(), hashlib.sha256
    ).digest()
