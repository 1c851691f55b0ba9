"""JSON routes of sharing (under /api/v1): partners, collections, shares, the inbox,
exports, and deconfliction (asking a partner, answering a partner's question).

Token scopes: reads need ``sharing:read``, changes ``sharing:write`` (browser sessions
have both). Managing partners and collections needs a supervisor.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from takedown.accounts.deps import DbSession, get_settings_dep, needs, require_role
from takedown.accounts.models import Role
from takedown.accounts.principal import Principal
from takedown.config import Settings
from takedown.kit.pagination import Limit, Offset, Page
from takedown.kit.types import IdPath
from takedown.sharing import (
    collections,
    deconfliction,
    exports,
    partners,
    review,
    shares,
)
from takedown.sharing import deconfliction_repository as drepo
from takedown.sharing import objects_repository as objects
from takedown.sharing.schemas import (
    AskIn,
    AskOut,
    CollectionIn,
    CollectionOut,
    DecideIn,
    FollowupOut,
    GrantIn,
    InboxOut,
    InvestigationIn,
    InvestigationOut,
    PartnerIn,
    PartnerOut,
    PsiQuestion,
    RequestOut,
    ShareIn,
    ShareOut,
)

router = APIRouter(prefix="/api/v1", tags=["sharing"])


# Role checks only: each route declares its scope (``needs``), the one scope check.
Reader = Annotated[Principal, Depends(require_role(Role.ANALYST, Role.SUPERVISOR))]
Writer = Reader
Manager = Annotated[Principal, Depends(require_role(Role.SUPERVISOR))]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


# --- partners ---------------------------------------------------------------------------------


@router.get(
    "/sharing/partners", response_model=list[PartnerOut], dependencies=[needs("sharing:read")]
)
def list_partners(principal: Reader, session: DbSession) -> list[PartnerOut]:
    """Your agency's partners (their tokens are never shown)."""
    return [PartnerOut.model_validate(p) for p in partners.list_partners(session, principal)]


@router.post(
    "/sharing/partners",
    response_model=PartnerOut,
    status_code=201,
    dependencies=[needs("sharing:write")],
)
def create_partner(
    body: PartnerIn, principal: Manager, session: DbSession, settings: SettingsDep
) -> PartnerOut:
    p = partners.create_partner(
        session, principal, partners.PartnerIn(**body.model_dump()), secret_key=settings.secret_key
    )
    return PartnerOut.model_validate(p)


# --- collections ------------------------------------------------------------------------------


def _coll_out(session: DbSession, c: object, acc: collections.Access) -> CollectionOut:
    from takedown.sharing.models import Collection

    assert isinstance(c, Collection)
    counts = objects.collection_counts(session, [c.id])
    return CollectionOut(
        id=c.id,
        uuid=c.uuid,
        title=c.title,
        audience=c.audience,
        ceiling=collections.ceiling(session, c).value,
        owner_agency_id=c.owner_agency_id,
        can_read=acc.read,
        can_write=acc.write,
        objects=counts.get(c.id, 0),
    )


@router.get(
    "/sharing/collections", response_model=list[CollectionOut], dependencies=[needs("sharing:read")]
)
def list_collections(principal: Reader, session: DbSession) -> list[CollectionOut]:
    """Collections your agency owns or was granted, with their TLP ceilings."""
    return [_coll_out(session, c, a) for c, a in collections.collections_for(session, principal)]


@router.post(
    "/sharing/collections",
    response_model=CollectionOut,
    status_code=201,
    dependencies=[needs("sharing:write")],
)
def create_collection(body: CollectionIn, principal: Manager, session: DbSession) -> CollectionOut:
    c = collections.create_collection(
        session,
        principal,
        title=body.title,
        audience=body.audience,
        description=body.description,
        partner_id=body.partner_id,
    )
    return _coll_out(session, c, collections.Access(True, True, True))


@router.post(
    "/sharing/collections/{collection_id}/grants",
    status_code=204,
    dependencies=[needs("sharing:write")],
)
def grant(collection_id: IdPath, body: GrantIn, principal: Manager, session: DbSession) -> Response:
    collections.grant(
        session, principal, collection_id, body.agency_id, read=body.read, write=body.write
    )
    return Response(status_code=204)


@router.get("/sharing/collections/{collection_id}/bundle", dependencies=[needs("sharing:read")])
def export_bundle(collection_id: IdPath, principal: Reader, session: DbSession) -> Response:
    """What the collection carries, as one STIX 2.1 bundle (TLP-gated like TAXII)."""
    text = exports.collection_bundle(session, principal, collection_id)
    return Response(text, media_type="application/stix+json;version=2.1")


# --- shares -----------------------------------------------------------------------------------


