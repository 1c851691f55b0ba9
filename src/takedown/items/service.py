"""Items: lookup under tenant isolation, the status workflow, sharing, holds, assessments.

The stable contract other capabilities use is listed in docs/items.md. Services
take a session and never commit. Anything a caller may not see raises
``NotFound`` (never ``Forbidden``), so the answer does not reveal that an item
exists.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from sqlalchemy.orm import Session

from takedown.accounts.models import Agency
from takedown.accounts.principal import Principal
from takedown.accounts.service import SYSTEM
from takedown.audit.service import record
from takedown.items import repository
from takedown.items.hooks import fire_items_created
from takedown.items.language import suggest_language
from takedown.items.models import (
    Assessment,
    Hold,
    Item,
    ItemShare,
    ItemStatus,
    Sighting,
    TcoCategory,
    Verdict,
)
from takedown.items.repository import ItemFilters
from takedown.kit.clock import Clock, SystemClock
from takedown.kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from takedown.platforms.identity import ItemIdentity, canonicalize

__all__ = [
    "SYSTEM",
    "TRANSITIONS",
    "AssessmentView",
    "HoldView",
    "ItemFilters",
    "SightingView",
    "active_holds",
    "assert_referrable",
    "assess",
    "assessments_for",
    "get_item",
    "holds_for",
    "list_items",
    "place_hold",
    "release_hold",
    "report_url",
    "share_item",
    "sightings_for",
    "suggest_language",
    "transition",
]

S = ItemStatus

#: The status workflow. Moving to the current status is a no-op (re-checks are idempotent).
TRANSITIONS: dict[ItemStatus, frozenset[ItemStatus]] = {
    # "removed" from before a referral: the platform took it down by itself.
    S.NEW: frozenset({S.ASSESSED, S.DISMISSED, S.REMOVED}),
    S.ASSESSED: frozenset({S.REFERRED, S.DISMISSED, S.REMOVED}),
    S.DISMISSED: frozenset({S.ASSESSED, S.REMOVED}),
    S.REFERRED: frozenset({S.REMOVED, S.STILL_ONLINE, S.RESTRICTED}),
    S.STILL_ONLINE: frozenset({S.REMOVED, S.RESTRICTED, S.REFERRED}),
    S.RESTRICTED: frozenset({S.REMOVED, S.STILL_ONLINE, S.REFERRED}),
    S.REMOVED: frozenset({S.REAPPEARED}),
    S.REAPPEARED: frozenset({S.REFERRED, S.REMOVED}),
}

CATEGORY_NAMES: dict[str, TcoCategory] = {
    "incitement": TcoCategory.INCITEMENT,
    "solicitation_commit": TcoCategory.SOLICITATION_COMMIT,
    "solicitation_participate": TcoCategory.SOLICITATION_PARTICIPATE,
    "instruction": TcoCategory.INSTRUCTION,
    "threat": TcoCategory.THREAT,
}
_LANG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
MAX_ATTRIBUTION = 200
MAX_NOTES = 20_000


def _now(clock: Clock | None) -> dt.datetime:
    return (clock or SystemClock()).now()


def _user_id(principal: Principal) -> int | None:
    return principal.user_id if principal.user_id > 0 else None


def no_nul(value: str | None, what: str) -> None:
    """PostgreSQL refuses NUL in text; refuse it at the edge with a clear message instead."""
    if value is not None and "\x00" in value:
        raise InvalidInput(f"{what} contains a NUL character")


def as_utc(value: dt.datetime | None, what: str) -> dt.datetime | None:
    """An aware UTC datetime (naive means UTC); InvalidInput if it cannot be one."""
    if value is None:
        return None
    try:
        value = value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        raise InvalidInput(f"{what} is out of range") from None
    return value


def _require_agency_user(principal: Principal, doing: str) -> None:
    """Writes belong to an agency's analysts; liaisons and the bare system cannot make them."""
    if principal.via == "system" or principal.agency_id <= 0:
        raise InvalidInput(f"{doing} needs a user of an agency to act as")
    if principal.is_liaison:
        raise Forbidden(f"platform liaisons cannot {doing}")


