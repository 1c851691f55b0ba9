"""Items: the public face of the capability's services (the contract in docs/items.md).

Lookup and the status workflow live in ``core``, holds in ``holds``,
assessments in ``assessments``; they are re-exported here so other capabilities
import one module. Services take a session and never commit. Anything a caller
may not see raises ``NotFound`` (never ``Forbidden``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from takedown.accounts.models import Agency
from takedown.accounts.principal import Principal
from takedown.accounts.service import SYSTEM
from takedown.audit.service import record
from takedown.items import repository
from takedown.items.assessments import (
    CATEGORY_NAMES,
    AssessmentView,
    assess,
    assessments_for,
    normalize_categories,
)
from takedown.items.core import (
    TRANSITIONS,
    as_utc,
    get_item,
    list_items,
    no_nul,
    now_of,
    require_agency_user,
    transition,
    user_id_of,
)
from takedown.items.holds import (
    HoldView,
    active_holds,
    assert_referrable,
    holds_for,
    open_holds_of_my_agency,
    place_hold,
    place_hold_for,
    release_hold,
)
from takedown.items.hooks import fire_items_created
from takedown.items.language import suggest_language
from takedown.items.models import Item, ItemShare, ItemStatus, Sighting
from takedown.items.repository import ItemFilters
from takedown.kit.clock import Clock
from takedown.kit.errors import Forbidden, InvalidInput, NotFound
from takedown.platforms import hosts as platform_hosts
from takedown.platforms.identity import ItemIdentity, canonicalize

__all__ = [
    "CATEGORY_NAMES",
    "SYSTEM",
    "TRANSITIONS",
    "AssessmentView",
    "HoldView",
    "ItemFilters",
    "SightingView",
    "active_holds",
    "as_utc",
    "assert_referrable",
    "assess",
    "assessments_for",
    "get_item",
    "holds_for",
    "list_items",
    "new_item",
    "no_nul",
    "normalize_categories",
    "open_holds_of_my_agency",
    "place_hold",
    "place_hold_for",
    "release_hold",
    "report_url",
    "require_agency_user",
    "share_item",
    "sightings_for",
    "suggest_language",
    "transition",
]


# --- reporting one URL ------------------------------------------------------------------------


def report_url(
    session: Session,
    principal: Principal,
    url: str,
    *,
    source: str = "api",
    note: str = "",
    title: str | None = None,
    reported_at: dt.datetime | None = None,
    clock: Clock | None = None,
) -> tuple[Item, bool]:
    """Record one report of ``url`` by the principal's agency; returns (item, created).

    The same identity reported again, by anyone, becomes another sighting of the
    same item. Bulk files go through ``takedown.items.intake`` instead.
    """
    require_agency_user(principal, "report items")
    for what, value in (("url", url), ("note", note), ("title", title), ("source", source)):
        no_nul(value, what)
    platform_hosts.ensure_fresh(session)  # platforms created since (in another process)
    identity = canonicalize(url)
    now = now_of(clock)
    seen = as_utc(reported_at, "reported_at") or now
    if seen > now + dt.timedelta(days=1) or seen.year < 2000:
        raise InvalidInput("reported_at must be between 2000 and now")
    # Two reports of one new URL at once must make one item, not two (or a unique error).
    repository.lock_identity(session, identity.identity)
    item = repository.item_by_identity(session, identity.identity)
    created = item is None
    if item is None:
        item = new_item(identity, seen=seen, now=now, title=title)
        repository.add(session, item)
    else:
        item.first_seen_at = min(item.first_seen_at, seen)
        item.last_seen_at = max(item.last_seen_at, seen)
        if title and not item.title:
            item.title = title
    repository.add(
        session,
        Sighting(
            item_id=item.id,
            agency_id=principal.agency_id,
            reported_url=url,
            reported_at=seen,
            reported_by=user_id_of(principal),
            source=source[:255],
            note=note,
        ),
    )
    record(
        session,
        principal,
        "item.report",
        "item",
        item.id,
        {"identity": item.identity, "created": created, "source": source},
        clock=clock,
    )
    if created:
        fire_items_created(session, [item.id])
    return item, created


def new_item(
    identity: ItemIdentity, *, seen: dt.datetime, now: dt.datetime, title: str | None = None
) -> Item:
    return Item(
        identity=identity.identity,
        platform=identity.platform,
        kind=identity.kind.value,
        key=identity.key,
        canonical_url=identity.canonical_url,
        fetch_url=identity.fetch_url,
        parent_identity=identity.parent_identity,
        status=ItemStatus.NEW.value,
        title=title,
        first_seen_at=seen,
        last_seen_at=seen,
        created_at=now,
        status_changed_at=now,
    )


# --- sharing ----------------------------------------------------------------------------------


def share_item(
    session: Session,
    principal: Principal,
    item_id: int,
    with_agency_id: int,
    *,
    clock: Clock | None = None,
) -> ItemShare:
    """Share an item the principal's agency reported with another agency (idempotent).

    Only an agency with its own sighting shares: an item shared with you is not
    yours to pass on.
    """
    require_agency_user(principal, "share items")
    item = get_item(session, principal, item_id)
    if not repository.has_sighting(session, principal.agency_id, item.id):
        raise Forbidden(f"item {item.id} was shared with your agency; only a reporter shares it")
    if with_agency_id == principal.agency_id:
        raise InvalidInput("an agency cannot share an item with itself")
    if session.get(Agency, with_agency_id) is None:
        raise NotFound(f"agency {with_agency_id} does not exist")
    existing = repository.share_of(session, item.id, with_agency_id)
    if existing is not None:
        return existing
    share = ItemShare(
        item_id=item.id,
        agency_id=with_agency_id,
        shared_by_agency_id=principal.agency_id,
        shared_by_user_id=user_id_of(principal),
        created_at=now_of(clock),
    )
    repository.add(session, share)
    record(
        session,
        principal,
        "item.share",
        "item",
        item.id,
        {"with_agency_id": with_agency_id},
        clock=clock,
    )
    return share


# --- what a caller may see of an item ---------------------------------------------------------


@dataclass(frozen=True)
class SightingView:
    """A sighting as the caller may see it: other agencies' show only who and when."""

    agency_id: int
    agency_name: str
    reported_at: dt.datetime
    own: bool
    id: int | None = None
    reported_url: str | None = None
    source: str | None = None
    line_no: int | None = None
    note: str | None = None
    import_id: int | None = None


def sightings_for(session: Session, principal: Principal, item: Item) -> list[SightingView]:
    if principal.is_liaison:
        return []  # platforms see what was referred to them, not who reported it
    out: list[SightingView] = []
    for s, name in repository.sightings_of(session, item.id):
        own = principal.via == "system" or s.agency_id == principal.agency_id
        if own:
            out.append(
                SightingView(
                    s.agency_id,
                    name,
                    s.reported_at,
                    True,
                    s.id,
                    s.reported_url,
                    s.source,
                    s.line_no,
                    s.note,
                    s.import_id,
                )
            )
        else:
            out.append(SightingView(s.agency_id, name, s.reported_at, False))
    return out
