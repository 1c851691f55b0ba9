"""Sharing an item, a bank or an operation into a collection: the act, audited, published.

Only the collection's owner agency shares into it, only what it owns (its own reports,
its own banks, operations it takes part in), and never at a TLP its audience may not
receive: RED is refused outright, and so is a marking stricter than the collection's
ceiling, with a message that says which ceiling.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from takedown.accounts.principal import Principal
from takedown.audit.service import record
from takedown.kit.clock import Clock, SystemClock
from takedown.kit.errors import Forbidden, InvalidInput, NotFound
from takedown.sharing import collections, gather, publish, repository
from takedown.sharing import objects_repository as objects
from takedown.sharing.models import Collection, Share
from takedown.sharing.tlp import Tlp, parse_tlp

SUBJECTS = ("item", "bank", "operation")


@dataclass(frozen=True)
class ShareView:
    share: Share
    collection: Collection
    recipients: list[str]


def _own_collection(session: Session, principal: Principal, collection_id: int) -> Collection:
    coll = repository.collection(session, collection_id)
    if coll is None or (principal.via != "system" and coll.owner_agency_id != principal.agency_id):
        raise NotFound(f"no collection {collection_id} of your agency")
    if principal.is_liaison:
        raise Forbidden("platform liaisons do not share")
    return coll


def _check_subject(
    session: Session, principal: Principal, subject_type: str, subject_id: int
) -> Tlp | None:
    """Raise unless the agency may share the subject; the bank's own TLP for a bank."""
    actor = publish.acting_for(principal.agency_id)
    if subject_type == "item":
        gather.own_item(session, actor, subject_id)
        return None
    if subject_type == "bank":
        return gather.own_bank_tlp(session, actor, subject_id)
    if subject_type == "operation":
        from takedown.operations import service as operations

        operations.get_operation(session, actor, subject_id)
        return None
    raise InvalidInput(f"one shares an {', a '.join(SUBJECTS)}, not a {subject_type!r}")


def share(
    session: Session,
    principal: Principal,
    collection_id: int,
    subject_type: str,
    subject_id: int,
    *,
    tlp: str | Tlp | None = None,
    include_hold: bool = False,
    clock: Clock | None = None,
) -> tuple[Share, publish.Published]:
    """Share (or re-share at a new TLP) and publish at once; audited."""
    coll = _own_collection(session, principal, collection_id)
    if principal.via != "system" and principal.agency_id <= 0:
        raise InvalidInput("sharing needs a user of an agency")
    bank_tlp = _check_subject(session, principal, subject_type, subject_id)
    marking = parse_tlp(tlp, default=bank_tlp or Tlp.AMBER)
    if marking is Tlp.RED:
        raise Forbidden("TLP:RED never leaves the instance")
    top = collections.ceiling(session, coll)
    if marking.value not in collections.allowed_tlps(session, coll):
        raise Forbidden(
            f"collection {coll.title!r} ({coll.audience}) carries at most TLP:{top.value}; "
            f"this is TLP:{marking.value}"
        )
    now = (clock or SystemClock()).now()
    existing = repository.active_share(session, coll.id, subject_type, subject_id)
    if existing is not None:
        existing.tlp = marking.value
        existing.include_hold = include_hold
        row = existing
    else:
        row = Share(
            collection_id=coll.id,
            agency_id=coll.owner_agency_id,
            subject_type=subject_type,
            subject_id=subject_id,
            tlp=marking.value,
            include_hold=include_hold,
            created_by=principal.user_id if principal.user_id > 0 else None,
            created_at=now,
        )
        repository.add(session, row)
    result = publish.publish_share(session, row, now=now)
    record(
        session,
        principal,
        "sharing.share",
        subject_type,
        subject_id,
        {
            "collection": coll.uuid,
            "share_id": row.id,
            "tlp": marking.value,
            "objects_added": result.added,
            "withheld": result.withheld,
        },
    )
    return row, result


def revoke(
    session: Session, principal: Principal, share_id: int, *, clock: Clock | None = None
) -> Share:
    """Stop sharing: the share's objects leave the collection (copies already pulled stay
    with their readers: TAXII cannot call them back)."""
    row = repository.share(session, share_id)
    if row is None or (principal.via != "system" and row.agency_id != principal.agency_id):
        raise NotFound(f"no share {share_id}")
    if row.revoked_at is not None:
        return row
    row.revoked_at = (clock or SystemClock()).now()
    removed = objects.delete_share_objects(session, row.id)
    session.flush()
    record(
        session, principal, "sharing.revoke", row.subject_type, row.subject_id,
        {"share_id": row.id, "objects_removed": removed},
    )  # fmt: skip
    return row


def shared_with_whom(
    session: Session, principal: Principal, *, limit: int = 50, offset: int = 0
) -> tuple[list[ShareView], int]:
    """The agency's shares, newest first, each with its collection and who reads it."""
    agency = None if principal.via == "system" else principal.agency_id
    rows, total = repository.shares_by_agency(session, agency, limit=limit, offset=offset)
    out = []
    for s, c in rows:
        grants = repository.grants_of(session, c.id)
        names = repository.agency_names(session, [g.agency_id for g in grants if g.can_read])
        out.append(ShareView(s, c, sorted(names.values())))
    return out, total
