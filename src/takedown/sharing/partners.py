"""Partners: other organisations' instances (or any TAXII 2.1 server) an agency exchanges with.

Each partner is represented on this instance by an agency of its own (its country, its
contact point): what it sends is credited to that agency, a hold it asks for names its
contact point, and the tokens it uses to reach our TAXII server belong to that agency's
service user. Its own token to *its* server is sealed (``secrets``) and never shown.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from takedown.accounts import service as accounts
from takedown.accounts.models import Agency, Role
from takedown.accounts.principal import Principal
from takedown.accounts.service import SYSTEM
from takedown.audit.service import record
from takedown.kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from takedown.sharing import repository, secrets
from takedown.sharing.models import AuthKind, Partner, Trust
from takedown.sharing.tlp import parse_tlp


@dataclass(frozen=True)
class PartnerIn:
    name: str
    country: str
    contact_point: str
    api_root: str = ""
    collection: str = ""
    token: str = ""
    auth_kind: str = AuthKind.BEARER.value
    username: str = ""
    trust: str = Trust.REVIEW.value
    tlp_ceiling: str = "AMBER"
    deconfliction_url: str = ""
    pull_every_seconds: int = 3600
    #: An agency already on this instance that stands for the partner (else one is made).
    agency_id: int | None = None


def acting_as(partner: Partner) -> Principal:
    """The partner's agency as an actor: what it sends is credited to it."""
    return Principal(user_id=0, agency_id=partner.agency_id, role=Role.ANALYST, via="partner")


def _owner(principal: Principal) -> int:
    if principal.via == "system" or principal.agency_id <= 0:
        raise InvalidInput("a partner belongs to an agency: act as one of its users")
    if not principal.is_supervisor:
        raise Forbidden("managing partners needs the supervisor or admin role")
    return principal.agency_id


def _url(value: str, what: str) -> str:
    v = value.strip()
    if v and not v.startswith(("http://", "https://")):
        raise InvalidInput(f"{what} must be an http(s) URL")
    return v


def create_partner(
    session: Session, principal: Principal, data: PartnerIn, *, secret_key: str | None
) -> Partner:
    owner = _owner(principal)
    name = data.name.strip()
    if not name or len(name) > 200:
        raise InvalidInput("a partner needs a name of at most 200 characters")
    if repository.partner_by_name(session, owner, name) is not None:
        raise Conflict(f"your agency already has a partner named {name!r}")
    try:
        trust = Trust(data.trust).value
        auth_kind = AuthKind(data.auth_kind).value
    except ValueError:
        raise InvalidInput("trust is review or auto; auth is bearer or basic") from None
    ceiling = parse_tlp(data.tlp_ceiling).value
    if ceiling == "RED":
        raise InvalidInput("TLP:RED is never exchanged: the ceiling is at most AMBER+STRICT")
    if data.pull_every_seconds < 60:
        raise InvalidInput("pull at most once a minute")
    if data.agency_id is not None:
        agency = session.get(Agency, data.agency_id)
        if agency is None:
            raise NotFound(f"no agency {data.agency_id}")
        if agency.id == owner:
            raise InvalidInput("an agency is not its own partner")
    else:
        agency = accounts.create_agency(
            session,
            SYSTEM,
            name=f"{name} (partner)",
            country=data.country,
            kind="national_iru",
            contact_point=data.contact_point,
        )
    partner = Partner(
        owner_agency_id=owner,
        agency_id=agency.id,
        name=name,
        api_root=_url(data.api_root, "api_root"),
        collection=data.collection.strip(),
        auth_kind=auth_kind,
        username=data.username.strip(),
        secret_sealed=secrets.seal(secret_key, data.token),
        deconfliction_url=_url(data.deconfliction_url, "deconfliction_url"),
        trust=trust,
        tlp_ceiling=ceiling,
        contact_point=(data.contact_point or agency.contact_point).strip(),
        pull_every_seconds=data.pull_every_seconds,
        created_by=principal.user_id if principal.user_id > 0 else None,
    )
    repository.add(session, partner)
    record(
        session,
        principal,
        "sharing.partner.create",
        "partner",
        partner.id,
        {
            "name": name,
            "agency_id": agency.id,
            "api_root": partner.api_root,
            "trust": trust,
            "tlp_ceiling": ceiling,
            "token": "sealed" if data.token else "none",
        },
    )
    return partner


def get_partner(session: Session, principal: Principal, partner_id: int) -> Partner:
    partner = repository.partner(session, partner_id)
    if partner is None or (
        principal.via != "system" and partner.owner_agency_id != principal.agency_id
    ):
        raise NotFound(f"no partner {partner_id}")
    return partner


def list_partners(session: Session, principal: Principal) -> list[Partner]:
    if principal.is_liaison:
        return []
    return repository.partners_of(
        session, None if principal.via == "system" else principal.agency_id
    )


def set_token(
    session: Session, principal: Principal, partner_id: int, token: str, *, secret_key: str | None
) -> Partner:
    _owner(principal)
    partner = get_partner(session, principal, partner_id)
    partner.secret_sealed = secrets.seal(secret_key, token)
    session.flush()
    record(session, principal, "sharing.partner.token", "partner", partner.id, {"token": "sealed"})
    return partner


def schedule_now(
    session: Session, principal: Principal, partner_id: int, now: dt.datetime
) -> Partner:
    partner = get_partner(session, principal, partner_id)
    partner.next_pull_at = now
    session.flush()
    return partner
