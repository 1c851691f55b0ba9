"""JSON routes of the accounts capability."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from takedown.accounts import admin, repository, service
from takedown.accounts.deps import (
    SESSION_COOKIE,
    AdminPrincipal,
    CurrentPrincipal,
    DbSession,
    SupervisorPrincipal,
    get_settings_dep,
)
from takedown.accounts.models import User
from takedown.accounts.schemas import (
    AgencyIn,
    AgencyOut,
    AgencyPatch,
    IssuedTokenOut,
    LoginIn,
    MeOut,
    PasswordResetOut,
    TokenIn,
    TokenOut,
    UserIn,
    UserOut,
)
from takedown.config import Settings
from takedown.kit.errors import Forbidden, NotFound, Unauthorized
from takedown.kit.pagination import Limit, Offset, Page
from takedown.kit.types import IdPath

router = APIRouter(prefix="/api/v1", tags=["accounts"])
Admin = AdminPrincipal
Supervisor = SupervisorPrincipal


def _user_out(user: User) -> UserOut:
    out = UserOut.model_validate(user)
    out.totp_enabled = bool(user.totp_secret)
    return out


@router.post("/session", response_model=MeOut, tags=["auth"])
def create_session(
    body: LoginIn,
    request: Request,
    response: Response,
    session: DbSession,
    settings: Annotated[Settings, Depends(get_settings_dep)],
) -> MeOut:
    """Log in for a browser session (sets an HttpOnly cookie; returns the CSRF token)."""
    ip = request.client.host if request.client else "unknown"
    try:
        result = service.login(
            session,
            email=body.email,
            password=body.password,
            totp_code=body.totp,
            client_ip=ip,
            max_attempts=settings.login_max_attempts,
            window_seconds=settings.login_window_seconds,
            max_age_seconds=settings.session_max_age_seconds,
        )
    except Unauthorized:
        # Keep the failed attempt (rate limiting) even though the request fails.
        session.commit()
        raise
    response.set_cookie(
        SESSION_COOKIE,
        result.session_token,
        httponly=True,
        samesite="strict",
        secure=settings.secure_cookies,
        max_age=settings.session_max_age_seconds,
        path="/",
    )
    p = result.principal
    agency = service.get_agency(session, p.agency_id)
    return MeOut(
        user_id=p.user_id,
        agency_id=p.agency_id,
        agency_name=agency.name,
        role=p.role.value,
        email=p.email,
        platform_slug=p.platform_slug,
        via=p.via,
        csrf_token=result.csrf_token,
    )


@router.delete("/session", status_code=204, tags=["auth"])
def delete_session(
    request: Request, response: Response, session: DbSession, principal: CurrentPrincipal
) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        service.logout(session, cookie)
    response.status_code = 204
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/me", response_model=MeOut)
def me(principal: CurrentPrincipal, session: DbSession, request: Request) -> MeOut:
    agency = service.get_agency(session, principal.agency_id)
    return MeOut(
        user_id=principal.user_id,
        agency_id=principal.agency_id,
        agency_name=agency.name,
        role=principal.role.value,
        email=principal.email,
        platform_slug=principal.platform_slug,
        via=principal.via,
        csrf_token=getattr(request.state, "csrf_token", None),
    )


@router.get("/agencies", response_model=Page[AgencyOut])
def list_agencies(
    principal: CurrentPrincipal,
    session: DbSession,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[AgencyOut]:
    """The directory of agencies and their contact points (needed for deconfliction)."""
    rows, total = repository.list_agencies(session, limit=limit, offset=offset)
    return Page(
        items=[AgencyOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )


@router.post("/agencies", response_model=AgencyOut, status_code=201)
def create_agency(body: AgencyIn, principal: Admin, session: DbSession) -> AgencyOut:
    agency = service.create_agency(
        session,
        principal,
        name=body.name,
        country=body.country,
        kind=body.kind,
        contact_point=body.contact_point,
        platform_slug=body.platform_slug,
    )
    return AgencyOut.model_validate(agency)


@router.get("/users", response_model=Page[UserOut])
def list_users(
    principal: Supervisor,
    session: DbSession,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[UserOut]:
    """Admins see every user; supervisors see their own agency's."""
    agency_id = None if principal.is_admin else principal.agency_id
    rows, total = repository.list_users(session, agency_id=agency_id, limit=limit, offset=offset)
    return Page(items=[_user_out(u) for u in rows], total=total, limit=limit, offset=offset)


@router.post("/users", response_model=UserOut, status_code=201)
def create_user(body: UserIn, principal: Admin, session: DbSession) -> UserOut:
    user = service.create_user(
        session,
        principal,
        agency_id=body.agency_id,
        email=body.email,
        role=body.role,
        password=body.password,
        display_name=body.display_name,
    )
    return _user_out(user)


@router.get("/tokens", response_model=list[TokenOut])
def list_tokens(principal: CurrentPrincipal, session: DbSession) -> list[TokenOut]:
    return [
        TokenOut.model_validate(t) for t in repository.tokens_of_user(session, principal.user_id)
    ]


@router.post("/tokens", response_model=IssuedTokenOut, status_code=201)
def create_token(body: TokenIn, principal: CurrentPrincipal, session: DbSession) -> IssuedTokenOut:
    """Create an API token. It is shown once; only its hash is stored."""
    user_id = body.user_id or principal.user_id
    if user_id != principal.user_id and not principal.is_admin:
        raise Forbidden("only an admin creates tokens for other users")
    if user_id != principal.user_id:
        target = service.get_user(session, user_id)
        if target is None:
            raise NotFound(f"user {user_id} does not exist")
    issued = service.create_token(
        session,
        principal,
        user_id=user_id,
        name=body.name,
        scopes=body.scopes,
        expires_in_days=body.expires_in_days,
    )
    out = TokenOut.model_validate(issued.row).model_dump()
    return IssuedTokenOut(**out, token=issued.token)


@router.delete("/tokens/{token_id}", status_code=204)
def revoke_token(token_id: IdPath, principal: CurrentPrincipal, session: DbSession) -> Response:
    tokens = {t.id for t in repository.tokens_of_user(session, principal.user_id)}
    if token_id not in tokens and not principal.is_admin:
        raise NotFound(f"token {token_id} does not exist")
    service.revoke_token(session, principal, token_id)
    return Response(status_code=204)


@router.patch("/agencies/{agency_id}", response_model=AgencyOut)
def update_agency(
    agency_id: IdPath, body: AgencyPatch, principal: Admin, session: DbSession
) -> AgencyOut:
    """Edit an agency (an administrator: their own; the operator: any); ``is_active``
    deactivates or reactivates it (the operator only, never their own agency)."""
    agency = admin.update_agency(
        session,
        principal,
        agency_id,
        name=body.name,
        country=body.country,
        contact_point=body.contact_point,
    )
    if body.is_active is not None:
        agency = admin.set_agency_active(session, principal, agency_id, body.is_active)
    return AgencyOut.model_validate(agency)


@router.post("/users/{user_id}/password-reset", response_model=PasswordResetOut)
def reset_password(user_id: IdPath, principal: Admin, session: DbSession) -> PasswordResetOut:
    """A new random password, returned once; the user must change it at the next login and
    their browser sessions end. An administrator resets users of their own agency only."""
    reset = admin.reset_password(session, principal, user_id)
    return PasswordResetOut(
        user=_user_out(reset.user), password=reset.password, sessions_ended=reset.sessions_ended
    )
