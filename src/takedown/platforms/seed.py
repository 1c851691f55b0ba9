"""The platforms an IRU meets every day, as shipped.

Facts here are public (the company and the state of its main establishment);
anything we could not confirm is None, never a guess: no contact point is
invented. Admins fill ``tco_contact_point`` and ``legal_representative`` from
the providers' official TCO notices (``takedown platform set`` or PATCH
/api/v1/platforms/{slug}). Seeding is idempotent and never overwrites a row an
admin has edited: it only adds missing slugs.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from takedown.accounts.principal import Principal
from takedown.audit.service import record
from takedown.kit.clock import Clock, SystemClock
from takedown.platforms import repository
from takedown.platforms.models import DeliveryChannel, Platform, PlatformKind

_EU_EST = (
    "Main establishment in the EU: no legal representative needed under TCO Art. 17. "
    "Fill in the TCO contact point (Art. 15) from the provider's published notice."
)


@dataclass(frozen=True)
class SeedPlatform:
    slug: str
    name: str
    kind: PlatformKind
    country: str | None
    domains: tuple[str, ...]
    notes: str = ""
    delivery_channel: DeliveryChannel = DeliveryChannel.EMAIL
    legal_representative: str | None = None


SEED: tuple[SeedPlatform, ...] = (
    SeedPlatform(
        "x", "X (Twitter)", PlatformKind.SOCIAL, "IE",
        ("x.com", "twitter.com", "mobile.twitter.com", "t.co"),
        "Twitter International Unlimited Company, Dublin. " + _EU_EST,
    ),
    SeedPlatform(
        "facebook", "Facebook", PlatformKind.SOCIAL, "IE",
        ("facebook.com", "m.facebook.com", "fb.com", "fb.watch", "l.facebook.com"),
        "Meta Platforms Ireland Limited, Dublin. " + _EU_EST,
    ),
    SeedPlatform(
        "instagram", "Instagram", PlatformKind.SOCIAL, "IE", ("instagram.com", "instagr.am"),
        "Meta Platforms Ireland Limited, Dublin. " + _EU_EST,
    ),
    SeedPlatform(
        "youtube", "YouTube", PlatformKind.VIDEO, "IE",
        ("youtube.com", "m.youtube.com", "youtu.be", "youtube-nocookie.com", "music.youtube.com"),
        "Google Ireland Limited, Dublin. " + _EU_EST,
    ),
    SeedPlatform(
        "tiktok", "TikTok", PlatformKind.VIDEO, "IE",
        ("tiktok.com", "vm.tiktok.com", "vt.tiktok.com"),
        "TikTok Technology Limited, Dublin. " + _EU_EST,
    ),
    SeedPlatform(
        "telegram", "Telegram", PlatformKind.MESSAGING, "AE",
        ("t.me", "telegram.me", "telegram.dog"),
        "Operated from Dubai (UAE); no EU establishment, so TCO Art. 17 requires an EU legal "
        "representative. Reported to have designated one in Belgium: record its name and "
        "address here once confirmed from an official source.",
    ),
    SeedPlatform(
        "whatsapp", "WhatsApp (channels)", PlatformKind.MESSAGING, "IE",
        ("whatsapp.com", "chat.whatsapp.com", "wa.me"),
        "WhatsApp Ireland Limited, Dublin. Channels are public; groups only by invite. " + _EU_EST,
    ),
    SeedPlatform(
        "rocketchat", "Rocket.Chat (self-hosted)", PlatformKind.CHAT_SERVER, None, (),
        "Any self-hosted Rocket.Chat server, recognised by its URL shapes (/channel/, /group/, "
        "/direct/); the server's host is part of every item key. The hosting provider or server "
        "operator is the addressee, which differs per server: set per referral.",
        DeliveryChannel.EXPORT,
    ),
    SeedPlatform(
        "archive_org", "Internet Archive", PlatformKind.ARCHIVE, "US",
        ("archive.org", "web.archive.org"),
        "Internet Archive, San Francisco; no EU establishment known, so a legal representative "
        "is required under TCO Art. 17: not recorded yet.",
    ),
    SeedPlatform(
        "google_drive", "Google Drive / Docs", PlatformKind.FILE_HOST, "IE",
        ("drive.google.com", "docs.google.com", "drive.usercontent.google.com"),
        "Google Ireland Limited, Dublin. " + _EU_EST,
    ),
    SeedPlatform(
        "dropbox", "Dropbox", PlatformKind.FILE_HOST, "IE",
        ("dropbox.com", "dl.dropboxusercontent.com", "dl.dropbox.com"),
        "Dropbox International Unlimited Company, Dublin. " + _EU_EST,
    ),
    SeedPlatform(
        "mega", "MEGA", PlatformKind.FILE_HOST, "NZ", ("mega.nz", "mega.co.nz", "mega.io"),
        "Mega Limited, Auckland; no EU establishment known, legal representative not recorded. "
        "File keys travel in the URL fragment and stay in fetch_url only.",
    ),
    SeedPlatform(
        "justpaste", "JustPaste.it", PlatformKind.PASTE, "PL", ("justpaste.it", "jpst.it"),
        "Operator based in Poland (to confirm before issuing an order).",
    ),
    SeedPlatform(
        "pastebin", "Pastebin", PlatformKind.PASTE, None, ("pastebin.com",),
        "State of main establishment not confirmed: fill in before issuing an order.",
    ),
    SeedPlatform(
        "medium", "Medium", PlatformKind.BLOG, "US", ("medium.com",),
        "A Medium Corporation, San Francisco; custom domains of publications are not "
        "recognised and appear as websites.",
    ),
    SeedPlatform(
        "odysee", "Odysee", PlatformKind.VIDEO, None, ("odysee.com", "lbry.tv"),
        "Front end to the LBRY network; operator and establishment not confirmed.",
    ),
    SeedPlatform(
        "website", "Websites (generic)", PlatformKind.WEBSITE, None, (),
        "Any other web host. The addressee is the hosting provider, found per referral.",
        DeliveryChannel.EXPORT,
    ),
    SeedPlatform(
        "onion", "Tor onion services", PlatformKind.ONION, None, (),
        "v3 .onion addresses only. Usually no reachable provider: referrals are exported for "
        "the record and the items are verified through Tor.",
        DeliveryChannel.EXPORT,
    ),
)  # fmt: skip


def ensure_seeded(
    session: Session, actor: Principal | None = None, *, clock: Clock | None = None
) -> list[str]:
    """Add the shipped platforms that are missing; return their slugs. Never overwrites."""
    now = (clock or SystemClock()).now()
    existing = repository.existing_slugs(session)
    added: list[str] = []
    for sp in SEED:
        if sp.slug in existing:
            continue
        repository.add(
            session,
            Platform(
                slug=sp.slug,
                name=sp.name,
                kind=sp.kind.value,
                country=sp.country,
                domains=list(sp.domains),
                legal_representative=sp.legal_representative,
                tco_contact_point=None,
                delivery_channel=sp.delivery_channel.value,
                api_endpoint=None,
                notes=sp.notes,
                created_at=now,
                updated_at=now,
            ),
        )
        added.append(sp.slug)
    if added:
        record(session, actor, "platform.seed", "platform", "registry", {"added": added})
    return added
