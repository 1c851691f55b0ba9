"""X/Twitter, Facebook, Instagram, TikTok.

Handles are case-insensitive on all four and are lower-cased in keys; post,
photo, video and share ids keep their case.
"""

from __future__ import annotations

import re

from takedown.platforms.canon.common import ID_RE, Redirect, make, number, page
from takedown.platforms.canon.parse import Parsed, norm_path, parse_query
from takedown.platforms.canon.types import ItemIdentity, ItemKind

A, P, C, PG = ItemKind.ACCOUNT, ItemKind.POST, ItemKind.CHANNEL, ItemKind.PAGE

# --- X ---------------------------------------------------------------------

X_HANDLE_RE = re.compile(r"[A-Za-z0-9_]{1,15}")
X_DROP = frozenset({"s", "t", "ref_src", "ref_url", "src", "lang", "cxt"})
X_RESERVED = frozenset(
    {
        "home", "explore", "search", "i", "settings", "notifications", "messages", "hashtag",
        "intent", "share", "login", "logout", "signup", "tos", "privacy", "compose", "account",
        "download", "jobs", "about", "who_to_follow", "search-advanced", "lists", "topics",
        "communities", "bookmarks", "premium_sign_up", "verified-choose", "rules",
    }
)  # fmt: skip
X_ACCOUNT_TABS = frozenset(
    {
        "with_replies", "media", "likes", "followers", "following", "verified_followers",
        "followers_you_follow", "lists", "highlights", "articles", "photo", "header_photo",
        "superfollows", "affiliates", "creator-subscriptions",
    }
)  # fmt: skip


def _x_post(status: str, handle: str | None) -> ItemIdentity:
    if handle is None:
        return make("x", P, f"status/{status}", f"https://x.com/i/status/{status}")
    return make(
        "x",
        P,
        f"status/{status}",
        f"https://x.com/{handle}/status/{status}",
        parent_kind=A,
        parent_key=f"account/{handle}",
    )


def _x_account(handle: str) -> ItemIdentity:
    return make("x", A, f"account/{handle}", f"https://x.com/{handle}")


def x(u: Parsed) -> ItemIdentity | Redirect:
    if u.bare == "t.co":
        segs = u.segs()
        if segs and ID_RE.fullmatch(segs[0]):
            url = f"https://t.co/{segs[0]}"
            return make("x", PG, f"link/{segs[0]}", url)
        return page("x", u, "t.co", X_DROP)
    if u.fragment.startswith("!/"):  # legacy twitter.com/#!/handle/status/1
        path, _, q = u.fragment[1:].partition("?")
        u.path = norm_path(path)
        u.query = parse_query(q) if q else []
    segs = u.segs()
    if not segs:
        return page("x", u, "x.com", X_DROP)
    first = segs[0].lower()
    n = len(segs)
    if first == "i":
        if n >= 4 and segs[1] == "web" and segs[2] == "status" and (sid := number(segs[3])):
            return _x_post(sid, None)
        if n >= 3 and segs[1] == "status" and (sid := number(segs[2])):
            return _x_post(sid, None)
        if n >= 3 and segs[1] == "user" and (uid := number(segs[2])):
            return make("x", A, f"account/id:{uid}", f"https://x.com/i/user/{uid}")
        return page("x", u, "x.com", X_DROP)
    if first == "intent" and n >= 2 and segs[1] in ("user", "follow"):
        name = u.q("screen_name")
        if name and X_HANDLE_RE.fullmatch(name):
            return _x_account(name.lower())
        uid = number(u.q("user_id") or "")
        if uid:
            return make("x", A, f"account/id:{uid}", f"https://x.com/i/user/{uid}")
    if first in X_RESERVED or not X_HANDLE_RE.fullmatch(first):
        return page("x", u, "x.com", X_DROP)
    if n == 1 or (n == 2 and segs[1].lower() in X_ACCOUNT_TABS):
        return _x_account(first)
    if n >= 3 and segs[1].lower() in ("status", "statuses") and (sid := number(segs[2])):
        return _x_post(sid, first)
    return page("x", u, "x.com", X_DROP)


