"""Operations: create and run them, gather their items, and decide who sees what.

Tenant isolation: an operation exists, for an agency, only if the agency takes
part in it (anything else answers NotFound). An agency adds only items it
reported itself (its own sighting): joining an operation shares the item with
the operation's participants, and an item shared with you is not yours to pass
on (the same rule as ``items.service.share_item``). The sharing is a visibility
rule registered with the items capability, so a participant who joins late sees
the whole set, and nobody outside the operation sees any of it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import IO, Any

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from takedown.accounts.models import Agency
from takedown.accounts.principal import Principal
from takedown.audit.service import record
from takedown.items import repository as items_repository
from takedown.items.models import Hold, Item, ItemStatus
from takedown.kit.clock import Clock, SystemClock
from takedown.kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from takedown.operations import repository
from takedown.operations.models import (
    JoinedVia,
    Operation,
    OperationKind,
    OperationParticipant,
    OperationStatus,
    ParticipantRole,
)

MAX_QUERY_ITEMS = 100_000
TARGET_KEYS = ("groups", "outlets", "platforms")
NEXT_STATUS = {
    OperationStatus.PLANNED: OperationStatus.RUNNING,
    OperationStatus.RUNNING: OperationStatus.CLOSED,
}


def _now(clock: Clock | None) -> dt.datetime:
    return (clock or SystemClock()).now()


def _uid(principal: Principal) -> int | None:
    return principal.user_id if principal.user_id > 0 else None


# --- visibility (registered with items) -------------------------------------------------------


def operation_visibility(principal: Principal) -> ColumnElement[bool] | None:
    """Participants see every item of their operations; liaisons and the system are unaffected."""
    if principal.via == "system" or principal.is_liaison or principal.agency_id <= 0:
        return None
    return repository.shared_with(principal.agency_id)


items_repository.register_visibility(operation_visibility)


# --- operations -------------------------------------------------------------------------------


def _clean_targets(targets: dict[str, Sequence[str]] | None) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {k: [] for k in TARGET_KEYS}
    for key, values in (targets or {}).items():
        if key not in TARGET_KEYS:
            raise InvalidInput(f"target {key!r} is not one of {', '.join(TARGET_KEYS)}")
        for v in values:
            v = str(v).strip()
            if not v or len(v) > 200:
                raise InvalidInput(f"target {key} entries must be 1-200 characters")
            if v not in out[key]:
                out[key].append(v)
    return out


def create_operation(
    session: Session,
    principal: Principal,
    *,
    name: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime | None = None,
    kind: str = OperationKind.ACTION_DAY.value,
    targets: dict[str, Sequence[str]] | None = None,
    notes: str = "",
    participants: Iterable[tuple[int, str]] = (),
    clock: Clock | None = None,
) -> Operation:
    """Create an operation led by the principal's agency (a supervisor's decision)."""
    if principal.agency_id <= 0 or principal.is_liaison:
        raise Forbidden("an operation is led by an agency's supervisor")
    if not principal.is_supervisor:
        raise Forbidden("creating an operation needs the role supervisor")
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidInput("an operation needs a name of 1-200 characters")
    if starts_at.tzinfo is None or (ends_at is not None and ends_at.tzinfo is None):
        raise InvalidInput("times must carry a time zone (use UTC)")
    if ends_at is not None and ends_at <= starts_at:
        raise InvalidInput("the operation must end after it starts")
    try:
        kind = OperationKind(kind).value
    except ValueError:
        raise InvalidInput(f"kind {kind!r} is not one of action_day, campaign") from None
    now = _now(clock)
    op = Operation(
        name=name,
        kind=kind,
        lead_agency_id=principal.agency_id,
        status=OperationStatus.PLANNED.value,
        starts_at=starts_at,
        ends_at=ends_at,
        targets=_clean_targets(targets),
        notes=notes.strip(),
        created_by=_uid(principal),
        created_at=now,
    )
    repository.add(session, op)
    repository.add(
        session,
        OperationParticipant(
            operation_id=op.id,
            agency_id=principal.agency_id,
            role=ParticipantRole.LEAD.value,
            joined_at=now,
        ),
    )
    record(session, principal, "operation.create", "operation", op.id, {"name": name}, clock=clock)
    for agency_id, role in participants:
        add_participant(session, principal, op.id, agency_id, role, clock=clock)
    return op


def get_operation(session: Session, principal: Principal, operation_id: int) -> Operation:
    """The operation if the principal's agency takes part (NotFound otherwise)."""
    op = repository.operation_by_id(session, operation_id)
    if op is None:
        raise NotFound(f"operation {operation_id} does not exist")
    if principal.via == "system":
        return op
    if principal.is_liaison or repository.participant(session, op.id, principal.agency_id) is None:
        raise NotFound(f"operation {operation_id} does not exist")
    return op


