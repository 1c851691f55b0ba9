"""FastAPI dependencies: the request's DB session and the acting principal.

A route is protected by depending on ``current_principal`` (or ``require_role``);
the route-enumeration test in tests/test_tenant_isolation.py fails for any
/api/v1 route that does not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session, sessionmaker

from takedown.accounts import service
from takedown.accounts.models import Role
from takedown.accounts.principal import Principal
from takedown.config import Settings
from takedown.kit.errors import Forbidden, PasswordChangeRequired, Unauthorized

SESSION_COOKIE = "takedown_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: What a browser session that must change its password may still reach.
PASSWORD_CHANGE_URL = "/account/password"
PASSWORD_EXEMPT = frozenset({PASSWORD_CHANGE_URL, "/logout", "/api/v1/session"})


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request: committed when the route returns, rolled back on error.

    Scoped to the route function (``DbSession`` below), so the commit happens *before*
    the response is sent: a browser following a POST's 303 must find what it wrote.
    """
    factory: sessionmaker[Session] = request.app.state.sessionmaker
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


DbSession = Annotated[Session, Depends(get_session, scope="function")]


async def _form_csrf(request: Request) -> str | None:
    ctype = request.headers.get("content-type", "")
    if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get("csrf_token")
        return value if isinstance(value, str) else None
    return None


async def current_principal(request: Request, session: DbSession) -> Principal:
    """Bearer token, or a browser session cookie plus a CSRF token on unsafe methods."""
    auth = request.headers.get("authorization", "")
    if auth:
        scheme, _, raw = auth.partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            raise Unauthorized("use 'Authorization: Bearer <token>'")
        # The database work runs on the thread pool, never on the event loop: a loop blocked
        # on a pool connection or a lock stalls every request, the lock's holder included.
        principal = await run_in_threadpool(service.authenticate_token, session, raw.strip())
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        if not cookie:
            raise Unauthorized("log in or send 'Authorization: Bearer <token>'")
        principal, bs = await run_in_threadpool(service.authenticate_session, session, cookie)
        if request.method not in SAFE_METHODS:
            sent = request.headers.get(CSRF_HEADER) or await _form_csrf(request)
            if not sent or sent != bs.csrf_token:
                raise Forbidden("missing or wrong CSRF token")
        request.state.csrf_token = bs.csrf_token
        if principal.must_change_password and request.url.path not in PASSWORD_EXEMPT:
            request.state.principal = principal
            raise PasswordChangeRequired(
                "choose a new password first (your account was set up by an administrator)",
                change_url=PASSWORD_CHANGE_URL,
            )
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_role(*roles: Role) -> Callable[[Principal], Principal]:
    """Admins pass every role check; otherwise the principal's role must be listed."""

    def check(principal: CurrentPrincipal) -> Principal:
        if principal.role is Role.ADMIN or principal.role in roles:
            return principal
        raise Forbidden(f"this needs the role {' or '.join(r.value for r in roles)}")

    return check


def require_scope(scope: str) -> Callable[[Principal], Principal]:
    def check(principal: CurrentPrincipal) -> Principal:
        if not principal.has_scope(scope):
            raise Forbidden(f"this token lacks the scope {scope!r}")
        return principal

    return check


# The role checks every API module uses (admins pass each of them).
AdminPrincipal = Annotated[Principal, Depends(require_role(Role.ADMIN))]
SupervisorPrincipal = Annotated[Principal, Depends(require_role(Role.SUPERVISOR))]
AnalystPrincipal = Annotated[Principal, Depends(require_role(Role.ANALYST, Role.SUPERVISOR))]