# --- lookup -----------------------------------------------------------------------------------


def get_item(session: Session, principal: Principal, item_id: int) -> Item:
    """The item if ``principal`` may see it; NotFound otherwise (existence is not revealed)."""
    item = repository.visible_item(session, principal, item_id)
    if item is None:
        raise NotFound(f"item {item_id} does not exist")
    return item


def list_items(
    session: Session,
    principal: Principal,
    filters: ItemFilters | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Item], int]:
    """A page of visible items, newest first, and the total matching."""
    f = filters or ItemFilters()
    for what, value in (("q", f.q), ("platform", f.platform), ("kind", f.kind)):
        no_nul(value, what)
    for st in f.status or ():
        no_nul(st, "status")
    f = replace(
        f,
        first_seen_from=as_utc(f.first_seen_from, "first_seen_from"),
        first_seen_to=as_utc(f.first_seen_to, "first_seen_to"),
    )
    return repository.list_items(session, principal, f, limit=limit, offset=offset)


# --- status workflow --------------------------------------------------------------------------


def transition(
    session: Session,
    principal: Principal,
    item: Item,
    new_status: ItemStatus | str,
    *,
    reason: str,
    clock: Clock | None = None,
) -> Item:
    """Move ``item`` to ``new_status`` along ``TRANSITIONS``; Conflict if the move is illegal.

    It does not check visibility: callers got ``item`` from ``get_item`` or act as SYSTEM.
    """
    try:
        target = ItemStatus(new_status)
    except ValueError:
        raise InvalidInput(f"{new_status!r} is not an item status") from None
    current = ItemStatus(item.status)
    if target is current:
        return item
    if target not in TRANSITIONS[current]:
        raise Conflict(f"cannot move item {item.id} from {current.value} to {target.value}")
    now = _now(clock)
    item.status = target.value
    item.status_changed_at = now
    if target is ItemStatus.REFERRED and item.first_referred_at is None:
        item.first_referred_at = now
    session.flush()
    record(
        session,
        principal,
        "item.status",
        "item",
        item.id,
        {"from": current.value, "to": target.value, "reason": reason},
        clock=clock,
    )
    return item


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
    _require_agency_user(principal, "report items")
    for what, value in (("url", url), ("note", note), ("title", title), ("source", source)):
        no_nul(value, what)
    identity = canonicalize(url)
    now = _now(clock)
    seen = as_utc(reported_at, "reported_at") or now
    if seen > now + dt.timedelta(days=1) or seen.year < 2000:
        raise InvalidInput("reported_at must be between 2000 and now")
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
            reported_by=_user_id(principal),
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
    _require_agency_user(principal, "share items")
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
        shared_by_user_id=_user_id(principal),
        created_at=_now(clock),
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


@dataclass(frozen=True)
class AssessmentView:
    """Other agencies' assessments come without the analyst and the notes."""

    assessment: Assessment
    agency_name: str
    own: bool


def assessments_for(session: Session, principal: Principal, item_id: int) -> list[AssessmentView]:
    item = get_item(session, principal, item_id)
    if principal.is_liaison:
        return []
    rows = repository.assessments_of(session, item.id)
    names = repository.agency_names(session, (a.agency_id for a in rows))
    return [
        AssessmentView(
            a,
            names.get(a.agency_id, ""),
            principal.via == "system" or a.agency_id == principal.agency_id,
        )
        for a in rows
    ]


@dataclass(frozen=True)
class HoldView:
    """Other agencies see that a hold exists and whom to call, never the reason."""

    id: int
    agency_id: int
    agency_name: str
    contact_point: str
    created_at: dt.datetime
    own: bool
    reason: str | None = None


