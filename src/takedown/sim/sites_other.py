"""Rocket.Chat, the file host, the paste site, generic websites and the .onion forum."""

# ruff: noqa: E501  (HTML templates read better unbroken)

from __future__ import annotations

import hashlib
import json

from takedown.sim.pages import (
    Ctx,
    esc,
    geo_blocked,
    html_page,
    json_response,
    media_response,
    media_url,
    not_found_plain,
    text_response,
    thumb_url,
    ts_human,
    ts_iso,
)
from takedown.sim.server import Response
from takedown.sim.urls import key_item
from takedown.sim.world import Item

# --- rocket.chat ---------------------------------------------------------------------------


def _rid(it: Item) -> str:
    return hashlib.sha256(it.id.encode()).hexdigest()[:17]


def _rc_ms(t: int) -> str:
    return ts_iso(t).replace("+00:00", ".000Z")


def _rc_message(ctx: Ctx, room: Item, m: Item) -> dict[str, object]:
    user = room.handle or "user"
    msg: dict[str, object] = {
        "_id": m.key,
        "rid": _rid(room),
        "msg": m.text,
        "ts": _rc_ms(m.appeared_at),
        "u": {
            "_id": hashlib.sha256(user.encode()).hexdigest()[:17],
            "username": user,
            "name": room.title,
        },
        "_updatedAt": _rc_ms(m.appeared_at),
        "urls": [{"url": u} for u in m.links],
    }
    if m.media:
        md = ctx.world.media[m.media[0]]
        path = "/" + media_url(ctx, m, md).split("/", 3)[3]
        att: dict[str, object] = {"title": md.filename, "title_link": path, "type": "file"}
        att["image_url" if md.kind == "image" else "video_url"] = path
        msg["attachments"] = [att]
        msg["file"] = {
            "_id": md.token,
            "name": md.filename,
            "type": "image/jpeg" if md.kind == "image" else "video/mp4",
        }
    return msg


def _rc_err(msg: str, etype: str, status: int = 400) -> Response:
    return json_response(
        {"success": False, "error": f"{msg} [{etype}]", "errorType": etype}, status
    )


def rocketchat(ctx: Ctx) -> Response:
    req = ctx.req
    auth = ctx.platform.auth
    path = req.path.rstrip("/")
    if path == "/api/info":
        return json_response({"version": "6.5.0", "success": True})
    if path == "/api/v1/login":
        try:
            data = json.loads(req.body or b"{}")
        except ValueError:
            data = {}
        user = data.get("user") or data.get("username")
        if user == auth.user and data.get("password") == auth.password:
            return json_response(
                {
                    "status": "success",
                    "data": {
                        "userId": auth.user_id,
                        "authToken": auth.token,
                        "me": {"_id": auth.user_id, "username": user},
                    },
                }
            )
        return json_response(
            {"status": "error", "error": "Unauthorized", "message": "Unauthorized"}, 401
        )
    if path.startswith("/api/"):
        if (
            req.headers.get("x-auth-token") != auth.token
            or req.headers.get("x-user-id") != auth.user_id
        ):
            return json_response(
                {"status": "error", "message": "You must be logged in to do this."}, 401
            )
        return _rc_api(ctx, path)
    if path.startswith("/file-upload/"):
        found = _token(ctx, path)
        return found if found is not None else not_found_plain()
    return html_page(
        "Rocket.Chat",
        "<noscript>You need to enable JavaScript to run this app.</noscript>"
        '<div id="react-root"></div>',
        meta={"og:site_name": "Rocket.Chat"},
    )


def _token(ctx: Ctx, path: str) -> Response | None:
    from takedown.sim.pages import token_media

    hit = token_media(ctx.world, path)
    return media_response(*hit) if hit else None


