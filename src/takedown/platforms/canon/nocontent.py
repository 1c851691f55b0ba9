"""Which URLs of a known platform name no content.

A platform's home page, its bare host, its login, search, help, settings, explore or
trending pages are not content: nothing there can be assessed, referred, removed or
verified as removed. Intake used to take ``https://x.com`` as a "page" item, and it ended
up in Section B of a removal order. Each family rule falls back to ``common.page`` when a
URL names no account, post, channel or file; that fallback asks ``check`` here, which
raises :class:`NoContentURL` for the navigation pages listed below and keeps every other
unknown path as a page item (a shape the rules do not model yet may still be content).

A *website's* home page stays valid: on a website (or an onion site) the site itself can
be the item. Platforms an admin registers are treated by kind: the home page of a
website or onion platform is content, that of a social network, video host, chat server,
file host, paste site... is not (``canon.dispatch.set_registry_hosts``).

Entries are lower-cased paths without the leading slash; ``"settings/*"`` matches
``/settings`` and everything under it, ``"communities"`` only that exact path. Only the
fallback consults them, after the platform's rule found no account, post or file: so a
Telegram channel called ``help`` (``t.me/help``) stays a channel.
"""

from __future__ import annotations

from takedown.platforms.canon.parse import Parsed
from takedown.platforms.canon.types import NoContentURL

NAMES = {
    "x": "X",
    "facebook": "Facebook",
    "instagram": "Instagram",
    "tiktok": "TikTok",
    "youtube": "YouTube",
    "odysee": "Odysee",
    "telegram": "Telegram",
    "whatsapp": "WhatsApp",
    "archive_org": "the Internet Archive",
    "google_drive": "Google Drive",
    "dropbox": "Dropbox",
    "mega": "Mega",
    "justpaste": "JustPaste.it",
    "pastebin": "Pastebin",
    "medium": "Medium",
}

# Pages every platform has under one of these names (only asked after the rule found no
# account, post or file at the path).
COMMON: frozenset[str] = frozenset(
    {
        "login/*", "logout/*", "signin/*", "signup/*", "register/*", "auth/*", "oauth/*",
        "search/*", "help/*", "support/*", "faq/*", "settings/*", "explore/*", "trending/*",
        "trends/*", "home", "about/*", "privacy/*", "terms/*", "tos/*", "legal/*",
        "policies/*", "policy/*", "jobs/*", "careers/*", "download/*", "downloads/*",
        "notifications/*", "messages/*", "hashtag/*", "tag/*", "tags/*", "topics/*",
        "contact/*", "accounts/*", "account/*", "ads/*", "business/*", "developers/*",
        "developer/*", "press/*", "premium/*", "pricing/*", "plans/*", "features/*",
        "security/*", "safety/*", "transparency/*", "upload/*", "apps/*", "feed",
    }
)  # fmt: skip

