"""Reading what an agency may share, as facts, through the other capabilities' services.

Only the agency's own data goes: its own sightings (when, never the reporter's notes or
the URL as reported), its latest own assessment, its own hold's contact point, its own
banks' enabled signals, and operations it can see with only the totals and its own
items. Another agency's sighting of the same item, shared with us on this instance, is
never passed on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator

from sqlalchemy.orm import Session

from takedown.accounts.models import Agency
from takedown.accounts.principal import Principal
from takedown.items import repository as items_repository
from takedown.items import service as items
from takedown.items.models import Item
from takedown.kit.errors import Forbidden, NotFound
from takedown.matching import repository as matching_repository
from takedown.matching import service as matching
from takedown.matching.models import DERIVED_TYPES, Signal
from takedown.sharing.facts import (
    AssessmentFact,
    ItemFact,
    MediaFact,
    OperationFact,
    Producer,
    SightingFact,
    SignalFact,
)
from takedown.sharing.tlp import Tlp, parse_tlp, strictest


def producer(session: Session, agency_id: int) -> Producer:
    agency = session.get(Agency, agency_id)
    if agency is None:
        raise NotFound(f"no agency {agency_id}")
    return Producer(agency.name, agency.country, agency.contact_point)


def own_item(session: Session, principal: Principal, item_id: int) -> Item:
    """An item the agency reported itself (an item shared with it is not its to pass on)."""
    item = items.get_item(session, principal, item_id)
    if not items_repository.has_sighting(session, principal.agency_id, item.id):
        raise Forbidden(f"item {item.id} was shared with your agency; only a reporter shares it")
    return item


def item_fact(
    session: Session, principal: Principal, item: Item, tlp: Tlp, *, include_hold: bool = False
) -> ItemFact:
    sightings = tuple(
        SightingFact(s.id, s.reported_at)
        for s in items.sightings_for(session, principal, item)
        if s.own and s.id is not None
    )
    own = [a.assessment for a in items.assessments_for(session, principal, item.id) if a.own]
    latest = max(own, key=lambda a: (a.created_at, a.id)) if own else None
    assessment = (
        AssessmentFact(
            verdict=latest.verdict,
            categories=tuple(latest.categories or ()),
            group=latest.group,
            outlet=latest.outlet,
            language=latest.language,
            assessed_at=latest.created_at,
        )
        if latest
        else None
    )
    hold = None
    if include_hold:
        for h in items.holds_for(session, principal, item.id):
            if h.own:
                hold = h.contact_point
    return ItemFact(
        identity=item.identity,
        platform=item.platform,
        kind=item.kind,
        key=item.key,
        canonical_url=item.canonical_url,
        first_seen_at=item.first_seen_at,
        last_seen_at=item.last_seen_at,
        status=item.status,
        status_changed_at=item.status_changed_at,
        tlp=tlp,
        parent_identity=item.parent_identity,
        title=item.title,
        first_referred_at=item.first_referred_at,
        sightings=sightings,
        assessment=assessment,
        hold_contact_point=hold,
    )


# --- banks ------------------------------------------------------------------------------------


def own_bank_tlp(session: Session, principal: Principal, bank_id: int) -> Tlp:
    bank = matching.get_bank(session, principal, bank_id)
    if principal.via != "system" and bank.agency_id != principal.agency_id:
        raise Forbidden("only the agency that owns a bank shares it")
    return parse_tlp(bank.tlp)


def _group_key(sig: Signal) -> tuple[object, ...]:
    return (sig.source, sig.item_id, sig.external_id, repr(sorted((sig.labels or {}).items())))


def _media_groups(signals: Iterable[Signal]) -> Iterator[list[Signal]]:
    """Signals that came from one piece of media, together: consecutive signals (by id)
    with the same source, item, external id and labels, added within a second, one of
    each (type, variant). Anything else starts a new group."""
    group: list[Signal] = []
    for sig in signals:
        if group:
            head = group[0]
            same = (
                _group_key(sig) == _group_key(head)
                and abs((sig.created_at - head.created_at).total_seconds()) <= 1.0
            )
            slot_free = all(
                (g.signal_type, g.variant) != (sig.signal_type, sig.variant) for g in group
            )
            if not (same and slot_free):
                yield group
                group = []
        group.append(sig)
    if group:
        yield group


def bank_media(session: Session, principal: Principal, bank_id: int) -> Iterator[MediaFact]:
    """The bank's enabled signals, grouped per piece of media, each with its marking (the
    strictest of its signals' own markings and the bank's)."""
    bank = matching.get_bank(session, principal, bank_id)
    # Derived signals (the inner-region PDQ of an image) are this instance's own matching
    # aid, computed from pixels it holds: never shared (STIX x_pdq, MISP).
    signals = (
        s
        for s in matching_repository.iter_bank_signals(session, bank.id)
        if s.enabled and s.signal_type not in DERIVED_TYPES
    )
    for group in _media_groups(signals):
        head = group[0]
        yield MediaFact(
            key=f"{bank.id}:{head.id}",
            bank=bank.name,
            signals=tuple(SignalFact(s.signal_type, s.value, s.variant) for s in group),
            tlp=strictest(*(s.tlp or bank.tlp for s in group)),
            labels=dict(head.labels or {}),
            source=head.source,
            created_at=head.created_at,
            updated_at=max(s.updated_at for s in group),
        )


def bank_changed_since(session: Session, bank_id: int, since: dt.datetime | None) -> bool:
    from takedown.sharing import repository

    latest = repository.bank_latest_update(session, bank_id)
    return since is None or (latest is not None and latest > since)


# --- operations -------------------------------------------------------------------------------


def operation_fact(
    session: Session, principal: Principal, operation_id: int, tlp: Tlp, now: dt.datetime
) -> tuple[OperationFact, list[Item]]:
    """The operation's totals, and the items in it that the agency reported itself."""
    from takedown.operations import metrics
    from takedown.operations import service as operations

    op = operations.get_operation(session, principal, operation_id)
    totals = metrics.compute(session, op, now).data["totals"]
    own: list[Item] = []
    offset = 0
    while True:
        rows, total = operations.list_items(session, principal, op.id, limit=500, offset=offset)
        own += [
            item
            for item, _ in rows
            if items_repository.has_sighting(session, principal.agency_id, item.id)
        ]
        offset += len(rows)
        if not rows or offset >= total:
            break
    fact = OperationFact(
        id=op.id,
        name=op.name,
        starts_at=op.starts_at,
        ends_at=op.ends_at,
        status=op.status,
        totals=dict(totals),
        item_identities=tuple(i.identity for i in own),
        tlp=tlp,
        published_at=now,
    )
    return fact, own