def holds_for(session: Session, principal: Principal, item_id: int) -> list[HoldView]:
    item = get_item(session, principal, item_id)
    holds = repository.active_holds(session, item.id)
    names = repository.agency_names(session, (h.agency_id for h in holds))
    out = []
    for h in holds:
        own = principal.via == "system" or h.agency_id == principal.agency_id
        out.append(
            HoldView(
                h.id,
                h.agency_id,
                names.get(h.agency_id, ""),
                h.contact_point,
                h.created_at,
                own,
                h.reason if own else None,
            )
        )
    return out


# --- deconfliction holds ----------------------------------------------------------------------


def place_hold(
    session: Session,
    principal: Principal,
    item_id: int,
    *,
    reason: str,
    contact_point: str | None = None,
    clock: Clock | None = None,
) -> Hold:
    """Put the principal's agency's hold on an item: nobody can refer it until released."""
    _require_agency_user(principal, "place holds")
    no_nul(reason, "reason")
    no_nul(contact_point, "contact_point")
    item = get_item(session, principal, item_id)
    if any(h.agency_id == principal.agency_id for h in repository.active_holds(session, item.id)):
        raise Conflict(f"your agency already holds item {item.id}")
    agency = session.get(Agency, principal.agency_id)
    contact = (contact_point or (agency.contact_point if agency else "")).strip()
    if not contact:
        raise InvalidInput("a hold needs a contact point (the agency has none on record)")
    hold = Hold(
        item_id=item.id,
        agency_id=principal.agency_id,
        reason=reason.strip(),
        contact_point=contact[:320],
        created_by=_user_id(principal),
        created_at=_now(clock),
    )
    repository.add(session, hold)
    record(
        session,
        principal,
        "hold.place",
        "item",
        item.id,
        {"hold_id": hold.id, "contact_point": hold.contact_point},
        clock=clock,
    )
    return hold


def release_hold(
    session: Session,
    principal: Principal,
    item_id: int,
    hold_id: int,
    *,
    clock: Clock | None = None,
) -> Hold:
    """Release a hold; only the holding agency can (others get NotFound)."""
    item = get_item(session, principal, item_id)
    hold = repository.hold_by_id(session, hold_id)
    if (
        hold is None
        or hold.item_id != item.id
        or (principal.via != "system" and hold.agency_id != principal.agency_id)
    ):
        raise NotFound(f"hold {hold_id} on item {item_id} does not exist")
    if hold.released_at is not None:
        raise Conflict(f"hold {hold_id} on item {item_id} is already released")
    hold.released_at = _now(clock)
    hold.released_by = _user_id(principal)
    session.flush()
    record(session, principal, "hold.release", "item", item.id, {"hold_id": hold.id}, clock=clock)
    return hold


def active_holds(session: Session, item_id: int) -> list[Hold]:
    """Every unreleased hold on an item (no visibility check: for referrals and views)."""
    return repository.active_holds(session, item_id)


def assert_referrable(session: Session, item: Item) -> None:
    """Raise Conflict if any agency holds the item, naming the holders' contact points."""
    holds = repository.active_holds(session, item.id)
    if not holds:
        return
    names = repository.agency_names(session, (h.agency_id for h in holds))
    who = "; ".join(f"{names.get(h.agency_id, '?')} (contact: {h.contact_point})" for h in holds)
    raise Conflict(
        f"item {item.id} is on a deconfliction hold by {who}; "
        "ask them to release it before referring",
        holds=[
            {"agency": names.get(h.agency_id, ""), "contact_point": h.contact_point} for h in holds
        ],
    )


# --- assessments ------------------------------------------------------------------------------


def normalize_categories(categories: Iterable[str]) -> list[str]:
    """Letters 'a'..'e' or their names (incitement, ...) -> sorted unique letters."""
    out: set[str] = set()
    for raw in categories:
        c = raw.strip().lower()
        if c in CATEGORY_NAMES:
            out.add(CATEGORY_NAMES[c].value)
            continue
        try:
            out.add(TcoCategory(c.strip("()")).value)
        except ValueError:
            raise InvalidInput(
                f"category {raw!r} is not a TCO Art. 2(7) letter a-e "
                f"or one of {', '.join(CATEGORY_NAMES)}"
            ) from None
    return sorted(out)