# --- Facebook --------------------------------------------------------------

FB_NAME_RE = re.compile(r"[A-Za-z0-9.\-_]{1,80}")
FB_RESERVED = frozenset(
    {
        "watch", "groups", "events", "pages", "photo.php", "photo", "photos", "profile.php",
        "permalink.php", "story.php", "share", "sharer", "sharer.php", "reel", "reels", "stories",
        "marketplace", "gaming", "login", "login.php", "help", "hashtag", "search", "notes",
        "media", "video.php", "l.php", "dialog", "plugins", "business", "policies", "privacy",
        "settings", "messages", "friends", "people", "public", "bookmarks", "home.php",
        "fundraisers", "live", "ads", "legal", "terms", "about", "recover", "checkpoint",
        "notifications", "saved", "memories", "feeds", "index.php", "r.php", "signup", "video",
    }
)  # fmt: skip
FB_ACCOUNT_TABS = frozenset(
    {
        "about", "photos", "videos", "friends", "followers", "following", "reels", "mentions",
        "community", "events", "live_videos", "reviews", "timeline", "photos_by", "groups",
        "posts", "likes", "music", "map", "sports", "books", "tv",
    }
)  # fmt: skip
FB_HOST = "www.facebook.com"


def _fb_account(name: str) -> ItemIdentity:
    num = number(name)
    if num:
        return make("facebook", A, f"account/id:{num}", f"https://{FB_HOST}/profile.php?id={num}")
    return make("facebook", A, f"account/{name}", f"https://{FB_HOST}/{name}")


def _fb_account_key(name: str) -> str:
    num = number(name)
    return f"account/id:{num}" if num else f"account/{name.lower()}"


def _fb_item(key: str, url: str, parent: str | None, parent_kind: ItemKind = A) -> ItemIdentity:
    return make(
        "facebook",
        P,
        key,
        url,
        parent_kind=parent_kind if parent else None,
        parent_key=parent,
    )


def _fb_video(vid: str, owner: str | None) -> ItemIdentity:
    if owner is None:
        return _fb_item(f"video/{vid}", f"https://{FB_HOST}/watch?v={vid}", None)
    url = f"https://{FB_HOST}/{owner}/videos/{vid}"
    return _fb_item(f"video/{vid}", url, _fb_account_key(owner))


def _fb_photo(fbid: str, owner: str | None) -> ItemIdentity:
    if owner is None:
        return _fb_item(f"photo/{fbid}", f"https://{FB_HOST}/photo?fbid={fbid}", None)
    url = f"https://{FB_HOST}/{owner}/photos/{fbid}"
    return _fb_item(f"photo/{fbid}", url, _fb_account_key(owner))


