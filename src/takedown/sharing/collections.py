"""TAXII collections: who owns them, who may read or write them, and what TLP they carry.

A collection belongs to one agency; other agencies (partners' representations on this
instance, with their TAXII service users) get read and/or write grants. Its audience
decides the strictest TLP it may carry (``tlp.AUDIENCE_CEILING``); a collection for one
partner also never carries more than that partner's ceiling. An ``organisation``
collection may be read by one agency only: AMBER+STRICT goes to the recipient's
organisation and nobody else.
"""

from __future__ import annotations

import uuid as uuidlib
from dataclasses import dataclass

from sqlalchemy.orm import Session

from takedown.accounts.models import Agency
from takedown.accounts.principal import Principal
from takedown.audit.service import record
from takedown.kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from takedown.sharing import repository
from takedown.sharing.models import Collection, Grant
from takedown.sharing.tlp import RANK, Audience, Tlp, may_leave, parse_tlp


@dataclass(frozen=True)
class Access:
    read: bool
    write: bool
    owner: bool


NO_ACCESS = Access(False, False, False)


def _uid(principal: Principal) -> int | None:
    return principal.user_id if principal.user_id > 0 else None


def access(session: Session, principal: Principal, coll: Collection) -> Access:
    """What the principal's agency may do with the collection (token scopes aside)."""
    if principal.via == "system":
        return Access(True, True, True)
    if principal.is_liaison:
        return NO_ACCESS
    if coll.owner_agency_id == principal.agency_id:
        return Access(True, True, True)
    g = repository.grant(session, coll.id, principal.agency_id)
    if g is None:
        return NO_ACCESS
    return Access(g.can_read, g.can_write, False)


def visible_collection(
    session: Session, principal: Principal, uuid: str
) -> tuple[Collection, Access]:
    """The collection and the principal's access; NotFound if it may neither read nor write."""
    coll = repository.collection_by_uuid(session, uuid)
    if coll is None:
        raise NotFound(f"no collection {uuid}")
    acc = access(session, principal, coll)
    if not (acc.read or acc.write):
        raise NotFound(f"no collection {uuid}")
    return coll, acc


def collections_for(session: Session, principal: Principal) -> list[tuple[Collection, Access]]:
    agency = None if principal.via == "system" else principal.agency_id
    if principal.is_liaison:
        return []
    out = []
    for c, g in repository.collections_for(session, agency):
        if agency is None or c.owner_agency_id == agency:
            out.append((c, Access(True, True, True)))
        elif g is not None and (g.can_read or g.can_write):
            out.append((c, Access(g.can_read, g.can_write, False)))
    return out


def ceiling(session: Session, coll: Collection) -> Tlp:
    """The strictest TLP this collection may carry (its audience's and its partner's)."""
    from takedown.sharing.tlp import AUDIENCE_CEILING

    limit = AUDIENCE_CEILING[Audience(coll.audience)]
    if coll.partner_id is not None:
        partner = repository.partner(session, coll.partner_id)
        if partner is not None:
            own = parse_tlp(partner.tlp_ceiling)
            limit = min(limit, own, key=RANK.__getitem__)
    return limit


def allowed_tlps(session: Session, coll: Collection) -> list[str]:
    """The markings a reader of this collection may receive (never RED)."""
    top = ceiling(session, coll)
    return [t.value for t in Tlp if may_leave(t, Audience(coll.audience)) and RANK[t] <= RANK[top]]


def _require_manager(principal: Principal, owner_agency_id: int) -> None:
    if principal.via == "system":
        return
    if principal.agency_id != owner_agency_id:
        raise NotFound("no such collection")
    if not principal.is_supervisor:
        raise Forbidden("managing collections needs the supervisor or admin role")


def create_collection(
    session: Session,
    principal: Principal,
    *,
    title: str,
    audience: Audience | str,
    description: str = "",
    partner_id: int | None = None,
    owner_agency_id: int | None = None,
) -> Collection:
    owner = (
        owner_agency_id if principal.via == "system" and owner_agency_id else principal.agency_id
    )
    if owner <= 0 or session.get(Agency, owner) is None:
        raise InvalidInput("a collection needs an agency to own it")
    _require_manager(principal, owner)
    title = title.strip()
    if not title or len(title) > 200:
        raise InvalidInput("a collection needs a title of at most 200 characters")
    try:
        aud = Audience(audience)
    except ValueError:
        raise InvalidInput(
            f"audience must be one of {', '.join(a.value for a in Audience)}"
        ) from None
    if partner_id is not None:
        partner = repository.partner(session, partner_id)
        if partner is None or partner.owner_agency_id != owner:
            raise NotFound(f"no partner {partner_id}")
    coll = Collection(
        uuid=str(uuidlib.uuid4()),
        owner_agency_id=owner,
        title=title,
        description=description.strip(),
        audience=aud.value,
        partner_id=partner_id,
    )
    repository.add(session, coll)
    record(
        session,
        principal,
        "sharing.collection.create",
        "collection",
        coll.id,
        {"uuid": coll.uuid, "title": coll.title, "audience": coll.audience},
    )
    if partner_id is not None:
        partner = repository.partner(session, partner_id)
        assert partner is not None
        grant(session, principal, coll.id, partner.agency_id, read=True, write=True)
    return coll


def grant(
    session: Session,
    principal: Principal,
    collection_id: int,
    agency_id: int,
    *,
    read: bool = True,
    write: bool = False,
) -> Grant:
    """Give (or change) an agency's read/write right on a collection; audited."""
    coll = repository.collection(session, collection_id)
    if coll is None:
        raise NotFound(f"no collection {collection_id}")
    _require_manager(principal, coll.owner_agency_id)
    if session.get(Agency, agency_id) is None:
        raise NotFound(f"no agency {agency_id}")
    if agency_id == coll.owner_agency_id:
        raise InvalidInput("the owner always reads and writes its collections")
    existing = repository.grant(session, coll.id, agency_id)
    readers = {g.agency_id for g in repository.grants_of(session, coll.id) if g.can_read}
    if read and coll.audience == Audience.ORGANISATION.value and readers - {agency_id}:
        raise Conflict(
            "an organisation collection is read by one organisation only "
            "(AMBER+STRICT goes to the recipient's organisation and nobody else)"
        )
    if existing is None:
        existing = Grant(collection_id=coll.id, agency_id=agency_id, can_read=read, can_write=write)
        repository.add(session, existing)
    else:
        existing.can_read, existing.can_write = read, write
        session.flush()
    record(
        session,
        principal,
        "sharing.collection.grant",
        "collection",
        coll.id,
        {"agency_id": agency_id, "read": read, "write": write},
    )
    return existing
