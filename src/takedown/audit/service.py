"""Appending to and verifying the hash chain."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from takedown.accounts.principal import Principal
from takedown.audit import repository
from takedown.audit.models import AuditEvent
from takedown.kit.clock import Clock, SystemClock

if TYPE_CHECKING:
    from takedown.audit.anchors import Anchor, AnchorKeys

GENESIS = "0" * 64


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def canonical_time(at: dt.datetime) -> str:
    """The one text form of an event time that goes into its hash (also used by court bundles)."""
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def compute_hash(
    *,
    prev_hash: str,
    at: dt.datetime,
    actor_user_id: int | None,
    actor_agency_id: int | None,
    action: str,
    subject_type: str,
    subject_id: str,
    details: str,
) -> str:
    payload = canonical_json(
        [
            prev_hash,
            canonical_time(at),
            actor_user_id,
            actor_agency_id,
            action,
            subject_type,
            subject_id,
            details,
        ]
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def record(
    session: Session,
    actor: Principal | None,
    action: str,
    subject_type: str,
    subject_id: str | int,
    details: dict[str, Any] | None = None,
    *,
    clock: Clock | None = None,
) -> AuditEvent:
    """Append one event to the chain, inside the caller's transaction.

    If the caller's transaction rolls back, the event goes with it: the log
    never claims a change that did not happen.
    """
    repository.lock_chain(session)
    last = repository.last_event(session)
    prev = last.hash if last is not None else GENESIS
    at = (clock or SystemClock()).now()
    if last is not None and at < last.at:
        at = last.at  # keep the log monotonic even if clocks disagree
    body = canonical_json(details or {})
    user_id = actor.user_id if actor and actor.user_id > 0 else None
    agency_id = actor.agency_id if actor and actor.agency_id > 0 else None
    digest = compute_hash(
        prev_hash=prev,
        at=at,
        actor_user_id=user_id,
        actor_agency_id=agency_id,
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        details=body,
    )
    event = AuditEvent(
        at=at,
        actor_user_id=user_id,
        actor_agency_id=agency_id,
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        details=body,
        prev_hash=prev,
        hash=digest,
    )
    repository.add(session, event)
    return event


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_bad_id: int | None = None
    reason: str | None = None
    head_hash: str | None = None
    anchors: int = 0  # checkpoints and exported heads the chain was held to
    notes: tuple[str, ...] = ()  # what limits the check without failing it


def verify(
    session: Session, anchors: AnchorKeys | None = None, extra: Sequence[Anchor] = ()
) -> VerifyResult:
    """Walk the chain from genesis; report the first event whose link or hash is wrong.

    Then hold it to its anchors (``audit.anchors``): every checkpoint in the database,
    the anchor file and any exported head in ``extra`` must name an event that exists
    with that very hash. That is what catches a truncated tail or a chain recomputed
    from an edited event, which both still link. Without ``anchors`` the database's
    checkpoints are still compared, but no signature can be checked.
    """
    from takedown.audit.anchors import AnchorKeys, gather

    check = gather(session, anchors or AnchorKeys(), extra)
    notes = tuple(check.notes)
    if check.problems:
        return VerifyResult(False, 0, None, "; ".join(check.problems), None, check.count, notes)
    prev = GENESIS
    n = 0
    last_id = 0
    for ev in repository.iter_events(session):
        n += 1
        if ev.prev_hash != prev:
            return VerifyResult(
                False,
                n,
                ev.id,
                "prev_hash does not match the previous event "
                "(an event before it was changed or deleted)",
                prev,
                check.count,
                notes,
            )
        expected = compute_hash(
            prev_hash=ev.prev_hash,
            at=ev.at,
            actor_user_id=ev.actor_user_id,
            actor_agency_id=ev.actor_agency_id,
            action=ev.action,
            subject_type=ev.subject_type,
            subject_id=ev.subject_id,
            details=ev.details,
        )
        if expected != ev.hash:
            return VerifyResult(
                False,
                n,
                ev.id,
                "the event's content does not match its hash (the row was edited)",
                prev,
                check.count,
                notes,
            )
        for anchor in check.expected.pop(ev.id, ()):
            if anchor.event_hash != ev.hash:
                return VerifyResult(
                    False,
                    n,
                    ev.id,
                    f"event {ev.id} no longer has the hash that checkpoint {anchor.seq} "
                    f"({anchor.source}, {anchor.at}) signed: the chain was recomputed "
                    "from an edited event at or before it",
                    prev,
                    check.count,
                    notes,
                )
        prev = ev.hash
        last_id = ev.id
    if check.expected:
        missing = min(check.expected)
        anchor = check.expected[missing][0]
        where = (
            f"the chain ends at event {last_id}: events were deleted from its end"
            if missing > last_id
            else "that event is gone"
        )
        return VerifyResult(
            False,
            n,
            missing,
            f"checkpoint {anchor.seq} ({anchor.source}, {anchor.at}) names event {missing} "
            f"with hash {anchor.event_hash[:16]}..., but {where}",
            prev,
            check.count,
            notes,
        )
    return VerifyResult(True, n, None, None, prev, check.count, notes)
