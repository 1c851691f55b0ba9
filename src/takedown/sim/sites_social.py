"""The microblog (x.com), the video host (youtube.com, youtu.be, oEmbed) and Telegram previews.

Texts of the removal pages follow what the real services show, because the
removal detectors are written against those texts.
"""

# ruff: noqa: E501  (HTML templates read better unbroken)

from __future__ import annotations

import json
import urllib.parse

from takedown.sim.pages import (
    Ctx,
    esc,
    geo_blocked,
    html_page,
    json_response,
    media_url,
    not_found_plain,
    redirect,
    text_response,
    thumb_url,
    ts_human,
    ts_iso,
)
from takedown.sim.server import Response
from takedown.sim.urls import key_item
from takedown.sim.world import Item

# --- x.com ---------------------------------------------------------------------------------

_X_SHELL = '<div id="react-root"><main role="main">{}</main></div>'


def _x_msg(title: str, msg: str, status: int = 200) -> Response:
    body = _X_SHELL.format(
        f'<div data-testid="emptyState"><div data-testid="empty_state_header_text">{esc(title)}'
        f'</div><div data-testid="empty_state_body_text">{esc(msg)}</div></div>'
    )
    return html_page(
        "Profile / X" if "account" in title.lower() else "Page not found / X",
        body,
        status=status,
        meta={"og:site_name": "X (formerly Twitter)"},
    )


def _x_tweet(ctx: Ctx, acc: Item, tw: Item) -> str:
    media = ""
    for mid in tw.media:
        m = ctx.world.media[mid]
        url = media_url(ctx, tw, m)
        if m.kind == "video":
            media += f'<div data-testid="videoPlayer"><video src="{url}" poster="{thumb_url(ctx, tw)}"></video></div>'
        else:
            media += f'<div data-testid="tweetPhoto"><img alt="Image" src="{url}?format=jpg&amp;name=large"></div>'
    return (
        f'<article data-testid="tweet" role="article"><div data-testid="User-Name">'
        f'<span>{esc(acc.title)}</span><a href="/{esc(acc.handle or "")}">@{esc(acc.handle or "")}</a></div>'
        f'<a href="/{esc(acc.handle or "")}/status/{tw.key}"><time datetime="{ts_iso(tw.appeared_at)}">'
        f"{ts_human(tw.appeared_at)}</time></a>"
        f'<div data-testid="tweetText" lang="{tw.lang}" dir="auto">{esc(tw.text)}</div>{media}</article>'
    )


def microblog(ctx: Ctx) -> Response:
    req = ctx.req
    parts = [p for p in req.path.split("/") if p]
    if not parts:
        return html_page("X. It’s what’s happening / X", _X_SHELL.format("<h1>Happening now</h1>"))
    if parts[0] in ("i", "login", "home", "search", "explore") and not (
        len(parts) >= 4 and parts[:3] == ["i", "web", "status"]
    ):
        return html_page(
            "Log in to X / X",
            _X_SHELL.format('<h1>Sign in to X</h1><form><input name="username"></form>'),
        )
    it = key_item(ctx.world, ctx.platform.id, req.host, req.path, req.query)
    if not ctx.visible(it):
        if len(parts) == 1:
            return _x_msg("This account doesn’t exist", "Try searching for another.")
        return _x_msg("Hmm...this page doesn’t exist. Try searching for something else.", "")
    assert it is not None
    if it.kind == "account":
        acc = it
        if ctx.removed(acc):
            return _x_msg(
                "Account suspended", "X suspends accounts which violate the X Rules. Learn more"
            )
        if acc.access == "geo_blocked":
            return geo_blocked(ctx, f"@{acc.handle}’s account")
        meta = {
            "og:site_name": "X (formerly Twitter)",
            "og:title": f"{acc.title} (@{acc.handle}) on X",
            "og:description": acc.text,
            "og:url": f"https://x.com/{acc.handle}",
            "og:type": "profile",
        }
        if acc.access == "login_required":
            tl = (
                f'<div data-testid="empty_state_header_text">These posts are protected</div>'
                f"<div>Only approved followers can see @{esc(acc.handle or '')}’s posts.</div>"
            )
        else:
            tl = "".join(_x_tweet(ctx, acc, t) for t in ctx.live_children(acc)[-40:][::-1])
        body = _X_SHELL.format(
            f'<div data-testid="UserName"><span>{esc(acc.title)}</span><span>@{esc(acc.handle or "")}</span></div>'
            f'<div data-testid="UserDescription" dir="auto">{esc(acc.text)}</div>'
            f'<section aria-label="Timeline: {esc(acc.title)}’s posts">{tl}</section>'
        )
        return html_page(f"{acc.title} (@{acc.handle}) / X", body, meta=meta)
    acc = ctx.item(it.parent or "")
    if ctx.removed(acc) and acc.removal != "parent_removed":
        return _x_msg("This Post is from a suspended account.", "Learn more")
    if ctx.removed(it):
        return _x_msg("Hmm...this page doesn’t exist. Try searching for something else.", "")
    if it.access == "geo_blocked":
        return geo_blocked(ctx, "This Post")
    if it.access == "login_required":
        return html_page("Log in to X / X", _X_SHELL.format("<h1>Log in to see this post</h1>"))
    meta = {
        "og:site_name": "X (formerly Twitter)",
        "og:title": f"{acc.title} on X",
        "og:description": f"“{it.text}”",
        "og:url": f"https://x.com/{acc.handle}/status/{it.key}",
        "og:type": "article",
        "og:image": thumb_url(ctx, it),
    }
    return html_page(
        f'{acc.title} on X: "{it.text[:80]}" / X',
        _X_SHELL.format(_x_tweet(ctx, acc, it)),
        meta=meta,
        lang=it.lang,
    )