def facebook(u: Parsed) -> ItemIdentity | Redirect:
    bare = u.bare
    segs = u.segs()
    if bare == "fb.watch":
        if segs and ID_RE.fullmatch(segs[0]):
            return make("facebook", PG, f"fbwatch/{segs[0]}", f"https://fb.watch/{segs[0]}")
        return page("facebook", u, "fb.watch")
    if bare in ("l.facebook.com", "lm.facebook.com") or (segs and segs[0] == "l.php"):
        target = u.q("u")
        if target:
            from urllib.parse import unquote

            return Redirect(unquote(target))
        return page("facebook", u, FB_HOST if segs and segs[0] == "l.php" else bare)
    if not segs:
        return page("facebook", u, FB_HOST)
    first = segs[0].lower()
    n = len(segs)
    if first == "profile.php":
        num = number(u.q("id") or "")
        return _fb_account(num) if num else page("facebook", u, FB_HOST)
    if first in ("permalink.php", "story.php"):
        story, owner = u.q("story_fbid"), number(u.q("id") or "")
        if story and ID_RE.fullmatch(story):
            parent = f"account/id:{owner}" if owner else None
            url = f"https://{FB_HOST}/permalink.php?story_fbid={story}"
            if owner:
                url += f"&id={owner}"
            return _fb_item(f"post/{story}", url, parent)
        return page("facebook", u, FB_HOST)
    if first in ("photo.php", "photo"):
        fbid = number(u.q("fbid") or "")
        return _fb_photo(fbid, None) if fbid else page("facebook", u, FB_HOST)
    if first in ("watch", "video.php"):
        vid = number(u.q("v") or "")
        return _fb_video(vid, None) if vid else page("facebook", u, FB_HOST)
    if first in ("reel", "reels") and n >= 2 and (vid := number(segs[1])):
        return _fb_video(vid, None)
    if first == "groups" and n >= 2 and FB_NAME_RE.fullmatch(segs[1]):
        gid = segs[1].lower()
        gkey = f"group/{gid}"
        if n >= 4 and segs[2] in ("posts", "permalink") and ID_RE.fullmatch(segs[3]):
            return _fb_item(
                f"post/{segs[3]}", f"https://{FB_HOST}/groups/{gid}/posts/{segs[3]}", gkey, C
            )
        if n == 2 or segs[2] in ("about", "members", "media", "files", "events"):
            return make("facebook", C, gkey, f"https://{FB_HOST}/groups/{gid}")
        return page("facebook", u, FB_HOST)
    if first == "share" and n >= 2:
        code = segs[-1]
        if ID_RE.fullmatch(code) and (n == 2 or segs[1] in ("p", "v", "r", "g")):
            sub = "/".join(segs[1:])
            return make("facebook", PG, f"share/{sub}", f"https://{FB_HOST}/share/{sub}")
        return page("facebook", u, FB_HOST)
    if first in ("pages", "people") and n >= 3 and (num := number(segs[-1])):
        return _fb_account(num)
    if first == "events" and n >= 2 and (num := number(segs[1])):
        return make("facebook", PG, f"event/{num}", f"https://{FB_HOST}/events/{num}")
    if first == "stories" and n >= 3 and (num := number(segs[2])):
        owner = number(segs[1])
        return _fb_item(
            f"story/{num}",
            f"https://{FB_HOST}/stories/{segs[1]}/{num}",
            f"account/id:{owner}" if owner else None,
        )
    if first in FB_RESERVED or not FB_NAME_RE.fullmatch(first):
        return page("facebook", u, FB_HOST)
    name = first
    if n == 1:
        return _fb_account(name)
    owner_key = _fb_account_key(name)
    sub = segs[1].lower()
    if sub == "posts" and n >= 3 and ID_RE.fullmatch(segs[2]):
        return _fb_item(f"post/{segs[2]}", f"https://{FB_HOST}/{name}/posts/{segs[2]}", owner_key)
    if sub == "videos" and n >= 3 and (vid := number(segs[-1])):
        return _fb_video(vid, name)
    if sub == "photos" and n >= 3 and (fbid := number(segs[-1]) or number(u.q("fbid") or "")):
        return _fb_photo(fbid, name)
    if n == 2 and sub in FB_ACCOUNT_TABS:
        return _fb_account(name)
    return page("facebook", u, FB_HOST)


# --- Instagram -------------------------------------------------------------

IG_USER_RE = re.compile(r"[A-Za-z0-9._]{1,30}")
IG_CODE_RE = re.compile(r"[A-Za-z0-9_\-]{5,64}")
IG_RESERVED = frozenset(
    {
        "p", "reel", "reels", "tv", "stories", "explore", "accounts", "direct", "about", "legal",
        "developer", "web", "challenge", "emails", "session", "privacy", "terms", "static",
        "graphql", "api", "ar", "create", "directory", "oauth", "topics", "s",
    }
)  # fmt: skip
IG_POST_SEGS = frozenset({"p", "reel", "reels", "tv"})
IG_HOST = "www.instagram.com"


def _ig_post(code: str, user: str | None) -> ItemIdentity:
    return make(
        "instagram",
        P,
        f"post/{code}",
        f"https://{IG_HOST}/{user}/p/{code}" if user else f"https://{IG_HOST}/p/{code}",
        parent_kind=A if user else None,
        parent_key=f"account/{user}" if user else None,
    )


