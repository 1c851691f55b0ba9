"""Pick the platform rule by host, follow link shims, wrap Wayback captures."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from takedown.platforms.canon import files, messaging, nocontent, social, text, video, web
from takedown.platforms.canon.common import Redirect, make, page
from takedown.platforms.canon.parse import Parsed, parse, raw_query, strip_host_prefixes
from takedown.platforms.canon.types import InvalidURL, ItemIdentity, ItemKind, NoContentURL

Rule = Callable[[Parsed], ItemIdentity | Redirect]

MAX_NESTING = 4
FB_ONION = "facebookwkhpilnemxj7asaniu7vnjjbiltxjqhye3mhbshg7kx5tfyd.onion"

# Keys are hosts with www./m./mobile. already stripped.
HOSTS: dict[str, Rule] = {
    **dict.fromkeys(
        ("x.com", "twitter.com", "t.co", "fxtwitter.com", "vxtwitter.com", "fixupx.com",
         "fixvx.com", "nitter.net"),
        social.x,
    ),
    **dict.fromkeys(
        ("facebook.com", "fb.com", "fb.watch", "l.facebook.com", "lm.facebook.com",
         "web.facebook.com", "mbasic.facebook.com", "touch.facebook.com", "free.facebook.com",
         "d.facebook.com", "business.facebook.com", FB_ONION),
        social.facebook,
    ),
    **dict.fromkeys(("instagram.com", "instagr.am"), social.instagram),
    **dict.fromkeys(("tiktok.com", "vm.tiktok.com", "vt.tiktok.com"), social.tiktok),
    **dict.fromkeys(
        ("youtube.com", "youtu.be", "youtube-nocookie.com", "music.youtube.com",
         "gaming.youtube.com"),
        video.youtube,
    ),
    **dict.fromkeys(("odysee.com", "lbry.tv"), video.odysee),
    **dict.fromkeys(("t.me", "telegram.me", "telegram.dog"), messaging.telegram),
    **dict.fromkeys(
        ("whatsapp.com", "chat.whatsapp.com", "wa.me", "api.whatsapp.com"), messaging.whatsapp
    ),
    "archive.org": files.archive_org,
    **dict.fromkeys(
        ("drive.google.com", "docs.google.com", "drive.usercontent.google.com"), files.google_drive
    ),
    **dict.fromkeys(
        ("dropbox.com", "dl.dropboxusercontent.com", "dl.dropbox.com"), files.dropbox
    ),
    **dict.fromkeys(("mega.nz", "mega.co.nz", "mega.io"), files.mega),
    **dict.fromkeys(("justpaste.it", "jpst.it"), text.justpaste),
    "pastebin.com": text.pastebin,
    "medium.com": text.medium,
}  # fmt: skip

# Sub-domain families: <name>.t.me, <user>.medium.com, <locale>.facebook.com.
_FB_LOCALE_RE = re.compile(r"[a-z]{2}-[a-z]{2}\.facebook\.com")
_GOOGLE_RE = re.compile(r"google\.(?:com|[a-z]{2}|co\.[a-z]{2}|com\.[a-z]{2})")
_WAYBACK_TS_RE = re.compile(r"([0-9]{1,14})(?:[a-z]{2}_)?")


# The slugs the rules above produce: a registry host under one of them (``help.x.com``) is
# one of that platform's own sites.
_BUILTIN = frozenset(nocontent.NAMES)


def _rule_for(bare: str) -> Rule | None:
    rule = HOSTS.get(bare)
    if rule is not None:
        return rule
    if bare.endswith(".t.me"):
        return messaging.telegram
    if bare.endswith(".medium.com"):
        return text.medium
    if _FB_LOCALE_RE.fullmatch(bare):
        return social.facebook
    return None


# Hosts the platform registry claims and no rule above knows (a platform an admin created,
# or a domain added to one): bare host -> slug. Set by ``platforms.hosts`` from the
# database; empty until then, so ``canonicalize`` stays pure and needs no database.
_registry: dict[str, str] = {}
# Registry platforms whose pages are all content, home page included (websites and onion
# sites); None: every registry platform (the map was set without kinds).
_sites: frozenset[str] | None = None


def set_registry_hosts(hosts: dict[str, str], sites: Iterable[str] | None = None) -> None:
    """Replace the registry's hosts (keys: host names; ``www.``/``m.``/``mobile.`` ignored).

    ``sites``: the slugs of website-like platforms, whose home page is content; the home,
    login, search... pages of every other registry platform name no content.
    """
    global _sites
    fresh = {strip_host_prefixes(h): slug for h, slug in hosts.items() if "." in h}
    _registry.clear()
    _registry.update(fresh)
    _sites = None if sites is None else frozenset(sites)


def registry_platform(bare: str) -> str | None:
    """The registry platform of a host: its own entry, else its closest claimed parent."""
    if not _registry:
        return None
    host = bare
    while "." in host:
        slug = _registry.get(host)
        if slug is not None:
            return slug
        host = host.split(".", 1)[1]
    return None


def builtin_platform(host: str) -> str | None:
    """The platform a built-in rule gives ``host`` (registry aside), None for any other host.

    Raises ``InvalidURL`` for a host that is not one (a bad onion address, say).
    """
    u = parse(f"https://{host}/")
    rule = _rule_for(u.bare)
    if rule is not None:
        try:
            found = rule(u)
        except NoContentURL as exc:  # the home page: the host is still the platform's
            return exc.platform
        return None if isinstance(found, Redirect) else found.platform
    if u.bare in ("web.archive.org", "wayback.archive.org"):
        return "archive_org"
    if u.bare.endswith(".onion"):
        web.check_onion(u.host)
    return None


def _wayback(u: Parsed, depth: int) -> ItemIdentity:
    parts = u.path.split("/", 3)
    if len(parts) == 4 and parts[1] == "web" and (m := _WAYBACK_TS_RE.fullmatch(parts[2])):
        ts = m.group(1)
        try:
            inner = canonicalize_at(parts[3] + raw_query(u.query), depth + 1)
        except NoContentURL as exc:
            raise NoContentURL(
                f"Wayback Machine link to a page with no content: {exc.detail}", exc.platform
            ) from None
        except InvalidURL as exc:
            prefix = "Wayback Machine link to an invalid URL: "
            detail = exc.detail if exc.detail.startswith(prefix) else prefix + exc.detail
            raise InvalidURL(detail) from None
        url = f"https://web.archive.org/web/{ts}/{inner.canonical_url}"
        return make("archive_org", ItemKind.PAGE, f"wayback/{ts}/{inner.canonical_url}", url)
    return page("archive_org", u, "web.archive.org")


def canonicalize_at(url: object, depth: int) -> ItemIdentity:
    if depth > MAX_NESTING:
        raise InvalidURL("too many URLs nested inside each other")
    u = parse(url)
    if u.scheme == "tg":
        return messaging.tg_link(u)
    bare = u.bare
    rule = _rule_for(bare)
    if rule is not None:
        found = rule(u)
        if isinstance(found, Redirect):
            return canonicalize_at(str(found), depth + 1)
        return found
    if bare in ("web.archive.org", "wayback.archive.org"):
        return _wayback(u, depth)
    if u.path == "/url" and _GOOGLE_RE.fullmatch(bare):
        target = u.q("q") or u.q("url")
        if target:
            from urllib.parse import unquote

            return canonicalize_at(unquote(target), depth + 1)
    if bare.endswith(".onion"):
        web.check_onion(u.host)
    slug = registry_platform(bare)
    if slug is not None:  # the registry's word beats guessing by path shape (Rocket.Chat)
        found = web.page_item(slug, u)
        site = slug not in _BUILTIN and (_sites is None or slug in _sites)
        if not site:  # help.x.com, or the home page of a registered social network
            nocontent.check(slug, u, found.canonical_url)
        return found
    rc = messaging.rocketchat(u)
    if rc is not None:
        return rc
    if bare.endswith(".onion"):
        return web.page_item("onion", u)
    return web.website(u)
