"""JSON routes: read the platform registry (any signed-in user), add to it and edit it
(admins).

Platform records are shared reference data, not agency-owned rows: every
principal may read them, only admins change them.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from takedown.accounts.deps import AdminPrincipal, CurrentPrincipal, DbSession, needs
from takedown.kit.pagination import Limit, Offset, Page
from takedown.platforms import authorities, service
from takedown.platforms.models import PlatformKind
from takedown.platforms.schemas import (
    PlatformCreate,
    PlatformOut,
    PlatformPatch,
    TcoAuthorityOut,
    TcoAuthorityPut,
)

router = APIRouter(prefix="/api/v1", tags=["platforms"])
Admin = AdminPrincipal
Slug = Annotated[str, Path(pattern=r"^[a-z0-9_\-]{1,64}$")]


@router.get("/platforms", response_model=Page[PlatformOut], dependencies=[needs("platforms:read")])
def list_platforms(
    session: DbSession,
    principal: CurrentPrincipal,
    kind: Annotated[PlatformKind | None, Query()] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[PlatformOut]:
    """The platform registry, ordered by slug."""
    rows, total = service.list_platforms(
        session, kind=kind.value if kind else None, limit=limit, offset=offset
    )
    return Page[PlatformOut](
        items=[PlatformOut.model_validate(p) for p in rows], total=total, limit=limit, offset=offset
    )


@router.post(
    "/platforms", response_model=PlatformOut, status_code=201, dependencies=[needs("admin")]
)
def create_platform(body: PlatformCreate, session: DbSession, principal: Admin) -> PlatformOut:
    """Add a platform (audited as ``platform.create``).

    409 when the slug exists or a domain belongs to another platform (listed in the
    registry, or known to the canonicaliser as, say, X's); 422 for a reserved slug or a
    bad field. URLs on its domains canonicalise to it from then on.
    """
    fields = body.model_dump(mode="json")
    return PlatformOut.model_validate(service.create_platform(session, principal, fields))


@router.get("/platforms/{slug}", response_model=PlatformOut, dependencies=[needs("platforms:read")])
def get_platform(slug: Slug, session: DbSession, principal: CurrentPrincipal) -> PlatformOut:
    return PlatformOut.model_validate(service.get(session, slug))


@router.patch("/platforms/{slug}", response_model=PlatformOut, dependencies=[needs("admin")])
def patch_platform(
    slug: Slug, body: PlatformPatch, session: DbSession, principal: Admin
) -> PlatformOut:
    """Edit a platform's record (TCO contact point, legal representative, ...); audited."""
    changes = body.model_dump(exclude_unset=True, mode="json")
    return PlatformOut.model_validate(service.update(session, principal, slug, changes))


# --- TCO competent authorities (Annex I, Section D) ---------------------------------------

Country = Annotated[str, Path(pattern=r"^[A-Za-z]{2}$")]


@router.get(
    "/tco-authorities", response_model=list[TcoAuthorityOut], dependencies=[needs("platforms:read")]
)
def list_tco_authorities(session: DbSession, principal: CurrentPrincipal) -> list[TcoAuthorityOut]:
    """The authority of each EU Member State competent to scrutinise removal orders (Art. 4),
    by country; ``confirmed`` is false until an admin checked it against the Commission's
    published list."""
    return [TcoAuthorityOut.model_validate(a) for a in authorities.list_authorities(session)]


@router.get(
    "/tco-authorities/{country}",
    response_model=TcoAuthorityOut,
    dependencies=[needs("platforms:read")],
)
def get_tco_authority(
    country: Country, session: DbSession, principal: CurrentPrincipal
) -> TcoAuthorityOut:
    return TcoAuthorityOut.model_validate(authorities.get(session, country))


@router.put(
    "/tco-authorities/{country}", response_model=TcoAuthorityOut, dependencies=[needs("admin")]
)
def put_tco_authority(
    country: Country, body: TcoAuthorityPut, session: DbSession, principal: Admin
) -> TcoAuthorityOut:
    """Set a Member State's authority (admins; audited as ``tco_authority.update``). The next
    order to a provider established there names it in Section D."""
    changes = body.model_dump(exclude_unset=True)
    return TcoAuthorityOut.model_validate(authorities.update(session, principal, country, changes))
