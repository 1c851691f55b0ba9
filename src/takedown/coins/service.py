"""Addresses and where they were seen.

Every text that passes through the platform can be handed to ``observe_text``:
items as they are created (the items hook), the text captured with evidence (the
evidence hook), and posts, threads and listings a crawler fetched (monitoring calls
``observe_text`` with ``SightingSource.POST``). Each valid address becomes (or
updates) the agency's own address row, and each place it was seen a sighting with
the item's attribution, so an analyst can say: first seen in this channel, in this
post, with this evidence.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from takedown.accounts.principal import Principal
from takedown.coins import repository as repo
from takedown.coins.extract import Found, extract
from takedown.coins.models import CoinAddress, CoinSighting, SightingSource
from takedown.kit.clock import Clock, SystemClock
from takedown.kit.errors import NotFound

__all__ = [
    "Source",
    "get_address",
    "list_addresses",
    "observe_item_ids",
    "observe_text",
    "sightings_of",
]

#: Longest text scanned from one source (a captured page may be huge; addresses sit early).
MAX_TEXT = 8 * 1024 * 1024
_WS = re.compile(r"\s+")


@dataclass(frozen=True)
class Source:
    """Where a text came from. ``key`` identifies it, so a re-scan adds no new sighting."""

    kind: SightingSource
    key: str
    item_id: int | None = None
    capture_id: int | None = None
    manifest_sha256: str | None = None
    post_url: str | None = None
    attribution: dict[str, Any] = field(default_factory=dict)


def _context(text: str, f: Found) -> str:
    snippet = text[max(0, f.start - 80) : f.end + 80]
    return _WS.sub(" ", snippet).strip()[:400]


def observe_text(
    session: Session,
    agency_id: int,
    text: str,
    source: Source,
    *,
    seen_at: dt.datetime | None = None,
    found: Sequence[Found] | None = None,
) -> list[CoinSighting]:
    """Record every valid address in ``text`` as seen by ``agency_id``; return new sightings."""
    when = seen_at or SystemClock().now()
    hits = list(found) if found is not None else extract(text[:MAX_TEXT])
    out: list[CoinSighting] = []
    done: set[tuple[str, str]] = set()
    for f in hits:
        if (f.kind, f.address) in done:
            continue
        done.add((f.kind, f.address))
        row = repo.upsert_address(
            session,
            agency_id,
            f.kind,
            f.address,
            network=f.network,
            script=f.script,
            seen_at=when,
        )
        if repo.sighting_exists(session, row.id, source.key[:300]):
            continue
        s = CoinSighting(
            agency_id=agency_id,
            address_id=row.id,
            source=source.kind.value,
            source_key=source.key[:300],
            item_id=source.item_id,
            capture_id=source.capture_id,
            manifest_sha256=source.manifest_sha256,
            post_url=source.post_url,
            attribution=dict(source.attribution),
            form=f.form,
            asset=f.asset,
            context=_context(text, f),
            seen_at=when,
        )
        repo.add(session, s)
        row.sightings_count += 1
        row.first_seen_at = min(row.first_seen_at, when)
        row.last_seen_at = max(row.last_seen_at, when)
        out.append(s)
    return out


def attribution_of(session: Session, agency_id: int, item_id: int) -> dict[str, Any]:
    """The item's platform and, from the agency's latest assessment, its group and outlet."""
    item = repo.item_by_id(session, item_id)
    out: dict[str, Any] = {}
    if item is None:
        return out
    out["platform"] = item.platform
    out["item_kind"] = item.kind
    out["url"] = item.canonical_url
    a = repo.latest_assessment(session, agency_id, item_id)
    if a is not None:
        if a.group:
            out["group"] = a.group
        if a.outlet:
            out["outlet"] = a.outlet
    return out


def observe_item_ids(
    session: Session, item_ids: Sequence[int], *, clock: Clock | None = None
) -> int:
    """The items hook: scan each new item's title, URL and reporting notes, per reporter.

    The same item reported by two agencies is two sightings, one in each agency's book.
    Returns the number of sightings recorded.
    """
    from takedown.coins import listings

    when = (clock or SystemClock()).now()
    n = 0
    scanned: dict[int, list[Found]] = {}
    rows = repo.items_with_reporters(session, item_ids)
    reporters: dict[int, set[int]] = {}
    for item, sighting in rows:
        reporters.setdefault(item.id, set()).add(sighting.agency_id)
    for item, sighting in rows:
        text = "\n".join(
            x
            for x in (item.title or "", item.canonical_url, sighting.reported_url, sighting.note)
            if x
        )
        found = scanned.get(item.id)
        if found is None:
            found = scanned[item.id] = extract(text)
            if item.title:
                dark = item.kind in listings.LISTING_KINDS or ".onion" in item.canonical_url
                listings.observe(
                    session,
                    sorted(reporters[item.id]),
                    item.title,
                    f"item:{item.id}",
                    item_id=item.id,
                    dark_web=dark,
                )
        if not found:
            continue
        src = Source(
            SightingSource.ITEM,
            f"item:{item.id}",
            item_id=item.id,
            post_url=item.canonical_url,
            attribution=attribution_of(session, sighting.agency_id, item.id),
        )
        n += len(observe_text(session, sighting.agency_id, text, src, seen_at=when, found=found))
    return n


def observe_evidence_text(
    session: Session,
    *,
    agency_id: int,
    item_id: int,
    capture_id: int,
    manifest_sha256: str | None,
    file_sha256: str,
    url: str,
    text: str,
    clock: Clock | None = None,
) -> int:
    """The evidence hook: the text captured with a manifest, kept as the sighting's proof."""
    src = Source(
        SightingSource.EVIDENCE,
        f"evidence:{capture_id}:{file_sha256}",
        item_id=item_id,
        capture_id=capture_id,
        manifest_sha256=manifest_sha256,
        post_url=url or None,
        attribution=attribution_of(session, agency_id, item_id),
    )
    when = (clock or SystemClock()).now()
    return len(observe_text(session, agency_id, text, src, seen_at=when))


# --- reads, always within the caller's agency ---------------------------------------------


def list_addresses(
    session: Session,
    principal: Principal,
    *,
    kind: str | None = None,
    q: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[CoinAddress], int]:
    return repo.list_addresses(
        session, principal.agency_id, kind=kind, q=q, limit=limit, offset=offset
    )


def get_address(session: Session, principal: Principal, address_id: int) -> CoinAddress:
    row = repo.address_by_id(session, principal.agency_id, address_id)
    if row is None:
        raise NotFound(f"address {address_id} not found")
    return row


def find_address(session: Session, principal: Principal, address: str) -> CoinAddress | None:
    from takedown.coins.extract import validate

    f = validate(address)
    if f is None:
        return None
    return repo.address_row(session, principal.agency_id, f.kind, f.address)


def sightings_of(
    session: Session, principal: Principal, address_id: int, *, limit: int = 100, offset: int = 0
) -> tuple[list[CoinSighting], int]:
    get_address(session, principal, address_id)
    return repo.sightings_of(session, principal.agency_id, address_id, limit=limit, offset=offset)
