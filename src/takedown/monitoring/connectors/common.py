"""What several connectors share: conditional headers, status handling, URL checks."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from takedown.kit.errors import InvalidInput
from takedown.monitoring.base import CrawlStop, SourceSpec
from takedown.monitoring.fetch import Fetched
from takedown.monitoring.models import CrawlResult


def conditional_headers(spec: SourceSpec) -> dict[str, str]:
    """If-None-Match / If-Modified-Since from the last full crawl (not while resuming)."""
    if spec.checkpoint:
        return {}
    h: dict[str, str] = {}
    if spec.etag:
        h["If-None-Match"] = spec.etag
    if spec.last_modified:
        h["If-Modified-Since"] = spec.last_modified
    return h


def raise_for_status(resp: Fetched, what: str) -> None:
    if resp.status in (404, 410):
        raise CrawlStop(CrawlResult.GONE.value, f"{what}: gone ({resp.status})", status=resp.status)
    if resp.status in (401, 403):
        raise CrawlStop(
            CrawlResult.ERROR.value, f"{what}: access refused ({resp.status})", status=resp.status
        )
    if resp.status >= 400:
        raise CrawlStop(CrawlResult.ERROR.value, f"{what}: HTTP {resp.status}", status=resp.status)


def http_url(url: str, kind: str) -> tuple[str, str]:
    """(scheme://host..., host) of an http(s) URL, or InvalidInput naming the kind expected."""
    url = url.strip()
    if "://" not in url:
        url = "https://" + url
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        raise InvalidInput(f"{url!r} is not a URL of a {kind}") from None
    if parts.scheme not in ("http", "https") or not host:
        raise InvalidInput(f"{url!r} is not a URL of a {kind}")
    return url, host


def parse_time(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        t = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)
