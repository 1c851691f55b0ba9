"""Deconfliction holds: "part of our investigation, do not refer".

A held item cannot be referred by anyone, the holder included. Other agencies
see that a hold exists and whom to call, never the reason.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from takedown.accounts.models import Agency
from takedown.accounts.principal import Principal
from takedown.audit.service import record
from takedown.items import repository
from takedown.items.core import get_item, no_nul, now_of, require_agency_user, user_id_of
from takedown.items.models import Hold, Item
from takedown.kit.clock import Clock
from takedown.kit.errors import Conflict, InvalidInput, NotFound


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
    require_agency_user(principal, "place holds")
    no_nul(reason, "reason")
    no_nul(contact_point, "contact_point")
    item = get_item(session, principal, item_id)
    if not reason.strip():
        raise InvalidInput(
            "a hold needs a reason: why must the item not be referred? (only your agency "
            "reads it; others see the hold and whom to contact)"
        )
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
        created_by=user_id_of(principal),
        created_at=now_of(clock),
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
    hold.released_at = now_of(clock)
    hold.released_by = user_id_of(principal)
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


def open_holds_of_my_agency(
    session: Session, principal: Principal, *, limit: int = 5
) -> tuple[list[Hold], int]:
    """The principal's agency's open holds, oldest first (the home page's reminder to
    release those no longer needed), and their number."""
    if principal.agency_id <= 0:
        return [], 0
    return repository.open_holds_of_agency(session, principal.agency_id, limit=limit)