def instagram(u: Parsed) -> ItemIdentity | Redirect:
    segs = u.segs()
    n = len(segs)
    if not segs:
        return page("instagram", u, IG_HOST)
    first = segs[0].lower()
    if first in IG_POST_SEGS and n >= 2 and IG_CODE_RE.fullmatch(segs[1]):
        return _ig_post(segs[1], None)
    if first == "stories" and n >= 3 and IG_USER_RE.fullmatch(segs[1]):
        user = segs[1].lower()
        if user == "highlights" and (num := number(segs[2])):
            return make(
                "instagram", PG, f"highlight/{num}", f"https://{IG_HOST}/stories/highlights/{num}"
            )
        if num := number(segs[2]):
            return make(
                "instagram",
                P,
                f"story/{num}",
                f"https://{IG_HOST}/stories/{user}/{num}",
                parent_kind=A,
                parent_key=f"account/{user}",
            )
    if first in IG_RESERVED or not IG_USER_RE.fullmatch(first):
        return page("instagram", u, IG_HOST)
    if n >= 3 and segs[1].lower() in IG_POST_SEGS and IG_CODE_RE.fullmatch(segs[2]):
        return _ig_post(segs[2], first)
    if n == 1 or (n == 2 and segs[1].lower() in ("tagged", "reels", "guides", "channel", "feed")):
        return make("instagram", A, f"account/{first}", f"https://{IG_HOST}/{first}")
    return page("instagram", u, IG_HOST)


# --- TikTok ----------------------------------------------------------------

TT_USER_RE = re.compile(r"@[A-Za-z0-9._]{1,32}")
TT_HOST = "www.tiktok.com"
TT_DROP = frozenset(
    {
        "is_from_webapp", "sender_device", "lang", "_r", "_t", "u_code", "preview_pb",
        "language", "sec_uid", "share_app_id", "share_item_id", "share_link_id", "timestamp",
        "user_id", "tt_from", "source", "checksum", "sec_user_id", "utm_campaign", "web_id",
        "is_copy_url", "enter_from", "refer", "referer", "q", "t",
    }
)  # fmt: skip


def _tt_post(vid: str, user: str | None) -> ItemIdentity:
    if user is None:
        return make("tiktok", P, f"post/{vid}", f"https://{TT_HOST}/embed/v2/{vid}")
    return make(
        "tiktok",
        P,
        f"post/{vid}",
        f"https://{TT_HOST}/{user}/video/{vid}",
        parent_kind=A,
        parent_key=f"account/{user}",
    )


def tiktok(u: Parsed) -> ItemIdentity | Redirect:
    segs = u.segs()
    n = len(segs)
    bare = u.bare
    if bare in ("vm.tiktok.com", "vt.tiktok.com"):
        if n >= 1 and ID_RE.fullmatch(segs[0]):
            short = bare.split(".", 1)[0]
            return make("tiktok", PG, f"link/{short}/{segs[0]}", f"https://{bare}/{segs[0]}")
        return page("tiktok", u, bare, TT_DROP)
    if not segs:
        return page("tiktok", u, TT_HOST, TT_DROP)
    first = segs[0]
    if first == "t" and n >= 2 and ID_RE.fullmatch(segs[1]):
        return make("tiktok", PG, f"link/t/{segs[1]}", f"https://{TT_HOST}/t/{segs[1]}")
    if TT_USER_RE.fullmatch(first):
        user = first.lower()
        if n == 1:
            return make("tiktok", A, f"account/{user}", f"https://{TT_HOST}/{user}")
        if n >= 3 and segs[1] in ("video", "photo") and (vid := number(segs[2])):
            return _tt_post(vid, user)
        return page("tiktok", u, TT_HOST, TT_DROP)
    if first == "embed":
        last = segs[-1] if n >= 2 else ""
        if vid := number(last):
            return _tt_post(vid, None)
    if first == "v" and n == 2 and (vid := number(segs[1].removesuffix(".html"))):
        return _tt_post(vid, None)
    if first == "share" and n >= 3 and segs[1] == "video" and (vid := number(segs[2])):
        return _tt_post(vid, None)
    return page("tiktok", u, TT_HOST, TT_DROP)