def _clean(value: str | None, what: str, limit: int) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    if len(value) > limit:
        raise InvalidInput(f"{what} is longer than {limit} characters")
    return value


def assess(
    session: Session,
    principal: Principal,
    item_id: int,
    verdict: Verdict | str,
    categories: Sequence[str] = (),
    group: str | None = None,
    outlet: str | None = None,
    language: str | None = None,
    notes: str = "",
    *,
    clock: Clock | None = None,
) -> Assessment:
    """Record an agency's assessment and move the item along the workflow.

    A terrorist-content verdict needs at least one Art. 2(7) category (they are the
    reason boxes of a removal order). Before referral, the item is "assessed" while
    any agency's latest verdict is terrorist content, "dismissed" once the latest
    verdicts are all "not terrorist content"; "needs review" changes nothing.
    """
    _require_agency_user(principal, "assess items")
    for what, value in (("group", group), ("outlet", outlet), ("language", language)):
        no_nul(value, what)
    no_nul(notes, "notes")
    for c in categories:
        no_nul(c, "category")
    item = get_item(session, principal, item_id)
    try:
        v = Verdict(verdict)
    except ValueError:
        raise InvalidInput(
            f"verdict {verdict!r} is not one of {', '.join(x.value for x in Verdict)}"
        ) from None
    cats = normalize_categories(categories)
    if v is Verdict.TERRORIST_CONTENT and not cats:
        raise InvalidInput("a terrorist_content verdict needs at least one category (a-e)")
    if v is Verdict.NOT_TERRORIST_CONTENT and cats:
        raise InvalidInput("a not_terrorist_content verdict takes no categories")
    lang = _clean(language, "language", 16)
    if lang is not None:
        lang = lang.lower() if "-" not in lang else lang
        if not _LANG.match(lang):
            raise InvalidInput(f"language {language!r} is not an ISO 639 code (e.g. 'ar', 'ps')")
    if len(notes) > MAX_NOTES:
        raise InvalidInput(f"notes are longer than {MAX_NOTES} characters")
    scores = suggest_language(item.title)
    suggested = scores[0][0] if scores else None
    a = Assessment(
        item_id=item.id,
        agency_id=principal.agency_id,
        analyst_id=_user_id(principal),
        verdict=v.value,
        categories=cats,
        group=_clean(group, "group", MAX_ATTRIBUTION),
        outlet=_clean(outlet, "outlet", MAX_ATTRIBUTION),
        language=lang or suggested,
        language_suggested=suggested,
        language_scores=[[code, score] for code, score in scores],
        notes=notes.strip(),
        created_at=_now(clock),
    )
    repository.add(session, a)
    if a.language and not item.language:
        item.language = a.language
    record(
        session,
        principal,
        "item.assess",
        "item",
        item.id,
        {"assessment_id": a.id, "verdict": v.value, "categories": cats},
        clock=clock,
    )
    _apply_verdicts(session, principal, item, clock=clock)
    return a


def _apply_verdicts(
    session: Session, principal: Principal, item: Item, *, clock: Clock | None
) -> None:
    status = ItemStatus(item.status)
    if status not in (S.NEW, S.ASSESSED, S.DISMISSED):
        return  # after referral, the world decides the status, not the verdicts
    latest: dict[int, str] = {}
    for a in repository.assessments_of(session, item.id):
        if a.verdict != Verdict.NEEDS_REVIEW.value:
            latest[a.agency_id] = a.verdict
    if Verdict.TERRORIST_CONTENT.value in latest.values():
        target = S.ASSESSED
    elif latest:
        target = S.DISMISSED
    else:
        return
    if target is not status:
        transition(session, principal, item, target, reason="assessment", clock=clock)