def _rc_api(ctx: Ctx, path: str) -> Response:
    q = ctx.req.query
    w = ctx.world
    pid = ctx.platform.id
    if path == "/api/v1/me":
        return json_response(
            {"_id": ctx.platform.auth.user_id, "username": ctx.platform.auth.user, "success": True}
        )
    if path in ("/api/v1/channels.list", "/api/v1/groups.list"):
        private = path.startswith("/api/v1/groups")
        rooms = [
            it
            for it in w.items.values()
            if it.platform == pid
            and it.kind == "channel"
            and it.alive(ctx.now)
            and (it.access == "private") == private
        ]
        key = "groups" if private else "channels"
        return json_response(
            {
                key: [
                    {
                        "_id": _rid(r),
                        "name": r.handle,
                        "t": "p" if private else "c",
                        "fname": r.title,
                        "topic": r.text,
                    }
                    for r in rooms
                ],
                "count": len(rooms),
                "offset": 0,
                "total": len(rooms),
                "success": True,
            }
        )
    if path in (
        "/api/v1/channels.history",
        "/api/v1/groups.history",
        "/api/v1/channels.info",
        "/api/v1/groups.info",
    ):
        private = path.startswith("/api/v1/groups")
        name, rid = q.get("roomName"), q.get("roomId")
        room: Item | None = None
        if name:
            room = w.find(pid, name)
        elif rid:
            room = next(
                (
                    it
                    for it in w.items.values()
                    if it.platform == pid and it.kind == "channel" and _rid(it) == rid
                ),
                None,
            )
        else:
            return _rc_err(
                'The parameter "roomId" or "roomName" is required',
                "error-roomid-param-not-provided",
            )
        if (
            room is None
            or room.kind != "channel"
            or not room.alive(ctx.now)
            or (room.access == "private") != private
        ):
            return _rc_err(
                'The required "roomId" or "roomName" param provided does not match any '
                f"{'group' if private else 'channel'}",
                "error-room-not-found",
            )
        if path.endswith(".info"):
            key = "group" if private else "channel"
            return json_response(
                {
                    key: {
                        "_id": _rid(room),
                        "name": room.handle,
                        "fname": room.title,
                        "topic": room.text,
                        "msgs": len(room.children),
                    },
                    "success": True,
                }
            )
        msgs = ctx.live_children(room)
        if "latest" in q:
            msgs = [m for m in msgs if _rc_ms(m.appeared_at) < q["latest"]]
        if "oldest" in q:
            msgs = [m for m in msgs if _rc_ms(m.appeared_at) > q["oldest"]]
        msgs = msgs[::-1]
        count = int(q.get("count", "20") or 20)
        offset = int(q.get("offset", "0") or 0)
        page = msgs[offset : offset + count]
        return json_response(
            {
                "messages": [_rc_message(ctx, room, m) for m in page],
                "count": len(page),
                "offset": offset,
                "total": len(msgs),
                "success": True,
            }
        )
    return json_response({"success": False, "error": "Method not found"}, 404)


# --- file host -----------------------------------------------------------------------------


def filehost(ctx: Ctx) -> Response:
    req = ctx.req
    name = ctx.platform.name or ctx.platform.hosts[0]
    parts = [p for p in req.path.split("/") if p]
    if not parts:
        return html_page(
            f"{name} - Free file hosting", f"<h1>{esc(name)}</h1><p>Upload and share files.</p>"
        )
    it = key_item(ctx.world, ctx.platform.id, req.host, req.path, req.query)
    if it is None or not ctx.visible(it):
        return html_page(
            f"File not found - {name}",
            '<div class="error"><h1>File not found</h1>'
            "<p>The file you are looking for does not exist.</p></div>",
            status=404,
        )
    if ctx.removed(it):
        return html_page(
            f"File removed - {name}",
            '<div class="error"><h1>This file has been removed</h1>'
            "<p>This file has been removed for violating our Terms of Service.</p></div>",
            status=404,
        )
    if it.access == "geo_blocked":
        return geo_blocked(ctx, "This file")
    if it.kind == "account":
        files = "".join(
            f'<li><a href="/f/{c.key}">{esc(c.title)}</a></li>' for c in ctx.live_children(it)
        )
        return html_page(
            f"{it.handle} - {name}", f"<h1>{esc(it.handle or '')}</h1><ul>{files}</ul>"
        )
    md = ctx.world.media[it.media[0]]
    if parts[0] == "d":
        return media_response(md, md.filename.rsplit(".", 1)[-1])
    dl = media_url(ctx, it, md)
    meta = {
        "og:title": md.filename,
        "og:site_name": name,
        "og:url": it.url,
        "og:image": thumb_url(ctx, it),
        "og:description": it.title,
    }
    body = (
        f'<div class="file"><h1 class="filename">{esc(md.filename)}</h1><p class="desc">{esc(it.title)}</p>'
        f'<p class="uploaded">Uploaded {ts_human(it.appeared_at)}</p>'
        f'<a class="download" id="download-url" href="{dl}">Download</a></div>'
    )
    return html_page(f"{md.filename} - {name}", body, meta=meta)


# --- paste ---------------------------------------------------------------------------------


def paste(ctx: Ctx) -> Response:
    req = ctx.req
    name = ctx.platform.name or ctx.platform.hosts[0]
    parts = [p for p in req.path.split("/") if p]
    if not parts:
        return html_page(
            f"{name} - store text online", f"<h1>{esc(name)}</h1><textarea></textarea>"
        )
    it = key_item(ctx.world, ctx.platform.id, req.host, req.path, req.query)
    if it is None or not ctx.visible(it):
        return html_page(
            f"Not Found (#404) - {name}",
            "<h1>Not Found (#404)</h1><p>This page is no longer "
            "available. It has either expired, been removed by its creator, or removed by one "
            "of the staff.</p>",
            status=404,
        )
    if ctx.removed(it):
        return html_page(
            f"Removed - {name}",
            "<h1>This paste has been removed</h1><p>This paste has been "
            "removed for violating our Terms of Service.</p>",
            status=404,
        )
    if it.access == "login_required":
        return html_page(
            f"Private Paste - {name}",
            "<p>This is a private paste. If you are the owner "
            "of this paste, please login to view it.</p>",
            status=403,
        )
    if it.kind == "account":
        items = "".join(
            f'<li><a href="/{c.key}">{esc(c.title)}</a></li>' for c in ctx.live_children(it)
        )
        return html_page(
            f"{it.handle}'s Pastebin - {name}", f"<h1>{esc(it.handle or '')}</h1><ul>{items}</ul>"
        )
    if parts[0] == "raw":
        return text_response(it.text)
    meta = {
        "og:title": it.title,
        "og:site_name": name,
        "og:url": it.url,
        "og:description": it.text[:150],
    }
    body = (
        f'<div class="paste"><h1>{esc(it.title)}</h1><div class="date">{ts_human(it.appeared_at)}</div>'
        f'<a href="/raw/{it.key}">raw</a><textarea class="textarea" readonly>{esc(it.text)}</textarea></div>'
    )
    return html_page(f"{it.title} - {name}", body, meta=meta, lang=it.lang)