def role_in(session: Session, principal: Principal, op: Operation) -> ParticipantRole | None:
    if principal.via == "system":
        return ParticipantRole.LEAD
    p = repository.participant(session, op.id, principal.agency_id)
    return ParticipantRole(p.role) if p else None


def _require_lead(session: Session, principal: Principal, op: Operation, doing: str) -> None:
    if role_in(session, principal, op) is not ParticipantRole.LEAD:
        raise Forbidden(f"only the lead agency can {doing}")
    if principal.via != "system" and not principal.is_supervisor:
        raise Forbidden(f"{doing} needs the role supervisor")


def list_operations(
    session: Session, principal: Principal, *, limit: int = 50, offset: int = 0
) -> tuple[list[Operation], int]:
    if principal.is_liaison:
        return [], 0
    agency = None if principal.via == "system" else principal.agency_id
    return repository.operations_of_agency(session, agency, limit=limit, offset=offset)


def participants(
    session: Session, principal: Principal, operation_id: int
) -> list[tuple[OperationParticipant, Agency]]:
    """Who takes part (with their agency, for its name and country), lead first."""
    op = get_operation(session, principal, operation_id)
    return repository.participants_of(session, op.id)


MAX_CANDIDATES = 500


def participant_candidates(session: Session, principal: Principal, op: Operation) -> list[Agency]:
    """Agencies the principal could add to the operation (none unless it may manage it)."""
    if not may_manage(session, principal, op):
        return []
    return repository.candidate_agencies(session, op.id, limit=MAX_CANDIDATES)


def may_manage(session: Session, principal: Principal, op: Operation) -> bool:
    """Whether the principal may add participants and move the status (the lead's supervisor)."""
    try:
        _require_lead(session, principal, op, "manage the operation")
    except Forbidden:
        return False
    return True


def may_contribute(session: Session, principal: Principal, op: Operation) -> bool:
    """Whether the principal may add its agency's items to the operation now."""
    try:
        _contributor(session, principal, op)
    except (Forbidden, InvalidInput, Conflict, NotFound):
        return False
    return True


def add_participant(
    session: Session,
    principal: Principal,
    operation_id: int,
    agency_id: int,
    role: str = ParticipantRole.PARTICIPANT.value,
    *,
    clock: Clock | None = None,
) -> OperationParticipant:
    op = get_operation(session, principal, operation_id)
    _require_lead(session, principal, op, "add participants")
    try:
        r = ParticipantRole(role)
    except ValueError:
        raise InvalidInput(f"role {role!r} is not one of participant, observer") from None
    if r is ParticipantRole.LEAD:
        raise InvalidInput("an operation has one lead agency")
    agency = repository.agency_by_id(session, agency_id)
    if agency is None:
        raise NotFound(f"agency {agency_id} does not exist")
    if agency.kind == "platform":
        raise InvalidInput("a platform is not a participant; it receives the referrals")
    existing = repository.participant(session, op.id, agency_id)
    if existing is not None:
        if existing.role == ParticipantRole.LEAD.value:
            raise Conflict("the lead agency already takes part")
        if existing.role != r.value:
            existing.role = r.value
            session.flush()
        return existing
    p = OperationParticipant(
        operation_id=op.id, agency_id=agency_id, role=r.value, joined_at=_now(clock)
    )
    repository.add(session, p)
    record(
        session,
        principal,
        "operation.participant",
        "operation",
        op.id,
        {"agency_id": agency_id, "role": r.value},
        clock=clock,
    )
    return p