# --- youtube -------------------------------------------------------------------------------


def _yt_player(status: str, reason: str | None, details: dict[str, str] | None) -> str:
    data: dict[str, object] = {"playabilityStatus": {"status": status}}
    if reason:
        data["playabilityStatus"] = {"status": status, "reason": reason}
    if details:
        data["videoDetails"] = details
    return f"<script>var ytInitialPlayerResponse = {json.dumps(data)};</script>"


def _yt_unavailable(reason: str, status: str = "ERROR", http: int = 200) -> Response:
    body = (
        f'<div id="player"><div class="ytp-error"><div class="ytp-error-content-wrap-reason">'
        f"<span>{esc(reason)}</span></div></div></div>{_yt_player(status, reason, None)}"
    )
    return html_page(" - YouTube", body, status=http, meta={"og:site_name": "YouTube"})


def video(ctx: Ctx) -> Response:
    req = ctx.req
    w = ctx.world
    if req.host == "youtu.be":
        vid = req.path.strip("/")
        extra = "&" + urllib.parse.urlencode(req.query) if req.query else ""
        return redirect(f"https://www.youtube.com/watch?v={vid}&feature=youtu.be{extra}", 303)
    if req.path in ("/oembed", "/oembed/"):
        return _oembed(ctx)
    if req.path.startswith("/vi/"):
        parts = req.path.split("/")
        it = w.find(ctx.platform.id, parts[2]) if len(parts) > 2 else None
        if it is None or not it.media or not ctx.visible(it):
            return not_found_plain()
        from takedown.sim.pages import media_response

        return media_response(w.media[it.media[0]], "jpg")
    if req.path == "/videoplayback":
        it = w.find(ctx.platform.id, req.query.get("v", ""))
        if it is None or not it.media or not it.alive(ctx.now):
            return text_response("", 403)
        from takedown.sim.pages import media_response

        return media_response(w.media[it.media[0]], "mp4")
    it = key_item(w, ctx.platform.id, req.host, req.path, req.query)
    if req.path == "/watch" or req.path.startswith(("/shorts/", "/embed/")):
        if not ctx.visible(it) or it is None or it.kind != "video":
            return _yt_unavailable("This video isn't available anymore")
        ch = ctx.item(it.parent or "")
        if ctx.removed(it):
            if it.removal == "parent_removed":
                return _yt_unavailable(
                    "This video is no longer available because the YouTube account associated "
                    "with this video has been terminated."
                )
            return _yt_unavailable(
                "This video has been removed for violating YouTube's Terms of Service"
            )
        if it.access == "geo_blocked":
            return _yt_unavailable(
                "The uploader has not made this video available in your country", "UNPLAYABLE", 451
            )
        if it.access == "login_required":
            return _yt_unavailable("Sign in to confirm your age", "LOGIN_REQUIRED")
        thumb = thumb_url(ctx, it)
        meta = {
            "og:site_name": "YouTube",
            "og:url": f"https://www.youtube.com/watch?v={it.key}",
            "og:title": it.title,
            "og:image": thumb,
            "og:description": it.text[:160],
            "og:type": "video.other",
            "og:video:url": f"https://www.youtube.com/embed/{it.key}",
        }
        details = {
            "videoId": it.key,
            "title": it.title,
            "author": ch.title,
            "channelId": ch.key,
            "shortDescription": it.text,
        }
        body = (
            f'<div id="player"><video src="{media_url(ctx, it, w.media[it.media[0]])}" poster="{thumb}">'
            f'</video></div><h1 class="title">{esc(it.title)}</h1>'
            f'<div id="owner"><a href="/@{esc(ch.handle or "")}">{esc(ch.title)}</a></div>'
            f'<div id="description" dir="auto">{esc(it.text)}</div>'
            f'<link itemprop="name" content="{esc(ch.title)}">{_yt_player("OK", None, details)}'
        )
        return html_page(f"{it.title} - YouTube", body, meta=meta, lang=it.lang)
    if it is not None and it.kind == "account" and ctx.visible(it):
        if ctx.removed(it):
            return html_page(
                "YouTube",
                '<div class="channel-alert"><p>This account has been terminated '
                "for a violation of YouTube's Terms of Service.</p></div>",
                status=404,
            )
        vids = "".join(
            f'<a id="video-title" href="/watch?v={v.key}" title="{esc(v.title)}">{esc(v.title)}</a>'
            for v in ctx.live_children(it)
        )
        meta = {
            "og:site_name": "YouTube",
            "og:title": it.title,
            "og:url": f"https://www.youtube.com/@{it.handle}",
            "og:description": it.text,
        }
        return html_page(
            f"{it.title} - YouTube",
            f'<div id="channel-header"><h1>{esc(it.title)}</h1>'
            f'<span id="channel-handle">@{esc(it.handle or "")}</span></div>{vids}',
            meta=meta,
        )
    return html_page(
        "404 Not Found", "<p>This page isn't available. Sorry about that.</p>", status=404
    )


