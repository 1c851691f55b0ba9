"""YouTube and Odysee."""

from __future__ import annotations

import re
from urllib.parse import unquote

from takedown.platforms.canon.common import ID_RE, Redirect, make, page
from takedown.platforms.canon.parse import Parsed, lower_segment
from takedown.platforms.canon.types import ItemIdentity, ItemKind

P, C, PG = ItemKind.POST, ItemKind.CHANNEL, ItemKind.PAGE

# --- YouTube ---------------------------------------------------------------

YT_HOST = "www.youtube.com"
VID_RE = re.compile(r"[A-Za-z0-9_\-]{11}")
UC_RE = re.compile(r"UC[A-Za-z0-9_\-]{22}")
YT_NAME_RE = re.compile(r"[A-Za-z0-9_.\-]{1,100}")
YT_DROP = frozenset(
    {"pp", "ab_channel", "t", "index", "app", "start_radio", "embeds_referring_euri", "rco"}
)
YT_VIDEO_PATHS = frozenset({"shorts", "embed", "live", "v", "e", "vi", "watch"})
YT_TABS = frozenset(
    {
        "featured", "videos", "shorts", "streams", "live", "playlists", "community", "channels",
        "about", "podcasts", "releases", "store", "search", "posts", "courses",
    }
)  # fmt: skip
YT_RESERVED = frozenset(
    {
        "watch", "results", "feed", "premium", "account", "gaming", "music", "kids", "about",
        "t", "howyoutubeworks", "playlist", "channel", "c", "user", "shorts", "embed", "live",
        "v", "e", "vi", "post", "hashtag", "signin", "logout", "upload", "redirect",
        "attribution_link", "supported_browsers", "new", "paid_memberships", "reporthistory",
        "creators", "ads", "yt", "jobs", "trends", "education", "s", "sw.js", "favicon.ico",
        "source", "oembed", "get_video_info", "iframe_api", "subscription_center", "api",
    }
)  # fmt: skip


def _yt_video(vid: str) -> ItemIdentity:
    return make("youtube", P, f"video/{vid}", f"https://{YT_HOST}/watch?v={vid}")


def _yt_channel(key: str, path: str) -> ItemIdentity:
    return make("youtube", C, key, f"https://{YT_HOST}/{path}")


def youtube(u: Parsed) -> ItemIdentity | Redirect:
    segs = u.segs()
    n = len(segs)
    if u.bare == "youtu.be":
        if n >= 1 and VID_RE.fullmatch(segs[0]):
            return _yt_video(segs[0])
        return page("youtube", u, "youtu.be", YT_DROP)
    if not segs:
        return page("youtube", u, YT_HOST, YT_DROP)
    first = segs[0]
    fl = first.lower()
    if fl == "watch":
        v = u.q("v")
        if v and VID_RE.fullmatch(v):
            return _yt_video(v)
    if fl in YT_VIDEO_PATHS and n >= 2 and VID_RE.fullmatch(segs[1]):
        return _yt_video(segs[1])
    if fl == "redirect" and (target := u.q("q")):
        return Redirect(unquote(target))
    if fl == "attribution_link" and (target := u.q("u")) and target.startswith("/"):
        return Redirect("https://" + YT_HOST + unquote(target))
    if first.startswith("@") and len(first) > 1:
        if (
            n == 2
            and segs[1] in ("community", "posts")
            and (lb := u.q("lb"))
            and ID_RE.fullmatch(lb)
        ):
            return make("youtube", P, f"post/{lb}", f"https://{YT_HOST}/post/{lb}")
        handle = lower_segment(first)
        if n == 1 or segs[1].lower() in YT_TABS:
            return _yt_channel(f"channel/{handle}", handle)
        return page("youtube", u, YT_HOST, YT_DROP)
    if (
        fl == "channel"
        and n >= 2
        and UC_RE.fullmatch(segs[1])
        and (n == 2 or segs[2].lower() in YT_TABS)
    ):
        return _yt_channel(f"channel/{segs[1]}", f"channel/{segs[1]}")
    if fl in ("c", "user") and n >= 2 and (n == 2 or segs[2].lower() in YT_TABS):
        name = lower_segment(segs[1])
        return _yt_channel(f"{fl}/{name}", f"{fl}/{name}")
    if fl == "post" and n == 2 and ID_RE.fullmatch(segs[1]):
        return make("youtube", P, f"post/{segs[1]}", f"https://{YT_HOST}/post/{segs[1]}")
    if fl == "playlist" and (lst := u.q("list")) and ID_RE.fullmatch(lst):
        return make("youtube", PG, f"playlist/{lst}", f"https://{YT_HOST}/playlist?list={lst}")
    if (
        fl not in YT_RESERVED
        and YT_NAME_RE.fullmatch(first)
        and (n == 1 or (n == 2 and segs[1].lower() in YT_TABS))
    ):
        return _yt_channel(f"c/{fl}", f"c/{fl}")
    return page("youtube", u, YT_HOST, YT_DROP)


# --- Odysee (LBRY) ---------------------------------------------------------

CLAIM_ID_RE = re.compile(r"[0-9a-fA-F]{1,40}")


def _claim(seg: str) -> str | None:
    """``name:claimid`` with the name case-folded (LBRY normalises names) and hex lower-cased."""
    name, sep, cid = seg.partition(":")
    if not name or (sep and not CLAIM_ID_RE.fullmatch(cid)):
        return None
    name = lower_segment(name)
    return f"{name}:{cid.lower()}" if sep else name


def odysee(u: Parsed) -> ItemIdentity | Redirect:
    segs = u.segs()
    if segs[:2] == ["$", "embed"]:
        segs = segs[2:]
    if not segs or segs[0] == "$":
        return page("odysee", u, "odysee.com")
    channel: str | None = None
    if segs[0].startswith("@"):
        channel = _claim(segs[0])
        if channel is None or len(channel) < 2:
            return page("odysee", u, "odysee.com")
        segs = segs[1:]
        if not segs:
            return make("odysee", C, f"channel/{channel}", f"https://odysee.com/{channel}")
    if len(segs) != 1 or (claim := _claim(segs[0])) is None:
        return page("odysee", u, "odysee.com")
    if channel is None:
        return make("odysee", P, f"claim/{claim}", f"https://odysee.com/{claim}")
    return make(
        "odysee",
        P,
        f"claim/{claim}",
        f"https://odysee.com/{channel}/{claim}",
        parent_kind=C,
        parent_key=f"channel/{channel}",
    )