def set_status(
    session: Session,
    principal: Principal,
    operation_id: int,
    status: str,
    *,
    clock: Clock | None = None,
) -> Operation:
    """planned -> running -> closed, one step at a time, by the lead agency."""
    op = get_operation(session, principal, operation_id)
    _require_lead(session, principal, op, "change the operation's status")
    try:
        target = OperationStatus(status)
    except ValueError:
        raise InvalidInput(f"status {status!r} is not one of planned, running, closed") from None
    current = OperationStatus(op.status)
    if target is current:
        return op
    if NEXT_STATUS.get(current) is not target:
        raise Conflict(
            f"an operation moves planned -> running -> closed, not {current} -> {target}"
        )
    now = _now(clock)
    op.status = target.value
    if target is OperationStatus.RUNNING:
        op.started_at = now
    else:
        op.closed_at = now
    session.flush()
    record(
        session,
        principal,
        "operation.status",
        "operation",
        op.id,
        {"from": current.value, "to": target.value},
        clock=clock,
    )
    return op


# --- items ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AddResult:
    requested: int
    added: int  # new contributions credited to the agency
    already: int  # the agency had already contributed these


def _contributor(session: Session, principal: Principal, op: Operation) -> None:
    if principal.via == "system" or principal.agency_id <= 0 or principal.is_liaison:
        raise InvalidInput("items join an operation on behalf of an agency's user")
    role = role_in(session, principal, op)
    if role is None:
        raise NotFound(f"operation {op.id} does not exist")
    if role is ParticipantRole.OBSERVER:
        raise Forbidden("observers do not contribute items")
    if op.status == OperationStatus.CLOSED.value:
        raise Conflict(f"operation {op.id} is closed")


def _credit(
    session: Session,
    principal: Principal,
    op: Operation,
    item_ids: Sequence[int],
    via: JoinedVia,
    *,
    import_id: int | None = None,
    clock: Clock | None = None,
) -> AddResult:
    now = _now(clock)
    added = repository.insert_members(
        session,
        op.id,
        principal.agency_id,
        item_ids,
        via=via.value,
        at=now,
        added_by=_uid(principal),
        import_id=import_id,
    )
    record(
        session,
        principal,
        "operation.items",
        "operation",
        op.id,
        {"via": via.value, "requested": len(item_ids), "added": added, "import_id": import_id},
        clock=clock,
    )
    return AddResult(len(set(item_ids)), added, len(set(item_ids)) - added)


def add_items(
    session: Session,
    principal: Principal,
    operation_id: int,
    item_ids: Sequence[int],
    *,
    clock: Clock | None = None,
) -> AddResult:
    """Add items one by one: each must be one the agency reported itself."""
    op = get_operation(session, principal, operation_id)
    _contributor(session, principal, op)
    ids = list(dict.fromkeys(item_ids))
    own = repository.own_item_ids(session, principal.agency_id, ids)
    for item_id in ids:
        if item_id in own:
            continue
        # Not reported by this agency: visible (shared) items are refused, others do not exist.
        if items_repository.visible_item(session, principal, item_id) is None:
            raise NotFound(f"item {item_id} does not exist")
        raise Forbidden(f"item {item_id} was shared with your agency; only a reporter adds it")
    return _credit(session, principal, op, ids, JoinedVia.SINGLE, clock=clock)


def add_import(
    session: Session,
    principal: Principal,
    operation_id: int,
    import_id: int,
    *,
    clock: Clock | None = None,
) -> AddResult:
    """Credit every item of one of the agency's imports to the operation."""
    op = get_operation(session, principal, operation_id)
    _contributor(session, principal, op)
    job = items_repository.import_job(session, import_id)
    if job is None or job.agency_id != principal.agency_id:
        raise NotFound(f"import {import_id} does not exist")
    ids = repository.item_ids_of_import(session, import_id)
    return _credit(session, principal, op, ids, JoinedVia.IMPORT, import_id=import_id, clock=clock)


def import_into(
    session: Session,
    principal: Principal,
    operation_id: int,
    stream: IO[bytes],
    *,
    filename: str,
    format: str | None = None,
    clock: Clock | None = None,
) -> tuple[Any, AddResult]:
    """Import a file (items' intake, same transaction) and credit its items to the operation."""
    from takedown.items import intake

    op = get_operation(session, principal, operation_id)
    _contributor(session, principal, op)
    job = intake.import_stream(
        session, principal, stream, filename=filename, format=format, clock=clock
    )
    return job, add_import(session, principal, operation_id, job.id, clock=clock)


