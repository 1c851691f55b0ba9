"""The interface every source connector implements, and the values crawls pass around.

A connector knows how one kind of source lists what is new: Telegram's web
preview paged with ``?before=``, a Rocket.Chat room's REST history, an account
page, a same-site crawl. It never touches the database and never builds an
HTTP client: it gets a ``Fetcher`` (the injected guarded client, the shared
per-host budget and the crawl's limits) and yields ``Page``s. The crawler
records each page and commits its checkpoint before asking for the next, so
a crash resumes where the last committed page left off.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from takedown.monitoring.fetch import Fetcher


@dataclass(frozen=True, slots=True)
class Limits:
    """What one crawl of one source may spend. A hostile source meets one of these."""

    max_pages: int = 20  # pages read in one crawl (then: partial, resume from checkpoint)
    first_pages: int = 3  # pages read on a source's first crawl (no cursor yet)
    max_resume_pages: int = 200  # pages across resumed crawls before older history is dropped
    max_bytes: int = 5 * 1024 * 1024  # one response body
    max_media_bytes: int = 20 * 1024 * 1024
    max_requests: int = 60  # requests in one crawl, pages, retries and media included
    max_seconds: float = 120.0  # wall time of one crawl
    max_retry_after: float = 60.0  # a longer Retry-After ends the crawl (and is kept)
    retries_429: int = 2
    site_depth: int = 2  # website/onion: link depth from the start page
    site_pages: int = 30  # website/onion: pages per crawl
    media_per_crawl: int = 20


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """What a connector needs of a source row (no ORM object crosses into connectors)."""

    id: int
    kind: str
    url: str
    cursor: str | None = None
    checkpoint: Mapping[str, Any] | None = None
    etag: str | None = None
    last_modified: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)  # e.g. Rocket.Chat auth


@dataclass(slots=True)
class Post:
    """A post, message or page a crawl found; ``url`` is what the items canonicalise."""

    url: str
    key: str
    text: str = ""
    title: str | None = None
    posted_at: dt.datetime | None = None
    links: list[str] = field(default_factory=list)
    media: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Page:
    """One page of a crawl. ``done`` on the last page, with the new ``cursor``; until
    then ``checkpoint`` says how to resume after this page."""

    posts: list[Post] = field(default_factory=list)
    checkpoint: dict[str, Any] | None = None
    done: bool = False
    cursor: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False
    status: int | None = None
    note: str = ""  # why a connector ended early (e.g. "older history dropped")


class CrawlStop(Exception):
    """Ends a crawl with a recorded result and reason (never an unhandled failure)."""

    def __init__(
        self,
        result: str,
        reason: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(reason)
        self.result = result
        self.reason = reason
        self.status = status
        self.retry_after = retry_after


@runtime_checkable
class SourceConnector(Protocol):
    name: str
    kind: str

    def normalize(self, url: str) -> str:
        """The source's URL as it is stored; ``InvalidInput`` naming why if not this kind."""
        ...

    def pages(self, spec: SourceSpec, fetch: Fetcher, limits: Limits) -> Iterator[Page]:
        """Yield what is new since ``spec.cursor`` (resuming ``spec.checkpoint``)."""
        ...


# What the registry holds: a factory of stateless connectors. The HTTP client is injected
# per crawl, inside the ``Fetcher`` (with the shared host budget and the crawl's limits).
SourceConnectorFactory = Callable[[], SourceConnector]