def _oembed(ctx: Ctx) -> Response:
    url = ctx.req.query.get("url", "")
    if not url:
        return text_response("Bad Request", 400)
    host, _, rest = url.partition("://")[2].partition("/")
    path, _, q = ("/" + rest).partition("?")
    it = key_item(ctx.world, ctx.platform.id, host.lower(), path, dict(urllib.parse.parse_qsl(q)))
    if it is None or it.kind != "video" or not ctx.visible(it) or ctx.removed(it):
        return text_response("Not Found", 404)
    if it.access in ("login_required", "private"):
        return text_response("Unauthorized", 401)
    ch = ctx.item(it.parent or "")
    return json_response(
        {
            "title": it.title,
            "author_name": ch.title,
            "author_url": f"https://www.youtube.com/@{ch.handle}",
            "type": "video",
            "height": 113,
            "width": 200,
            "version": "1.0",
            "provider_name": "YouTube",
            "provider_url": "https://www.youtube.com/",
            "thumbnail_height": 360,
            "thumbnail_width": 480,
            "thumbnail_url": f"https://i.ytimg.com/vi/{it.key}/hqdefault.jpg",
            "html": f'<iframe width="200" height="113" src="https://www.youtube.com/embed/{it.key}?feature=oembed" '
            f'frameborder="0" allowfullscreen title="{esc(it.title)}"></iframe>',
        }
    )


# --- telegram ------------------------------------------------------------------------------

_TG_BLOCKED = "This channel can’t be displayed because it violated Telegram's Terms of Service."


def _tg_message(ctx: Ctx, ch: Item, m: Item) -> str:
    media = ""
    for mid in m.media:
        md = ctx.world.media[mid]
        url = media_url(ctx, m, md)
        if md.kind == "video":
            media += (
                f'<a class="tgme_widget_message_video_player" href="https://t.me/{ch.handle}/{m.number}">'
                f'<video src="{url}" class="tgme_widget_message_video"></video></a>'
            )
        else:
            media += (
                f'<a class="tgme_widget_message_photo_wrap" href="https://t.me/{ch.handle}/{m.number}" '
                f"style=\"background-image:url('{url}')\"></a>"
            )
    text = esc(m.text)
    for link in m.links:
        text = text.replace(esc(link), f'<a href="{esc(link)}" target="_blank">{esc(link)}</a>')
    return (
        f'<div class="tgme_widget_message_wrap"><div class="tgme_widget_message" data-post="{ch.handle}/{m.number}">'
        f'{media}<div class="tgme_widget_message_text" dir="auto">{text}</div>'
        f'<a class="tgme_widget_message_date" href="https://t.me/{ch.handle}/{m.number}">'
        f'<time datetime="{ts_iso(m.appeared_at)}">{ts_human(m.appeared_at)}</time></a></div></div>'
    )


