"""Checks on demand: "check this item now", "verify this referral / operation now".

A request only moves its items' next check forward (due now, or when the host's
Retry-After ends if that is later). The checks themselves are the scheduler's: the
same engine with its per-host limits, pacing, Retry-After pauses and retries, run
by a job (``verification.check_request``), and the same rules: a timeout is
``unreachable``, never ``removed``, and a removal still counts only after two
``removed`` checks. So asking again never makes a number less true.

Why a request row rather than "due now" alone: the page that asked shows how far
it got, and the web process that polls may not be the one that asked, nor the
one that checks. Progress is therefore read from the database: the request's
items and the checks recorded for them since the request.

Scopes other than a single item belong to capabilities that import this one
(referrals, operations); they register a resolver here at the composition root
(``bootstrap.wire_hooks``), so this package imports neither.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from takedown.accounts.models import Role
from takedown.accounts.principal import Principal
from takedown.audit.service import record
from takedown.items import service as items_service
from takedown.kit.clock import Clock, SystemClock
from takedown.kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from takedown.verification import repository
from takedown.verification.models import CheckRequest

#: Roles that may ask for checks: those of the verification pages (admins pass as ever).
ROLES = frozenset({Role.ANALYST, Role.SUPERVISOR, Role.ADMIN})
#: Asking again for the same scope while a request is unfinished and younger than this
#: answers with that request: one more click is not one more check of every item.
REUSE_WITHIN = dt.timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Scope:
    """What a scope id stands for: a label for people, and the items in it."""

    label: str
    item_ids: list[int]


#: (session, principal, scope id) -> Scope; raises NotFound for what the principal may
#: not see, exactly as the capability's own routes do.
ScopeResolver = Callable[[Session, Principal, int], Scope]
SCOPES: dict[str, ScopeResolver] = {}


def register_scope(name: str, resolver: ScopeResolver) -> None:
    existing = SCOPES.get(name)
    if existing is not None and existing is not resolver:
        raise ValueError(f"two scopes named {name!r}")
    SCOPES[name] = resolver


def _item_scope(session: Session, principal: Principal, item_id: int) -> Scope:
    item = items_service.get_item(session, principal, item_id)
    return Scope(f"item {item.id}", [item.id])


register_scope("item", _item_scope)


@dataclass(frozen=True, slots=True)
class Progress:
    """How far a request got, from the checks recorded since it was made."""

    total: int
    outcomes: dict[str, int] = field(default_factory=dict)  # latest check per item
    held: int = 0  # not checked yet: the host asked us to wait (Retry-After)
    held_until: dt.datetime | None = None
    running: int = 0  # not checked yet: a run holds them now (leased, renewed while alive)
    running_until: dt.datetime | None = None
    queued: int = 0  # not checked yet: due, and no run has taken them

    @property
    def checked(self) -> int:
        return sum(self.outcomes.values())

    @property
    def pending(self) -> int:
        return max(0, self.total - self.checked)

    @property
    def finished(self) -> bool:
        return self.checked >= self.total


def _require_role(principal: Principal) -> None:
    if principal.via == "system" or principal.role not in ROLES:
        raise Forbidden("checks on demand are for analysts, supervisors and administrators")


def get_request(session: Session, principal: Principal, request_id: int) -> CheckRequest:
    """A request of the principal's agency (NotFound for anyone else)."""
    row = repository.get_request(session, request_id)
    if row is None or (principal.via != "system" and row.agency_id != principal.agency_id):
        raise NotFound(f"check request {request_id} does not exist")
    return row


def progress(session: Session, row: CheckRequest, *, clock: Clock | None = None) -> Progress:
    now = (clock or SystemClock()).now()
    outcomes = repository.request_outcomes(session, row.id, row.requested_at)
    held, until = (0, None)
    running, running_until, queued = (0, None, 0)
    if sum(outcomes.values()) < row.items:
        held, until = repository.request_held(session, row.id, row.requested_at, now)
        running, running_until, queued = repository.request_waiting(
            session, row.id, row.requested_at, now
        )
    return Progress(
        total=row.items, outcomes=outcomes, held=held, held_until=until,
        running=running, running_until=running_until, queued=queued,
    )  # fmt: skip


def request_checks(
    session: Session,
    principal: Principal,
    scope: str,
    scope_id: int,
    *,
    clock: Clock | None = None,
) -> CheckRequest:
    """Ask for the items of ``scope`` to be checked now; audited. Only items the principal
    may see and that are under verification (referred) are asked for; ``skipped`` counts
    the others. The caller enqueues ``verification.check_request`` once this commits."""
    _require_role(principal)
    resolver = SCOPES.get(scope)
    if resolver is None:
        raise InvalidInput(f"unknown scope {scope!r}: use one of {', '.join(sorted(SCOPES))}")
    found = resolver(session, principal, scope_id)
    clock = clock or SystemClock()
    now = clock.now()
    previous = repository.latest_request(session, principal.agency_id, scope, scope_id)
    if (
        previous is not None
        and now - previous.requested_at < REUSE_WITHIN
        and not progress(session, previous, clock=clock).finished
    ):
        return previous
    ids = repository.visible_ids(session, principal, sorted(set(found.item_ids)))
    under = repository.scheduled_ids(session, ids)
    if not under:
        raise Conflict(
            f"nothing to check: none of the {len(ids)} item(s) of {found.label} is under "
            "verification (checks start once a referral is delivered)"
        )
    row = CheckRequest(
        agency_id=principal.agency_id,
        requested_by=principal.user_id or None,
        requested_at=now,
        scope=scope,
        scope_id=scope_id,
        label=found.label[:300],
        items=len(under),
        skipped=len(ids) - len(under),
    )
    repository.add_request(session, row, under)
    repository.mark_requested(session, row.id, now)
    record(
        session,
        principal,
        "verification.request",
        "check_request",
        row.id,
        {"scope": scope, "scope_id": scope_id, "items": row.items, "skipped": row.skipped},
        clock=clock,
    )
    return row
