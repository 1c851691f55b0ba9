"""Pulling from partners with OASIS's ``taxii2-client``, through the guarded HTTP client.

A pull asks the partner's collection for what was added after the checkpoint, page by
page with TAXII's ``next`` (never ``added_after`` alone: many objects can share one
``date_added``), and puts each page into the inbox in its own transaction. The
checkpoint moves only when a pull completes, to the last ``date_added`` it saw, minus a
second of overlap (an object committed late with an earlier ``date_added`` is caught the
next time; the inbox drops what it already has). A failed pull keeps its checkpoint and
is retried, later each time.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import requests
from sqlalchemy.orm import Session, sessionmaker
from taxii2client.common import _HTTPConnection
from taxii2client.v21 import Collection, as_pages

from takedown.config import Settings
from takedown.db import session_scope
from takedown.kit.clock import Clock, SystemClock
from takedown.kit.errors import InvalidInput, NotFound
from takedown.kit.http import make_sync_client
from takedown.kit.requests_bridge import mount
from takedown.sharing import inbox, repository, secrets
from takedown.sharing.models import AuthKind, Partner
from takedown.sharing.stixobj import parse_timestamp

log = logging.getLogger("takedown.sharing")

PAGE = 500
OVERLAP = dt.timedelta(seconds=1)
MAX_BACKOFF = dt.timedelta(hours=6)


class BearerAuth(requests.auth.AuthBase):
    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self.token}"
        return r


def connection(partner: Partner, settings: Settings) -> _HTTPConnection:
    """A taxii2-client connection whose requests go through ``kit.http``'s guard."""
    secret = secrets.unseal(settings.secret_key, partner.secret_sealed)
    auth: requests.auth.AuthBase | None = None
    if partner.auth_kind == AuthKind.BASIC.value:
        auth = requests.auth.HTTPBasicAuth(partner.username, secret)
    elif secret:
        auth = BearerAuth(secret)
    conn = _HTTPConnection(version="2.1", auth=auth, user_agent="takedown-taxii")
    mount(conn.session, make_sync_client(**settings.http_client_options(), timeout=60.0))
    return conn


def collection_url(partner: Partner) -> str:
    if not partner.api_root or not partner.collection:
        raise InvalidInput(f"partner {partner.name!r} has no API root and collection to pull")
    return f"{partner.api_root.rstrip('/')}/collections/{partner.collection.strip('/')}/"


@dataclass
class PullResult:
    fetched: int = 0
    stored: int = 0
    duplicates: int = 0
    failed: int = 0
    pages: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)
    last_added: dt.datetime | None = None

    def summary(self) -> dict[str, Any]:
        return {
            "fetched": self.fetched,
            "stored": self.stored,
            "duplicates": self.duplicates,
            "failed": self.failed,
            "pages": self.pages,
        }


PageSource = Callable[[Partner, dt.datetime | None], Iterator[tuple[list[Any], str | None]]]


def taxii_pages(settings: Settings) -> PageSource:
    """Pages of (objects, X-TAXII-Date-Added-Last) from the partner's collection."""

    def pages(
        partner: Partner, since: dt.datetime | None
    ) -> Iterator[tuple[list[Any], str | None]]:
        conn = connection(partner, settings)
        seen: list[str | None] = [None]

        def header(r: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
            seen[0] = r.headers.get("X-TAXII-Date-Added-Last")
            return r

        conn.session.hooks["response"].append(header)
        try:
            coll = Collection(collection_url(partner), conn=conn)
            kwargs: dict[str, Any] = {}
            if since is not None:
                kwargs["added_after"] = since
            for envelope in as_pages(coll.get_objects, per_request=PAGE, **kwargs):
                objects = envelope.get("objects", []) if isinstance(envelope, dict) else []
                yield objects, seen[0] or _last_added(objects)
        finally:
            conn.close()

    return pages


def _last_added(objects: list[Any]) -> str | None:
    # A server that sends no X-TAXII-Date-Added-Last: the newest version's time stands in
    # (an object is never added before it was last modified, so nothing is skipped; the
    # inbox drops what comes again).
    stamps: list[str] = []
    for o in objects:
        value = (o.get("modified") or o.get("created")) if isinstance(o, dict) else None
        if isinstance(value, str):
            stamps.append(value)
    return max(stamps) if stamps else None


def pull(
    factory: sessionmaker[Session],
    partner_id: int,
    *,
    pages: PageSource,
    clock: Clock | None = None,
) -> PullResult:
    """One pull of one partner, each page in its own transaction; the checkpoint moves
    only when the whole pull succeeded."""
    now = (clock or SystemClock()).now()
    with session_scope(factory) as session:
        partner = repository.partner(session, partner_id)
        if partner is None:
            raise NotFound(f"no partner {partner_id}")
        since = partner.checkpoint - OVERLAP if partner.checkpoint else None
        session.expunge(partner)
    result = PullResult()
    try:
        for objects, last in pages(partner, since):
            result.pages += 1
            result.fetched += len(objects)
            with session_scope(factory) as session:
                fresh = repository.partner(session, partner_id)
                assert fresh is not None
                got = inbox.receive(
                    session,
                    owner_agency_id=fresh.owner_agency_id,
                    source_agency_id=fresh.agency_id,
                    channel="taxii-pull",
                    objects=objects,
                    now=(clock or SystemClock()).now(),
                    partner=fresh,
                )
            result.stored += len(got.stored)
            result.duplicates += got.duplicates
            result.failed += len(got.failures)
            result.failures += got.failures[: max(0, 100 - len(result.failures))]
            if last:
                try:
                    t = parse_timestamp(last)
                    result.last_added = max(result.last_added or t, t)
                except ValueError:
                    pass
    except Exception as exc:
        with session_scope(factory) as session:
            fresh = repository.partner(session, partner_id)
            if fresh is not None:
                failures = int((fresh.last_pull_summary or {}).get("consecutive_failures", 0)) + 1
                wait = min(dt.timedelta(seconds=fresh.pull_every_seconds) * failures, MAX_BACKOFF)
                fresh.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                fresh.last_pull_summary = {**result.summary(), "consecutive_failures": failures}
                fresh.next_pull_at = now + wait
        raise
    with session_scope(factory) as session:
        fresh = repository.partner(session, partner_id)
        if fresh is not None:
            if result.last_added is not None:
                fresh.checkpoint = max(fresh.checkpoint or result.last_added, result.last_added)
            fresh.last_pull_at = now
            fresh.last_error = ""
            fresh.last_pull_summary = result.summary()
            fresh.next_pull_at = now + dt.timedelta(seconds=fresh.pull_every_seconds)
    return result
