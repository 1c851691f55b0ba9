"""A Rocket.Chat room through the server's REST API (``X-Auth-Token`` / ``X-User-Id``).

``channels.info`` (``groups.info`` for a private group) names the room's id;
``channels.history`` pages through it newest first with ``count``/``offset``,
bounded below by ``oldest`` (the cursor: the newest message time the last
finished crawl saw). The checkpoint is ``{offset, top, floor}``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlsplit

from takedown.kit.errors import InvalidInput
from takedown.monitoring.base import CrawlStop, Limits, Page, Post, SourceSpec
from takedown.monitoring.connectors.common import http_url, parse_time, raise_for_status
from takedown.monitoring.fetch import Fetched, Fetcher
from takedown.monitoring.models import CrawlResult, SourceKind
from takedown.monitoring.parse import absolute

PAGE = 50
_ROOM = re.compile(r"[A-Za-z0-9_.\-]{1,100}")


def room_of(url: str) -> tuple[str, str, str]:
    """(base URL, "channel" or "group", room name) of a room URL."""
    full, _ = http_url(url, "Rocket.Chat room")
    parts = urlsplit(full)
    segs = [s for s in parts.path.split("/") if s]
    if len(segs) < 2 or segs[0] not in ("channel", "group") or not _ROOM.fullmatch(segs[1]):
        raise InvalidInput(
            f"{url!r} is not a Rocket.Chat room (https://<server>/channel/<room> or /group/<room>)"
        )
    return f"{parts.scheme}://{parts.netloc}", segs[0], segs[1]


def _json(resp: Fetched, what: str) -> dict[str, Any]:
    try:
        data = json.loads(resp.body)
    except ValueError:
        raise CrawlStop(CrawlResult.ERROR.value, f"{what}: the answer is not JSON") from None
    if not isinstance(data, dict):
        raise CrawlStop(CrawlResult.ERROR.value, f"{what}: unexpected answer")
    return data


class RocketChatConnector:
    name = "rocketchat"
    kind = SourceKind.ROCKETCHAT.value

    def normalize(self, url: str) -> str:
        base, rtype, room = room_of(url)
        return f"{base}/{rtype}/{room}"

    def pages(self, spec: SourceSpec, fetch: Fetcher, limits: Limits) -> Iterator[Page]:
        base, rtype, room = room_of(spec.url)
        if not spec.headers.get("X-Auth-Token"):
            raise CrawlStop(
                CrawlResult.ERROR.value,
                f"{base}: no credentials for this Rocket.Chat server (takedown watch server add)",
            )
        api = "groups" if rtype == "group" else "channels"
        what = f"{base} {rtype} {room}"
        info = fetch.get(f"{base}/api/v1/{api}.info?roomName={quote(room)}", headers=spec.headers)
        self._check(info, what)
        rid = str(
            (_json(info, what).get("group" if rtype == "group" else "channel") or {}).get("_id")
            or ""
        )
        if not rid:
            raise CrawlStop(CrawlResult.ERROR.value, f"{what}: the server named no room id")
        cp: dict[str, Any] = dict(spec.checkpoint or {})
        floor: str | None = cp.get("floor", spec.cursor) if cp else spec.cursor
        top: str | None = cp.get("top")
        offset = int(cp.get("offset", 0))
        pages_done = int(cp.get("pages", 0))
        while True:
            q = f"roomId={quote(rid)}&count={PAGE}&offset={offset}"
            if floor:
                q += f"&oldest={quote(floor)}"
            resp = fetch.get(f"{base}/api/v1/{api}.history?{q}", headers=spec.headers)
            self._check(resp, what)
            data = _json(resp, what)
            msgs = [m for m in data.get("messages") or [] if isinstance(m, dict)]
            posts = [p for p in (self._post(base, rtype, room, m) for m in msgs) if p]
            stamps = [str(m.get("ts") or "") for m in msgs if m.get("ts")]
            if top is None:
                top = max(stamps) if stamps else floor
            pages_done += 1
            offset += len(msgs)
            total = int(data.get("total") or 0)
            end = (
                len(msgs) < PAGE
                or offset >= total
                or (floor is None and pages_done >= limits.first_pages)
            )
            note = ""
            if not end and pages_done >= limits.max_resume_pages:
                end, note = True, f"history did not end after {pages_done} pages; older dropped"
            page = Page(posts=posts, status=resp.status, note=note)
            if end:
                page.done, page.cursor = True, top
            else:
                page.checkpoint = {
                    "offset": offset,
                    "top": top,
                    "floor": floor,
                    "pages": pages_done,
                }
            yield page
            if end:
                return

    @staticmethod
    def _check(resp: Fetched, what: str) -> None:
        if resp.status == 401:
            raise CrawlStop(
                CrawlResult.ERROR.value,
                f"{what}: the server refused the credentials (401)",
                status=401,
            )
        if resp.status == 400 and b"not-found" in resp.body:
            raise CrawlStop(CrawlResult.GONE.value, f"{what}: room not found", status=400)
        raise_for_status(resp, what)

    @staticmethod
    def _post(base: str, rtype: str, room: str, m: dict[str, Any]) -> Post | None:
        mid = str(m.get("_id") or "")
        if not mid:
            return None
        links = [str(u.get("url")) for u in m.get("urls") or [] if isinstance(u, dict)]
        media: list[str] = []
        for att in m.get("attachments") or []:
            if isinstance(att, dict):
                for k in ("image_url", "video_url"):
                    if att.get(k):
                        u = absolute(base + "/", str(att[k]))
                        if u:
                            media.append(u)
        return Post(
            url=f"{base}/{rtype}/{room}?msg={mid}",
            key=mid,
            text=str(m.get("msg") or ""),
            posted_at=parse_time(str(m.get("ts") or "")),
            links=[u for u in links if u.startswith(("http://", "https://"))],
            media=media,
        )
