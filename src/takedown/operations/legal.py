"""Legal events an authority counts in its TCO Art. 8 report (scrutiny, Art. 5, review,
penalties): recorded by the authority's supervisors, visible to the authority only."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from sqlalchemy.orm import Session

from takedown.accounts.principal import Principal
from takedown.audit.service import record
from takedown.kit.clock import Clock, SystemClock
from takedown.kit.errors import Forbidden, InvalidInput, NotFound
from takedown.operations import repository
from takedown.operations.models import LEGAL_OUTCOMES, LegalEvent, LegalEventKind


def _uid(principal: Principal) -> int | None:
    return principal.user_id if principal.user_id > 0 else None


def record_legal_event(
    session: Session,
    principal: Principal,
    *,
    kind: str,
    outcome: str,
    occurred_at: dt.datetime,
    platform: str | None = None,
    referral_id: int | None = None,
    amount_eur: str | float | Decimal | None = None,
    reference: str = "",
    notes: str = "",
    clock: Clock | None = None,
) -> LegalEvent:
    """Record a scrutiny, exposure, specific-measures, review or penalty decision."""
    if principal.agency_id <= 0 or principal.is_liaison:
        raise Forbidden("legal events are recorded by a competent authority's supervisor")
    if not principal.is_supervisor:
        raise Forbidden("recording legal events needs the role supervisor")
    try:
        k = LegalEventKind(kind)
    except ValueError:
        raise InvalidInput(
            f"kind {kind!r} is not one of {', '.join(x.value for x in LegalEventKind)}"
        ) from None
    if outcome not in LEGAL_OUTCOMES[k]:
        raise InvalidInput(
            f"outcome {outcome!r} of a {k.value} is one of {', '.join(sorted(LEGAL_OUTCOMES[k]))}"
        )
    if occurred_at.tzinfo is None:
        raise InvalidInput("occurred_at must carry a time zone (use UTC)")
    amount: Decimal | None = None
    if amount_eur is not None:
        try:
            amount = Decimal(str(amount_eur)).quantize(Decimal("0.01"))
        except InvalidOperation:
            raise InvalidInput("amount_eur must be a number") from None
        if amount < 0 or amount >= Decimal("1e12"):
            raise InvalidInput("amount_eur must be between 0 and 10^12")
    if referral_id is not None:
        ref = repository.referral_of_agency(session, referral_id, principal.agency_id)
        if ref is None:
            raise NotFound(f"referral {referral_id} does not exist")
        platform = platform or ref.platform
    ev = LegalEvent(
        agency_id=principal.agency_id,
        kind=k.value,
        outcome=outcome,
        platform=(platform or None),
        referral_id=referral_id,
        occurred_at=occurred_at,
        amount_eur=amount,
        reference=reference.strip()[:128],
        notes=notes.strip(),
        created_by=_uid(principal),
        created_at=(clock or SystemClock()).now(),
    )
    repository.add(session, ev)
    record(
        session,
        principal,
        "legal_event.record",
        "legal_event",
        ev.id,
        {"kind": k.value, "outcome": outcome, "platform": ev.platform},
        clock=clock,
    )
    return ev


def list_legal_events(
    session: Session, principal: Principal, *, limit: int = 50, offset: int = 0
) -> tuple[list[LegalEvent], int]:
    if principal.agency_id <= 0 or principal.is_liaison:
        return [], 0
    return repository.legal_events(session, principal.agency_id, limit=limit, offset=offset)