PLATFORM: dict[str, frozenset[str]] = {
    "x": frozenset(
        {
            "i/flow/*",
            "i/trends/*",
            "i/explore/*",
            "i/bookmarks",
            "i/notifications",
            "i/connect_people",
            "i/keyboard_shortcuts",
            "i/display",
            "i/verified-choose",
            "i/premium_sign_up",
            "i/jf/*",
            "i/lists/create",
            "i",
            "i/web",
            "compose/*",
            "intent/*",
            "share/*",
            "search-advanced",
            "who_to_follow/*",
            "bookmarks",
            "lists",
            "communities",
            "premium_sign_up",
            "verified-choose",
            "rules/*",
        }
    ),
    "youtube": frozenset(
        {
            "results",
            "feed/*",
            "gaming",
            "music",
            "kids",
            "howyoutubeworks/*",
            "creators/*",
            "t/*",
            "reporthistory",
            "paid_memberships",
            "supported_browsers",
            "new",
            "playlist",
            "channel",
            "c",
            "user",
            "shorts",
            "watch",
            "live",
            "embed",
            "redirect",
            "attribution_link",
            "yt/*",
            "education/*",
            "post",
            "s/*",
            "subscription_center",
        }
    ),
    "facebook": frozenset(
        {
            "watch",
            "video.php",
            "marketplace",
            "gaming/*",
            "reel",
            "reels",
            "groups",
            "groups/feed",
            "groups/discover",
            "events",
            "events/discover",
            "pages",
            "pages/create",
            "friends/*",
            "bookmarks",
            "saved/*",
            "memories/*",
            "feeds/*",
            "recover/*",
            "checkpoint/*",
            "login.php",
            "home.php",
            "index.php",
            "r.php",
            "dialog/*",
            "plugins/*",
            "sharer/*",
            "sharer.php",
            "share",
            "fundraisers",
            "live",
            "profile.php",
            "photo.php",
            "photo",
            "permalink.php",
            "story.php",
            "people",
            "stories",
            "l.php",
        }
    ),
    "instagram": frozenset(
        {
            "direct/*",
            "challenge/*",
            "emails/*",
            "session/*",
            "directory/*",
            "web/*",
            "create/*",
            "p",
            "reel",
            "reels",
            "tv",
            "stories",
            "s",
        }
    ),
    "tiktok": frozenset(
        {
            "foryou",
            "following",
            "friends",
            "discover/*",
            "live",
            "setting/*",
            "creators/*",
            "embed",
            "share/*",
            "t",
            "v",
        }
    ),
    "telegram": frozenset(
        {"s", "c", "joinchat", "blog/*", "web", "dl/*", "api", "apps", "privacy", "tos"}
    ),
    "whatsapp": frozenset({"send", "channel", "channels", "coronavirus/*", "invite"}),
    "archive_org": frozenset(
        {"web/*", "details", "donate/*", "create", "projects/*", "embed", "download"}
    ),
    "google_drive": frozenset(
        {
            "drive/*",
            "file",
            "open",
            "uc",
            "document",
            "spreadsheets",
            "presentation",
            "forms",
            "drawings",
            "folderview",
        }
    ),
    "dropbox": frozenset({"home/*", "s", "sh", "scl/*", "referrals/*", "install/*"}),
    "mega": frozenset(
        {"pro", "start", "fm/*", "sync", "mobile", "desktop", "file", "folder", "embed"}
    ),
    "justpaste": frozenset({"new", "dashboard/*"}),
    "pastebin": frozenset({"archive", "languages", "tools", "doc_api", "u", "raw", "dl"}),
    "medium": frozenset(
        {
            "topic/*",
            "membership",
            "creators",
            "jobs-at-medium/*",
            "new-story",
            "me/*",
            "m/*",
            "mobile-app",
            "followers",
            "following",
            "sitemap/*",
            "verified/*",
            "partner-program",
            "p",
            "_/*",
        }
    ),
    "odysee": frozenset({"$/*"}),
}

# Sub-domains of a platform that serve its own help, news or business pages; their pages
# reach us only through the registry (``help.x.com`` is claimed by X's ``x.com``).
SERVICE_LABELS: frozenset[str] = frozenset(
    {
        "help", "support", "about", "blog", "developer", "developers", "business", "ads",
        "status", "careers", "jobs", "privacy", "legal", "transparency", "investor",
        "investors", "newsroom", "press", "accounts", "login", "auth", "creators", "safety",
        "community", "communities", "faq", "brand", "design", "engineering", "policy",
    }
)  # fmt: skip


def _listed(path: str, entries: frozenset[str]) -> bool:
    if path in entries:
        return True
    # "a/b/c" is listed by "a/*", "a/b/*" or "a/b/c/*".
    parts = path.split("/")
    return any("/".join(parts[:i]) + "/*" in entries for i in range(1, len(parts) + 1))


def name_of(platform: str) -> str:
    return NAMES.get(platform, platform)


def check(platform: str, u: Parsed, url: str) -> None:
    """Raise ``NoContentURL`` when ``u`` (on ``platform``) is a page that names no content."""
    segs = u.segs()
    path = "/".join(segs).lower()
    name = name_of(platform)
    labels = u.bare.split(".")
    if platform in NAMES and len(labels) > 2 and labels[0] in SERVICE_LABELS:
        raise NoContentURL(
            f"{url} is on {u.bare}, {name}'s own {labels[0]} site: it names no content",
            platform,
        )
    if not segs:
        raise NoContentURL(
            f"{url} is {name}'s home page: it names no content (an account, post, channel "
            "or file); report the content's own URL",
            platform,
        )
    if _listed(path, COMMON) or _listed(path, PLATFORM.get(platform, frozenset())):
        first = path.split("/", 1)[0]
        raise NoContentURL(
            f"{url} names no content: it is {name}'s {first!r} page, not an account, post, "
            "channel or file; report the content's own URL",
            platform,
        )
