"""Exchanges to a gzip'ed WARC 1.1 file (warcio), with request/response pairs linked.

The response payload is the body as received (content-encoding intact), so a
replay tool shows what the server sent. httpx hands us bodies already
de-chunked, so a ``Transfer-Encoding`` header is renamed to
``X-Takedown-Orig-Transfer-Encoding`` (as web archives commonly do): keeping it
would make readers try to de-chunk a body that is not chunked. warcio's own
digests are SHA-1; our SHA-256 of the whole file goes into the manifest.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from io import BytesIO
from typing import Any
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from takedown.evidence.capture.fetch import Exchange


def _warc_date(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _target(url: str) -> str:
    parts = urlsplit(url)
    path = parts.path or "/"
    return f"{path}?{parts.query}" if parts.query else path


def _response_headers(ex: Exchange) -> list[tuple[str, str]]:
    out = []
    for k, v in ex.response_headers:
        if k.lower() == "transfer-encoding":
            out.append(("X-Takedown-Orig-Transfer-Encoding", v))
        else:
            out.append((k, v))
    return out


def build_warc(
    exchanges: Sequence[Exchange],
    *,
    software: str,
    info: dict[str, Any],
    screenshot: tuple[str, bytes, dt.datetime] | None = None,
) -> bytes:
    buffer = BytesIO()
    writer = WARCWriter(buffer, gzip=True, warc_version="WARC/1.1")
    warcinfo = writer.create_warcinfo_record(
        "capture.warc.gz",
        {"software": software, "format": "WARC File Format 1.1", **info},
    )
    writer.write_record(warcinfo)
    for ex in exchanges:
        host = urlsplit(ex.url).netloc
        req_headers = list(ex.request_headers)
        if not any(k.lower() == "host" for k, _ in req_headers):
            req_headers.insert(0, ("Host", host))
        date = _warc_date(ex.started_at)
        proto = ex.http_version if ex.http_version.startswith("HTTP/") else "HTTP/1.1"
        resp_warc: dict[str, str] = {"WARC-Date": date}
        if ex.peer_address:
            resp_warc["WARC-IP-Address"] = ex.peer_address
        response = writer.create_warc_record(
            ex.url,
            "response",
            payload=BytesIO(ex.raw_body),
            length=len(ex.raw_body),
            warc_headers_dict=resp_warc,
            http_headers=StatusAndHeaders(
                f"{ex.status} {ex.reason}".strip(), _response_headers(ex), protocol=proto
            ),
        )
        request = writer.create_warc_record(
            ex.url,
            "request",
            payload=BytesIO(b""),
            length=0,
            warc_headers_dict={
                "WARC-Date": date,
                "WARC-Concurrent-To": response.rec_headers.get_header("WARC-Record-ID"),
            },
            http_headers=StatusAndHeaders(
                f"{ex.method} {_target(ex.url)} {proto}", req_headers, is_http_request=True
            ),
        )
        writer.write_record(response)
        writer.write_record(request)
    if screenshot is not None:
        url, png, at = screenshot
        writer.write_record(
            writer.create_warc_record(
                f"urn:screenshot:{url}",
                "resource",
                payload=BytesIO(png),
                length=len(png),
                warc_content_type="image/png",
                warc_headers_dict={"WARC-Date": _warc_date(at)},
            )
        )
    meta = json.dumps(info, sort_keys=True, default=str).encode()
    writer.write_record(
        writer.create_warc_record(
            f"urn:takedown:capture-metadata:{info.get('capture_id', '')}",
            "metadata",
            payload=BytesIO(meta),
            length=len(meta),
            warc_content_type="application/json",
        )
    )
    return buffer.getvalue()
