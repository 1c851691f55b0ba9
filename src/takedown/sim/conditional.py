"""Conditional requests (``ETag`` / ``If-None-Match``), on the platforms that honour them.

Telegram's preview, websites, the .onion forum and the video site answer a
page that has not changed with ``304 Not Modified``; the microblog (like the
real one) never does, so a crawler must cope with both. The tag is a hash of
the body: any change a page can show changes it.
"""

from __future__ import annotations

import hashlib

from takedown.sim.server import Request, Response

HONOURING = frozenset({"telegram", "website", "onion_forum", "video"})


def apply(platform_type: str, req: Request, resp: Response) -> Response:
    if (
        platform_type not in HONOURING
        or req.method != "GET"
        or resp.status != 200
        or resp.drop
        or not resp.content_type.startswith("text/html")
    ):
        return resp
    tag = '"' + hashlib.sha256(resp.body).hexdigest()[:20] + '"'
    if req.headers.get("if-none-match") == tag:
        return Response(304, b"", resp.content_type, [("ETag", tag)], delay=resp.delay)
    resp.headers = [*resp.headers, ("ETag", tag)]
    return resp
