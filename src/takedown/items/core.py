"""The base of the items services: lookup under tenant isolation and the status workflow.

Anything a caller may not see raises ``NotFound`` (never ``Forbidden``), so the
answer does not reveal that an item exists. ``takedown.items.service`` is the
public face; this module is what its parts share.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from sqlalchemy.orm import Session

from takedown.accounts.principal import Principal
from takedown.audit.service import record
from takedown.items import repository
from takedown.items.models import Item, ItemStatus
from takedown.items.repository import ItemFilters
from takedown.kit.clock import Clock, SystemClock
from takedown.kit.errors import Conflict, Forbidden, InvalidInput, NotFound

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


def now_of(clock: Clock | None) -> dt.datetime:
    return (clock or SystemClock()).now()


def user_id_of(principal: Principal) -> int | None:
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


def require_agency_user(principal: Principal, doing: str) -> None:
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
    now = now_of(clock)
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
