"""The analyst's review of match results: confirm or reject, and what that changes.

A match is a suggestion: "this item looks like signal S of bank B, labelled
group G". The analyst of the agency that the match was made for confirms
it (the attribution stands) or rejects it (a false positive: it stays on
record, but no longer suggests an attribution). Only that agency sees and
reviews its results, and only while the bank is still visible to it; a
TLP:RED signal of another agency is never shown.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from takedown.accounts.models import Role
from takedown.accounts.principal import Principal
from takedown.audit.service import record
from takedown.kit.clock import Clock, SystemClock
from takedown.kit.errors import Forbidden, InvalidInput, NotFound
from takedown.matching import repository as repo
from takedown.matching.models import ReviewStatus
from takedown.matching.repository import MatchRow

_REVIEW_ROLES = (Role.ANALYST, Role.SUPERVISOR, Role.ADMIN)
MAX_NOTE = 500


class ReviewFilter(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    ALL = "all"


_STATUS_OF = {
    ReviewFilter.PENDING: ReviewStatus.NEW.value,
    ReviewFilter.CONFIRMED: ReviewStatus.CONFIRMED.value,
    ReviewFilter.REJECTED: ReviewStatus.REJECTED.value,
    ReviewFilter.ALL: None,
}


def _agency(actor: Principal) -> int:
    if actor.via == "system" or actor.agency_id <= 0:
        raise InvalidInput("match results are reviewed by a user of an agency")
    return actor.agency_id


def parse_filter(value: str | None) -> ReviewFilter:
    try:
        return ReviewFilter((value or "pending").strip().lower())
    except ValueError:
        raise InvalidInput(
            f"review is one of {', '.join(f.value for f in ReviewFilter)}, not {value!r}"
        ) from None


def list_matches(
    session: Session,
    actor: Principal,
    *,
    review: ReviewFilter = ReviewFilter.PENDING,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[MatchRow], int]:
    """The agency's match results, newest first; ``pending`` is the review queue."""
    return repo.list_results(
        session, _agency(actor), status=_STATUS_OF[review], limit=limit, offset=offset
    )


def pending_count(session: Session, actor: Principal) -> int:
    return repo.count_results(session, _agency(actor), ReviewStatus.NEW.value)


def get_match(session: Session, actor: Principal, result_id: int) -> MatchRow:
    row = repo.result_readable(session, result_id, _agency(actor))
    if row is None:
        raise NotFound(f"no match result {result_id}")
    return row


def review_match(
    session: Session,
    actor: Principal,
    result_id: int,
    decision: str,
    *,
    note: str = "",
    clock: Clock | None = None,
) -> MatchRow:
    """Confirm or reject one match; a later review may change an earlier one (audited)."""
    row = get_match(session, actor, result_id)
    if actor.role not in _REVIEW_ROLES:
        raise Forbidden("this role cannot review matches")
    try:
        target = ReviewStatus(decision.strip().lower())
    except ValueError:
        target = ReviewStatus.NEW
    if target is ReviewStatus.NEW:
        raise InvalidInput("decision is 'confirmed' or 'rejected'")
    note = note.strip()
    if len(note) > MAX_NOTE:
        raise InvalidInput(f"the note can have at most {MAX_NOTE} characters")
    result = row.result
    previous = result.status
    result.status = target.value
    result.reviewed_by = actor.user_id if actor.user_id > 0 else None
    result.reviewed_at = (clock or SystemClock()).now()
    result.review_note = note
    session.flush()
    record(
        session,
        actor,
        "matching.match." + ("confirm" if target is ReviewStatus.CONFIRMED else "reject"),
        "match_result",
        result.id,
        {
            "item_id": result.item_id,
            "signal_id": result.signal_id,
            "bank_id": result.bank_id,
            "previous": previous,
            "note": note,
        },
        clock=clock,
    )
    return row


def suggested_attribution(session: Session, actor: Principal, item_id: int) -> dict[str, Any]:
    """The labels of the closest match of this item that was not rejected (empty: none).

    Confirmed matches win over unreviewed ones at the same distance.
    """
    agency = _agency(actor)
    rows = [
        r
        for r in repo.results_for_item(session, item_id)
        if r.agency_id == agency and r.status != ReviewStatus.REJECTED.value
    ]
    readable = [row for r in rows if (row := repo.result_readable(session, r.id, agency))]
    if not readable:
        return {}
    best = min(
        readable,
        key=lambda m: (
            m.result.distance,
            m.result.status != ReviewStatus.CONFIRMED.value,
            m.result.id,
        ),
    )
    return dict(best.signal.labels or {})