@router.get("/sharing/shares", response_model=Page[ShareOut], dependencies=[needs("sharing:read")])
def list_shares(
    principal: Reader, session: DbSession, limit: Limit = 50, offset: Offset = 0
) -> Page[ShareOut]:
    """What your agency shared, with whom, at which TLP (newest first)."""
    views, total = shares.shared_with_whom(session, principal, limit=limit, offset=offset)
    return Page(
        items=[
            ShareOut(
                id=v.share.id,
                collection_id=v.collection.id,
                collection=v.collection.title,
                audience=v.collection.audience,
                subject_type=v.share.subject_type,
                subject_id=v.share.subject_id,
                tlp=v.share.tlp,
                recipients=v.recipients,
                objects=v.share.objects,
                withheld=v.share.withheld,
                created_at=v.share.created_at,
                published_at=v.share.published_at,
                revoked_at=v.share.revoked_at,
            )
            for v in views
        ],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.post("/sharing/shares", status_code=201, dependencies=[needs("sharing:write")])
def create_share(body: ShareIn, principal: Writer, session: DbSession) -> dict[str, int]:
    row, result = shares.share(
        session,
        principal,
        body.collection_id,
        body.subject_type,
        body.subject_id,
        tlp=body.tlp,
        include_hold=body.include_hold,
    )
    return {"id": row.id, "added": result.added, "withheld": result.withheld}


@router.delete("/sharing/shares/{share_id}", status_code=204, dependencies=[needs("sharing:write")])
def revoke_share(share_id: IdPath, principal: Writer, session: DbSession) -> Response:
    shares.revoke(session, principal, share_id)
    return Response(status_code=204)


# --- the inbox --------------------------------------------------------------------------------


@router.get("/sharing/inbox", response_model=Page[InboxOut], dependencies=[needs("sharing:read")])
def list_inbox(
    principal: Reader,
    session: DbSession,
    status: Annotated[
        str | None, Query(pattern="^(pending|imported|rejected|failed|ignored)$")
    ] = "pending",
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[InboxOut]:
    """Incoming objects (awaiting review by default)."""
    rows, total = review.list_inbox(session, principal, status=status, limit=limit, offset=offset)
    return Page(
        items=[InboxOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )


@router.post(
    "/sharing/inbox/decide", response_model=list[InboxOut], dependencies=[needs("sharing:write")]
)
def decide(body: DecideIn, principal: Writer, session: DbSession) -> list[InboxOut]:
    rows = review.decide(session, principal, body.ids, accept=body.accept)
    return [InboxOut.model_validate(r) for r in rows]


# --- deconfliction ----------------------------------------------------------------------------


@router.post("/deconfliction/psi", dependencies=[needs("sharing:read")])
def answer_question(
    body: PsiQuestion, principal: Reader, session: DbSession, settings: SettingsDep
) -> dict[str, object]:
    """A partner's question (a PSI request); the answer reveals only its hits to the
    partner, and this instance keeps only how many elements were asked."""
    return deconfliction.answer_question(session, principal, body.request, settings=settings)


@router.post(
    "/sharing/partners/{partner_id}/deconfliction",
    response_model=AskOut,
    dependencies=[needs("sharing:write")],
)
def ask_partner(
    partner_id: IdPath, body: AskIn, principal: Writer, session: DbSession, settings: SettingsDep
) -> AskOut:
    """Ask a partner whether any of these are part of its investigations."""
    row, followups = deconfliction.ask(
        session,
        principal,
        partner_id,
        settings=settings,
        item_ids=body.item_ids,
        urls=body.urls,
        hashes=[("sha256", h) for h in body.sha256] + [("md5", h) for h in body.md5],
    )
    return AskOut(
        request=RequestOut.model_validate(row),
        followups=[FollowupOut.model_validate(f) for f in followups],
    )


@router.get(
    "/sharing/deconfliction/requests",
    response_model=Page[RequestOut],
    dependencies=[needs("sharing:read")],
)
def list_requests(
    principal: Reader, session: DbSession, limit: Limit = 50, offset: Offset = 0
) -> Page[RequestOut]:
    agency = None if principal.via == "system" else principal.agency_id
    rows, total = drepo.requests_of(session, agency, limit=limit, offset=offset)
    return Page(
        items=[RequestOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )


@router.get(
    "/sharing/deconfliction/followups",
    response_model=Page[FollowupOut],
    dependencies=[needs("sharing:read")],
)
def list_followups(
    principal: Reader,
    session: DbSession,
    status: Annotated[str | None, Query(pattern="^(open|closed)$")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[FollowupOut]:
    agency = None if principal.via == "system" else principal.agency_id
    rows, total = drepo.followups_of(session, agency, status=status, limit=limit, offset=offset)
    return Page(
        items=[FollowupOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )


@router.get(
    "/sharing/investigations",
    response_model=Page[InvestigationOut],
    dependencies=[needs("sharing:read")],
)
def list_investigations(
    principal: Reader, session: DbSession, limit: Limit = 50, offset: Offset = 0
) -> Page[InvestigationOut]:
    """Your agency's investigations list (what deconfliction answers from, with holds)."""
    agency = None if principal.via == "system" else principal.agency_id
    rows, total = drepo.investigations_of(session, agency, limit=limit, offset=offset)
    return Page(
        items=[InvestigationOut.model_validate(r) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.post(
    "/sharing/investigations",
    response_model=InvestigationOut,
    status_code=201,
    dependencies=[needs("sharing:write")],
)
def add_investigation(
    body: InvestigationIn, principal: Writer, session: DbSession
) -> InvestigationOut:
    row = deconfliction.add_investigation(
        session, principal, url=body.url, sha256=body.sha256, md5=body.md5, label=body.label
    )
    return InvestigationOut.model_validate(row)
