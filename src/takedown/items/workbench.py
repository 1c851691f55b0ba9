"""The analyst's workbench services: the queue's rows, saved filters, bulk triage.

The HTML pages (``items.views``) call these; like every service they take a
session and never commit. Bulk actions run each item through the single-item
service (``assess``, ``place_hold``), so the workflow, holds and audit trail are
exactly those of the API (each item is audited there); an item that cannot take
the action is reported, not fatal, and leaves no half change (each runs in a savepoint).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode

from sqlalchemy.orm import Session

from takedown.accounts.principal import Principal
from takedown.items import repository
from takedown.items.assessments import assess
from takedown.items.core import get_item, list_items, no_nul, now_of, require_agency_user
from takedown.items.holds import place_hold
from takedown.items.models import ImportJob, Item, SavedFilter, Sighting
from takedown.items.repository import ItemFilters
from takedown.kit.clock import Clock
from takedown.kit.errors import Conflict, Forbidden, InvalidInput, NotFound

MAX_BULK = 500
MAX_FILTERS = 50
FILTER_KEYS = ("status", "platform", "kind", "operation", "label", "match", "q")


# --- the queue ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueRow:
    item: Item
    held: bool
    verdict: str | None  # the caller's agency's latest verdict


def queue(
    session: Session, principal: Principal, filters: ItemFilters, *, limit: int, offset: int
) -> tuple[list[QueueRow], int]:
    """A page of the queue; holds and verdicts come in one query each for the whole page."""
    items, total = list_items(session, principal, filters, limit, offset)
    ids = [i.id for i in items]
    held = repository.held_item_ids(session, ids)
    verdicts = repository.latest_verdicts(session, principal.agency_id, ids)
    return [QueueRow(i, i.id in held, verdicts.get(i.id)) for i in items], total


def parent_of(session: Session, principal: Principal, item: Item) -> Item | None:
    """The item's parent (the account of a post...), if the caller may see it."""
    if not item.parent_identity:
        return None
    parent = repository.item_by_identity(session, item.parent_identity)
    if parent is None:
        return None
    return repository.visible_item(session, principal, parent.id)


# --- imports -----------------------------------------------------------------------------------


def get_import(session: Session, principal: Principal, import_id: int) -> ImportJob:
    """One of the agency's imports; NotFound for anyone else's."""
    job = repository.import_job(session, import_id)
    if job is None or (principal.via != "system" and job.agency_id != principal.agency_id):
        raise NotFound(f"import {import_id} does not exist")
    return job


def recent_imports(session: Session, principal: Principal, limit: int = 10) -> list[ImportJob]:
    if principal.agency_id <= 0:
        return []
    return repository.import_jobs_of(session, principal.agency_id, limit=limit)


def folded_of(
    session: Session, principal: Principal, job: ImportJob, limit: int, offset: int
) -> tuple[list[tuple[Sighting, Item]], int]:
    """The rows of ``job`` that became sightings of an item that already existed."""
    get_import(session, principal, job.id)
    return repository.folded_sightings(session, job, limit=limit, offset=offset)


# --- saved filters ------------------------------------------------------------------------------


def clean_query(query: str) -> str:
    """Keep only the queue's filter parameters (never page numbers or stray fields)."""
    pairs = [(k, v) for k, v in parse_qsl(query.lstrip("?")) if k in FILTER_KEYS and v.strip()]
    return urlencode(pairs)


def list_filters(session: Session, principal: Principal) -> list[SavedFilter]:
    if principal.user_id <= 0:
        return []
    return repository.saved_filters_of(session, principal.user_id, limit=MAX_FILTERS)


def save_filter(
    session: Session, principal: Principal, name: str, query: str, *, clock: Clock | None = None
) -> SavedFilter:
    """Save (or overwrite, by name) one of the user's queue filters."""
    require_agency_user(principal, "save filters")
    name = name.strip()
    no_nul(name, "name")
    no_nul(query, "query")
    if not name:
        raise InvalidInput("name: give the filter a name")
    if len(name) > 100:
        raise InvalidInput("name: at most 100 characters")
    cleaned = clean_query(query)
    if len(cleaned) > 2000:
        raise InvalidInput("the filter is too long to save")
    existing = repository.saved_filter_named(session, principal.user_id, name)
    if existing is not None:
        existing.query = cleaned
        session.flush()
        return existing
    if len(repository.saved_filters_of(session, principal.user_id, limit=MAX_FILTERS)) >= (
        MAX_FILTERS
    ):
        raise Conflict(f"you have {MAX_FILTERS} saved filters; delete one first")
    row = SavedFilter(
        user_id=principal.user_id,
        agency_id=principal.agency_id,
        name=name,
        query=cleaned,
        created_at=now_of(clock),
    )
    repository.add(session, row)
    return row


def delete_filter(session: Session, principal: Principal, filter_id: int) -> None:
    row = repository.saved_filter(session, principal.user_id, filter_id)
    if row is None:
        raise NotFound(f"saved filter {filter_id} does not exist")
    repository.delete(session, row)


# --- bulk triage --------------------------------------------------------------------------------


@dataclass
class BulkResult:
    done: list[int] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)

    def summary(self, verb: str) -> str:
        text = f"{verb} {len(self.done)} item{'s' if len(self.done) != 1 else ''}."
        if self.failed:
            shown = "; ".join(f"item {i}: {why}" for i, why in self.failed[:5])
            more = f" (and {len(self.failed) - 5} more)" if len(self.failed) > 5 else ""
            text += f" {len(self.failed)} could not be: {shown}{more}."
        return text


def parse_ids(raw: Sequence[str]) -> list[int]:
    ids: list[int] = []
    for value in raw:
        if not value.strip().isdigit() or not 0 < int(value) < 2**31:
            raise InvalidInput(f"item id {value[:20]!r} is not a number")
        ids.append(int(value))
    ids = list(dict.fromkeys(ids))
    if not ids:
        raise InvalidInput("select at least one item")
    if len(ids) > MAX_BULK:
        raise InvalidInput(f"at most {MAX_BULK} items at a time")
    return ids


def _each(
    session: Session, principal: Principal, ids: Sequence[int], act: Callable[[int], object]
) -> BulkResult:
    result = BulkResult()
    for item_id in ids:
        # Visibility first: an item the caller may not see fails the whole request as
        # NotFound, the same answer as for an id that does not exist.
        get_item(session, principal, item_id)
        try:
            with session.begin_nested():
                act(item_id)
        except (InvalidInput, Conflict, Forbidden) as exc:
            result.failed.append((item_id, exc.detail))
        else:
            result.done.append(item_id)
    return result


def bulk_assess(
    session: Session,
    principal: Principal,
    ids: Sequence[int],
    verdict: str,
    categories: Sequence[str] = (),
    *,
    clock: Clock | None = None,
) -> BulkResult:
    """The same verdict and categories for every selected item."""
    require_agency_user(principal, "assess items")
    result = _each(
        session,
        principal,
        ids,
        lambda i: assess(session, principal, i, verdict, categories, clock=clock),
    )
    return result


def bulk_hold(
    session: Session,
    principal: Principal,
    ids: Sequence[int],
    *,
    reason: str,
    contact_point: str | None = None,
    clock: Clock | None = None,
) -> BulkResult:
    require_agency_user(principal, "place holds")
    result = _each(
        session,
        principal,
        ids,
        lambda i: place_hold(
            session, principal, i, reason=reason, contact_point=contact_point, clock=clock
        ),
    )
    return result
