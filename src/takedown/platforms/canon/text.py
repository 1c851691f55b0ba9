"""Paste sites and blogs: JustPaste.it, Pastebin, Medium."""

from __future__ import annotations

import re

from takedown.platforms.canon.common import Redirect, make, page
from takedown.platforms.canon.parse import Parsed
from takedown.platforms.canon.types import ItemIdentity, ItemKind

A, P, C = ItemKind.ACCOUNT, ItemKind.POST, ItemKind.CHANNEL

# --- JustPaste.it ----------------------------------------------------------

JP_ID_RE = re.compile(r"[A-Za-z0-9_\-]{2,40}")
JP_RESERVED = frozenset(
    {
        "login", "register", "logout", "about", "faq", "terms", "privacy", "contact", "redirect",
        "u", "edit", "search", "api", "account", "static", "img", "images", "css", "js", "new",
        "premium", "help", "blog", "report", "cookies", "settings", "dashboard", "stats",
    }
)  # fmt: skip
JP_VIEWS = frozenset({"pdf", "print", "txt", "docx", "amp", "preview"})


def justpaste(u: Parsed) -> ItemIdentity | Redirect:
    segs = u.segs()
    n = len(segs)
    if n == 2 and segs[0] == "u" and JP_ID_RE.fullmatch(segs[1]):
        name = segs[1].lower()
        return make("justpaste", A, f"account/{name}", f"https://justpaste.it/u/{name}")
    if (
        n in (1, 2)
        and segs[0].lower() not in JP_RESERVED
        and JP_ID_RE.fullmatch(segs[0])
        and (n == 1 or segs[1] in JP_VIEWS)
    ):
        pid = segs[0]
        return make("justpaste", P, f"paste/{pid}", f"https://justpaste.it/{pid}")
    return page("justpaste", u, "justpaste.it")


# --- Pastebin --------------------------------------------------------------

PB_ID_RE = re.compile(r"[A-Za-z0-9]{8}")
PB_VIEWS = frozenset(
    {"raw", "dl", "embed", "embed_iframe", "embed_js", "print", "clone", "report", "index"}
)
PB_USER_RE = re.compile(r"[A-Za-z0-9_\-]{1,40}")


def _pb_paste(pid: str) -> ItemIdentity:
    return make(
        "pastebin",
        P,
        f"paste/{pid}",
        f"https://pastebin.com/{pid}",
        f"https://pastebin.com/raw/{pid}",
    )


def pastebin(u: Parsed) -> ItemIdentity | Redirect:
    segs = u.segs()
    n = len(segs)
    if n == 1 and PB_ID_RE.fullmatch(segs[0]) and segs[0].lower() not in ("archive", "settings"):
        return _pb_paste(segs[0])
    if n == 2 and segs[0] in PB_VIEWS and PB_ID_RE.fullmatch(segs[1]):
        return _pb_paste(segs[1])
    if n == 2 and segs[0] == "u" and PB_USER_RE.fullmatch(segs[1]):
        name = segs[1].lower()
        return make("pastebin", A, f"account/{name}", f"https://pastebin.com/u/{name}")
    return page("pastebin", u, "pastebin.com")


# --- Medium ----------------------------------------------------------------

MD_POST_ID_RE = re.compile(r"(?:^|-)([0-9a-f]{8,12})$")
MD_NAME_RE = re.compile(r"[A-Za-z0-9_.\-]{1,60}")
MD_RESERVED = frozenset(
    {
        "m", "me", "tag", "tags", "topic", "topics", "search", "about", "membership", "plans",
        "creators", "policy", "jobs-at-medium", "p", "new-story", "signin", "mobile-app",
        "followers", "following", "business", "_", "partner-program", "sitemap", "verified",
    }
)  # fmt: skip
MD_SUBDOMAIN_RESERVED = frozenset({"help", "policy", "blog", "about", "cdn-images-1", "miro"})


def _md_post(pid: str, parent_kind: ItemKind | None, parent: str | None) -> ItemIdentity:
    return make(
        "medium",
        P,
        f"post/{pid}",
        f"https://medium.com/{parent.split('/', 1)[1]}/{pid}"
        if parent
        else f"https://medium.com/p/{pid}",
        parent_kind=parent_kind if parent else None,
        parent_key=parent,
    )


def _md_owner(owner_kind: ItemKind, owner_key: str, rest: list[str]) -> ItemIdentity | None:
    if not rest:
        name = owner_key.split("/", 1)[1]
        return make("medium", owner_kind, owner_key, f"https://medium.com/{name}")
    if len(rest) == 1 and (m := MD_POST_ID_RE.search(rest[0].lower())):
        return _md_post(m.group(1), owner_kind, owner_key)
    if owner_kind is A and len(rest) == 1 and rest[0] in ("about", "lists", "followers"):
        return _md_owner(owner_kind, owner_key, [])
    return None


def medium(u: Parsed) -> ItemIdentity | Redirect:
    segs = u.segs()
    bare = u.bare
    found: ItemIdentity | None = None
    if bare != "medium.com":  # <user>.medium.com is the same as medium.com/@<user>
        user = bare[: -len(".medium.com")]
        if user not in MD_SUBDOMAIN_RESERVED and MD_NAME_RE.fullmatch(user) and "." not in user:
            found = _md_owner(A, f"account/@{user}", segs)
        return found or page("medium", u, bare)
    if not segs:
        return page("medium", u, "medium.com")
    first = segs[0].lower()
    if first == "p" and len(segs) == 2 and (m := MD_POST_ID_RE.search(segs[1].lower())):
        return _md_post(m.group(1), None, None)
    if first.startswith("@") and MD_NAME_RE.fullmatch(first[1:]):
        found = _md_owner(A, f"account/{first}", segs[1:])
    elif first not in MD_RESERVED and MD_NAME_RE.fullmatch(first):
        found = _md_owner(C, f"publication/{first}", segs[1:])
    return found or page("medium", u, "medium.com")
