"""Listing classes kept per agency: what each listing, post or page text is about.

Stored for dark-web items (an ``.onion`` host, or a listing, thread, post or vendor
page) and for any text that falls in a category other than "other"; an ordinary
item of a bulk import costs a classification but no row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.orm import Session

from takedown.accounts.principal import Principal
from takedown.coins import repository as repo
from takedown.coins.classify import Classification, classify
from takedown.coins.models import ListingClass
from takedown.kit.clock import SystemClock

LISTING_KINDS = frozenset({"listing", "thread", "post", "vendor"})


def keep(result: Classification, *, dark_web: bool) -> bool:
    return dark_web or result.categories != ["other"]


def store(
    session: Session,
    agency_id: int,
    source_key: str,
    result: Classification,
    *,
    item_id: int | None = None,
    now: dt.datetime | None = None,
) -> ListingClass:
    """Insert or refresh the agency's classification of one source."""
    row = repo.listing_class(session, agency_id, source_key[:300])
    if row is None:
        row = ListingClass(agency_id=agency_id, source_key=source_key[:300], item_id=item_id)
        session.add(row)
    row.categories = list(result.categories)
    row.scores = dict(result.scores)
    row.highlights = [[h.start, h.end, h.category, h.term] for h in result.highlights[:200]]
    row.language = result.language
    row.classified_at = now or SystemClock().now()
    session.flush()
    return row


def observe(
    session: Session,
    agency_ids: Sequence[int],
    text: str,
    source_key: str,
    *,
    item_id: int | None = None,
    dark_web: bool = False,
) -> Classification:
    """Classify ``text`` once and keep it for each agency that saw it (when worth keeping)."""
    result = classify(text)
    if keep(result, dark_web=dark_web):
        for agency_id in sorted(set(agency_ids)):
            store(session, agency_id, source_key, result, item_id=item_id)
    return result


def of_item(session: Session, principal: Principal, item_id: int) -> list[ListingClass]:
    return repo.listing_classes_of_item(session, principal.agency_id, item_id)


def recent(
    session: Session, principal: Principal, *, category: str | None = None, limit: int = 100
) -> list[ListingClass]:
    return repo.list_listing_classes(session, principal.agency_id, category=category, limit=limit)