# --- websites ------------------------------------------------------------------------------


def website(ctx: Ctx) -> Response:
    req = ctx.req
    host = req.host.removeprefix("www.")
    site = ctx.world.site_by_host.get(host)
    if site is None or not ctx.visible(site):
        if host in ctx.platform.hosts:
            return html_page("Web hosting", "<h1>Web hosting</h1>")
        return not_found_plain()
    if ctx.removed(site):
        return html_page(
            "Account Suspended",
            "<h1>Account Suspended</h1><p>This Account has been suspended."
            "</p><p>Contact your hosting provider for more information.</p>",
        )
    if req.path.startswith("/wp-content/uploads/"):
        found = _token(ctx, req.path)
        return found if found is not None else not_found_plain()
    it = key_item(ctx.world, ctx.platform.id, req.host, req.path, req.query)
    if it is None or not ctx.visible(it):
        return not_found_plain()
    if it.access == "geo_blocked":
        return geo_blocked(ctx, "This page")
    if it.kind == "website":
        arts = "".join(
            f'<article><h2><a href="/{c.key}.html">{esc(c.title)}</a></h2></article>'
            for c in ctx.live_children(site)[::-1]
        )
        return html_page(
            site.title,
            f"<header><h1>{esc(site.title)}</h1><p>{esc(site.text)}</p></header>{arts}",
            meta={"og:site_name": site.title, "og:title": site.title, "og:url": site.url},
        )
    if ctx.removed(it):
        return not_found_plain()
    img = "".join(
        f'<figure><img src="{media_url(ctx, it, ctx.world.media[m])}"></figure>' for m in it.media
    )
    meta = {
        "og:site_name": site.title,
        "og:title": it.title,
        "og:type": "article",
        "og:url": it.url,
        "og:image": thumb_url(ctx, it),
        "og:description": it.text[:150],
        "article:published_time": ts_iso(it.appeared_at),
    }
    body = f'<article><h1 class="entry-title">{esc(it.title)}</h1>{img}<div class="entry-content"><p>{esc(it.text)}</p></div></article>'
    return html_page(f"{it.title} – {site.title}", body, meta=meta, lang=it.lang)


# --- onion forum ---------------------------------------------------------------------------


def onion_forum(ctx: Ctx) -> Response:
    req = ctx.req
    name = ctx.platform.name or "Forum"
    if req.path.startswith("/attachments/"):
        found = _token(ctx, req.path)
        return found if found is not None else not_found_plain()
    if req.path in ("/", "/index.php"):
        threads = [
            it
            for it in ctx.world.items.values()
            if it.platform == ctx.platform.id and it.kind == "thread" and it.alive(ctx.now)
        ]
        rows = "".join(
            f'<tr><td><a href="/thread/{t.key}">{esc(t.title)}</a></td><td>{len(t.children)}</td></tr>'
            for t in threads[-50:]
        )
        return html_page(
            f"{name} - Index", f"<h1>{esc(name)}</h1><table class='threads'>{rows}</table>"
        )
    it = key_item(ctx.world, ctx.platform.id, req.host, req.path, req.query)
    if it is None or not ctx.visible(it):
        return html_page(
            f"{name} - Error",
            "<div class='error'>The requested thread does not exist.</div>",
            status=404,
        )
    if ctx.removed(it):
        return html_page(
            f"{name} - Error",
            "<div class='error'>This topic has been deleted by a moderator.</div>",
            status=404,
        )
    thread = it if it.kind == "thread" else ctx.item(it.parent or "")
    posts = ctx.live_children(thread) if it.kind == "thread" else [it]

    def render(p: Item) -> str:
        imgs = "".join(f'<img src="{media_url(ctx, p, ctx.world.media[m])}">' for m in p.media)
        return (
            f'<div class="post" id="p{p.key}"><div class="author">{esc(thread.handle or "")}</div>'
            f'<div class="date">{ts_human(p.appeared_at)}</div><div class="content" dir="auto">'
            f"{esc(p.text)}</div>{imgs}</div>"
        )

    return html_page(
        f"{thread.title} - {name}",
        f"<h1>{esc(thread.title)}</h1>" + "".join(map(render, posts)),
        meta={"og:title": thread.title, "og:site_name": name},
        lang=thread.lang,
    )
