"""Shared page helpers: the request context, HTML shells, media URLs and media bytes."""

from __future__ import annotations

import datetime as dt
import functools
import html
import json
import re
from dataclasses import dataclass
from typing import Any

from takedown.sim.media import make_video, poster_jpeg
from takedown.sim.scenario import Platform
from takedown.sim.server import Request, Response
from takedown.sim.world import Item, Media, World


def esc(s: str) -> str:
    """Escape text and double-quoted attributes; apostrophes stay, as on the real pages."""
    return html.escape(s, quote=False).replace('"', "&quot;")


_TOKEN = re.compile(r"^([0-9a-f]{16})(?:\.[a-z0-9]+)?$")


@dataclass(slots=True)
class Ctx:
    world: World
    platform: Platform
    req: Request
    now: int

    def visible(self, it: Item | None) -> bool:
        return it is not None and it.appeared_at <= self.now

    def removed(self, it: Item) -> bool:
        return it.removed_at is not None and it.removed_at <= self.now

    def item(self, item_id: str) -> Item:
        return self.world.items[item_id]

    def live_children(self, it: Item) -> list[Item]:
        return [c for c in (self.world.items[x] for x in it.children) if c.alive(self.now)]


def html_page(
    title: str,
    body: str,
    *,
    status: int = 200,
    lang: str = "en",
    meta: dict[str, str] | None = None,
    headers: list[tuple[str, str]] | None = None,
    extra_head: str = "",
) -> Response:
    metas = "".join(
        f"<meta {'name' if k.startswith('twitter:') or k == 'description' else 'property'}="
        f'"{esc(k)}" content="{esc(v)}">'
        for k, v in (meta or {}).items()
    )
    doc = (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title>{metas}{extra_head}</head><body>{body}</body></html>"
    )
    return Response(status, doc.encode("utf-8"), headers=headers or [])


def json_response(
    data: Any, status: int = 200, headers: list[tuple[str, str]] | None = None
) -> Response:
    body = json.dumps(data, ensure_ascii=False).encode("utf-8")
    return Response(status, body, "application/json", headers=headers or [])


def text_response(
    text: str, status: int = 200, ctype: str = "text/plain; charset=utf-8"
) -> Response:
    return Response(status, text.encode("utf-8"), ctype)


def redirect(location: str, status: int = 302) -> Response:
    return Response(status, b"", "text/html; charset=utf-8", [("Location", location)])


def ts_iso(t: int) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).isoformat()


def ts_human(t: int) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%b %d, %Y %H:%M")


def media_host(p: Platform, idx: int = 0) -> str:
    if p.media_hosts:
        return p.media_hosts[min(idx, len(p.media_hosts) - 1)]
    return p.hosts[0]


def media_url(ctx: Ctx, it: Item, m: Media) -> str:
    """The URL at which the platform serves ``m`` as attached to ``it``."""
    p = ctx.platform
    ext = m.filename.rsplit(".", 1)[-1]
    t = p.type
    if t == "microblog":
        if m.kind == "video":
            return f"https://{media_host(p, 1)}/ext_tw_video/{m.token}.mp4"
        return f"https://{media_host(p)}/media/{m.token}.jpg"
    if t == "video":
        return f"https://{p.hosts[0]}/videoplayback?v={it.key}"
    if t == "telegram":
        return f"https://{media_host(p)}/file/{m.token}.{ext}"
    if t == "rocketchat":
        return f"https://{it.host}/file-upload/{m.token}/{m.filename}"
    if t == "filehost":
        return f"https://{it.host}/d/{it.key}/{m.filename}"
    if t == "website":
        return f"https://{it.host}/wp-content/uploads/{m.token}.{ext}"
    scheme = "http" if it.host.endswith(".onion") else "https"
    return f"{scheme}://{it.host}/attachments/{m.token}.{ext}"


def thumb_url(ctx: Ctx, it: Item) -> str:
    """An image URL representing the item (og:image)."""
    if not it.media:
        return f"https://{media_host(ctx.platform)}/static/default.jpg"
    m = ctx.world.media[it.media[0]]
    if ctx.platform.type == "video":
        return f"https://{media_host(ctx.platform)}/vi/{it.key}/hqdefault.jpg"
    if m.kind == "video":
        return f"https://{media_host(ctx.platform)}/media/{m.token}.jpg"
    return media_url(ctx, it, m)


@functools.lru_cache(maxsize=512)
def _media_bytes(kind: str, seed: int, variant: str | None, thumb: bool) -> bytes:
    if kind == "video" and not thumb:
        return make_video(seed, variant=variant)
    if kind == "text":
        return f"document {seed}\n".encode()
    return poster_jpeg(seed, variant)


def media_response(m: Media, want: str) -> Response:
    """Serve media bytes; ``want`` is the requested extension (jpg gives a video's poster)."""
    thumb = m.kind == "video" and want in ("jpg", "jpeg")
    data = _media_bytes(m.kind, m.seed, m.variant, thumb)
    ctype = {"image": "image/jpeg", "video": "video/mp4", "text": "text/plain"}[m.kind]
    if thumb:
        ctype = "image/jpeg"
    return Response(200, data, ctype, [("Cache-Control", "max-age=604800")])


def token_media(world: World, path: str) -> tuple[Media, str] | None:
    """Find a media token in a path segment (``/media/<token>.jpg``, ``/file-upload/<token>/x``)."""
    for seg in path.split("/"):
        mt = _TOKEN.match(seg)
        if mt:
            m = world.by_token.get(mt.group(1))
            if m is not None:
                ext = seg.rsplit(".", 1)[-1] if "." in seg else m.filename.rsplit(".", 1)[-1]
                return m, ext
    return None


def not_found_plain() -> Response:
    return html_page("404 Not Found", "<h1>Not Found</h1>", status=404)


def geo_blocked(ctx: Ctx, what: str) -> Response:
    body = (
        f'<div class="withheld"><h1>{esc(what)} withheld</h1><p>{esc(what)} has been withheld in '
        "your country in response to a legal demand.</p></div>"
    )
    return html_page(f"Unavailable for legal reasons - {ctx.platform.name}", body, status=451)