@dataclass(frozen=True)
class ItemQuery:
    status: Sequence[str] = ()
    platform: str | None = None
    kind: str | None = None
    q: str | None = None  # substring of the canonical URL
    label: str | None = None  # an assessment's group or outlet (exact, case-insensitive)


def add_by_query(
    session: Session,
    principal: Principal,
    operation_id: int,
    query: ItemQuery,
    *,
    clock: Clock | None = None,
) -> AddResult:
    """Add the agency's own items matching a query (status, platform, kind, URL, label)."""
    op = get_operation(session, principal, operation_id)
    _contributor(session, principal, op)
    valid = {s.value for s in ItemStatus}
    for s in query.status:
        if s not in valid:
            raise InvalidInput(f"status {s!r} is not an item status")
    if not (query.status or query.platform or query.kind or query.q or query.label):
        raise InvalidInput("a query needs at least one of status, platform, kind, q, label")
    ids = repository.item_ids_matching(
        session,
        principal.agency_id,
        status=query.status,
        platform=query.platform,
        kind=query.kind,
        url_contains=query.q,
        label=query.label,
        limit=MAX_QUERY_ITEMS + 1,
    )
    if len(ids) > MAX_QUERY_ITEMS:
        raise InvalidInput(f"the query matches more than {MAX_QUERY_ITEMS} items; narrow it")
    return _credit(session, principal, op, ids, JoinedVia.QUERY, clock=clock)


def list_items(
    session: Session,
    principal: Principal,
    operation_id: int,
    *,
    platform: str | None = None,
    status: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[tuple[Item, int]], int]:
    op = get_operation(session, principal, operation_id)
    return repository.list_members(
        session, op.id, platform=platform, status=status, limit=limit, offset=offset
    )


@dataclass(frozen=True)
class HeldItem:
    item: Item
    hold: Hold
    requests: int  # referral entries the hold blocked (somebody asked to refer it)


def held_items(session: Session, principal: Principal, operation_id: int) -> list[HeldItem]:
    """The principal's agency's holds on the operation's items, with blocked requests."""
    op = get_operation(session, principal, operation_id)
    holder = None if principal.via == "system" else principal.agency_id
    return [HeldItem(i, h, n) for i, h, n in repository.held_items(session, op.id, holder)]


def referrable_by_platform(
    session: Session, principal: Principal, operation_id: int
) -> dict[str, list[int]]:
    """The operation's items ready for a referral (assessed, or back online), per platform."""
    op = get_operation(session, principal, operation_id)
    statuses = [ItemStatus.ASSESSED.value, ItemStatus.REAPPEARED.value]
    return repository.member_ids_by_platform(session, op.id, statuses)


# --- referrals for the whole operation --------------------------------------------------------


def refer(
    session: Session,
    principal: Principal,
    operation_id: int,
    *,
    kind: str = "tos",
    platforms: Sequence[str] = (),
    reasons: Sequence[str] = (),
    justification: str = "",
    emergency: bool = False,
    clock: Clock | None = None,
) -> list[Any]:
    """Draft one referral batch per platform for the operation's ready items (the lead's job).

    The referrals capability applies its own rules (holds, duplicates, approval);
    this only gathers the operation's assessed or reappeared items.
    """
    from takedown.referrals import service as referrals

    op = get_operation(session, principal, operation_id)
    if role_in(session, principal, op) is not ParticipantRole.LEAD:
        raise Forbidden("only the lead agency refers the whole operation")
    if op.status == OperationStatus.CLOSED.value:
        raise Conflict(f"operation {op.id} is closed")
    ready = referrable_by_platform(session, principal, operation_id)
    wanted = set(platforms)
    ids = [i for p, ids in ready.items() if not wanted or p in wanted for i in ids]
    if not ids:
        raise InvalidInput("no item of the operation is ready for a referral on these platforms")
    results = referrals.create_batches(
        session,
        principal,
        item_ids=ids,
        kind=kind,
        reasons=reasons,
        justification=justification,
        emergency=emergency,
        clock=clock,
    )
    record(
        session,
        principal,
        "operation.refer",
        "operation",
        op.id,
        {"kind": kind, "referrals": [r.referral.id for r in results], "items": len(ids)},
        clock=clock,
    )
    return results