def _tg_gone(handle: str, blocked: bool) -> Response:
    if blocked:
        body = (
            f'<div class="tgme_page"><div class="tgme_page_title"><span dir="auto">{esc(handle)}</span></div>'
            f'<div class="tgme_page_description">{esc(_TG_BLOCKED)}</div></div>'
        )
        return html_page(
            f"Telegram: Contact @{handle}",
            body,
            meta={
                "og:title": f"Telegram: Contact @{handle}",
                "og:site_name": "Telegram",
                "og:description": _TG_BLOCKED,
            },
        )
    body = (
        f'<div class="tgme_page"><div class="tgme_page_description">If you have <strong>Telegram</strong>, '
        f'you can contact <a class="tgme_username_link" href="tg://resolve?domain={esc(handle)}">'
        f"@{esc(handle)}</a> right away.</div></div>"
    )
    return html_page(
        f"Telegram: Contact @{handle}",
        body,
        meta={
            "og:title": f"Telegram: Contact @{handle}",
            "og:site_name": "Telegram",
            "og:description": f"You can contact @{handle} right away.",
        },
    )


def telegram(ctx: Ctx) -> Response:
    req = ctx.req
    parts = [p for p in req.path.split("/") if p]
    preview = parts[:1] == ["s"]
    if preview:
        parts = parts[1:]
    if not parts:
        return html_page("Telegram Messenger", "<h1>Telegram</h1><p>a new era of messaging</p>")
    handle = parts[0]
    ch = ctx.world.find(ctx.platform.id, handle)
    if ch is None or ch.kind != "channel" or not ctx.visible(ch):
        if preview:
            return redirect(f"https://t.me/{handle}")
        return _tg_gone(handle, False)
    if ctx.removed(ch):
        return _tg_gone(ch.handle or handle, True)
    if ch.access == "geo_blocked":
        return geo_blocked(ctx, "This channel")
    meta = {
        "og:title": ch.title,
        "og:site_name": "Telegram",
        "og:description": ch.text,
        "og:url": f"https://t.me/{ch.handle}",
        "twitter:card": "summary",
    }
    if len(parts) >= 2 and parts[1].isdigit():
        m = ctx.world.find(ctx.platform.id, f"{handle}/{parts[1]}")
        if m is None or not m.alive(ctx.now):
            return html_page(
                f"Telegram: Contact @{ch.handle}",
                '<div class="tgme_widget_message_error">Post not found</div>',
                meta=meta,
            )
        meta["og:description"] = m.text
        if m.media:
            meta["og:image"] = thumb_url(ctx, m)
        return html_page(f"{ch.title} – Telegram", _tg_message(ctx, ch, m), meta=meta, lang=m.lang)
    members = 50 + int(ch.key.encode().hex()[:4], 16) % 20000
    info = (
        f'<div class="tgme_channel_info"><div class="tgme_channel_info_header_title"><span dir="auto">'
        f'{esc(ch.title)}</span></div><div class="tgme_channel_info_header_username"><a href="https://t.me/'
        f'{ch.handle}">@{esc(ch.handle or "")}</a></div><div class="tgme_channel_info_description">{esc(ch.text)}'
        f'</div><div class="tgme_channel_info_counter"><span class="counter_value">{members}</span> '
        f'<span class="counter_type">subscribers</span></div></div>'
    )
    if not preview:
        body = (
            f'<div class="tgme_page"><div class="tgme_page_title"><span dir="auto">{esc(ch.title)}</span></div>'
            f'<div class="tgme_page_extra">{members} subscribers</div><div class="tgme_page_description">'
            f'{esc(ch.text)}</div><a class="tgme_action_button_new" href="tg://resolve?domain={ch.handle}">'
            f'View in Telegram</a><a href="/s/{ch.handle}">Preview channel</a></div>'
        )
        return html_page(f"Telegram: Contact @{ch.handle}", body, meta=meta)
    msgs = ctx.live_children(ch)
    before = req.query.get("before")
    if before and before.isdigit():
        msgs = [m for m in msgs if m.number < int(before)]
    page = msgs[-20:]
    more = (
        (
            f'<a class="tme_messages_more" data-before="{page[0].number}" '
            f'href="/s/{ch.handle}?before={page[0].number}"></a>'
        )
        if len(msgs) > 20
        else ""
    )
    hist = "".join(_tg_message(ctx, ch, m) for m in page)
    body = f'{info}<section class="tgme_channel_history js-message_history">{more}{hist}</section>'
    return html_page(f"{ch.title} – Telegram", body, meta=meta)
