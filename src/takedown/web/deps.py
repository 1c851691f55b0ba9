"""Dependencies for HTML pages: who is looking, and may they see this page.

``PagePrincipal`` is ``current_principal`` (session cookie, CSRF on POST) plus the
agency's name for the shell. When nobody is logged in it raises ``Unauthorized``,
which the HTML error handler turns into a redirect to ``/login?next=...``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import FormData, UploadFile

from takedown.accounts import service
from takedown.accounts.deps import CurrentPrincipal, DbSession
from takedown.accounts.models import Role
from takedown.accounts.principal import Principal
from takedown.kit.errors import Forbidden


def page_principal(request: Request, session: DbSession, principal: CurrentPrincipal) -> Principal:
    # A plain def: FastAPI runs it on the thread pool, never blocking the loop on the DB.
    if principal.agency_id > 0:
        request.state.agency_name = service.get_agency(session, principal.agency_id).name
    return principal


PagePrincipal = Annotated[Principal, Depends(page_principal)]


async def page_form(request: Request) -> FormData:
    """The posted form, read on the event loop (Starlette caches it on the request).

    A route that writes takes its form this way and stays a plain ``def``: FastAPI runs
    it on the thread pool, so a wait for the database's write lock never blocks the
    event loop (and, with it, the commit of the request that holds the lock).
    """
    return await request.form()


PageForm = Annotated[FormData, Depends(page_form)]


def require_page_role(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """Like ``accounts.deps.require_role`` for pages (admins pass; others get a 403 page)."""

    async def check(principal: PagePrincipal) -> Principal:
        if principal.role is Role.ADMIN or principal.role in roles:
            return principal
        raise Forbidden("this page needs the role " + " or ".join(r.value for r in roles))

    return check


async def require_page_operator(principal: PagePrincipal) -> Principal:
    """Pages that change what every agency shares (the platform registry, the TCO
    authorities, the background jobs): the instance operator (an administrator flagged
    ``takedown user operator``) only; others get a 403 page that says so."""
    if principal.is_admin and principal.instance_wide:
        return principal
    raise Forbidden(
        "this page changes what every agency shares: it is the instance operator's "
        "(an administrator named with `takedown user operator EMAIL`)"
    )


AdminPage = Annotated[Principal, Depends(require_page_role(Role.ADMIN))]
OperatorPage = Annotated[Principal, Depends(require_page_operator)]
SupervisorPage = Annotated[Principal, Depends(require_page_role(Role.SUPERVISOR))]


# --- forms ----------------------------------------------------------------------------------

FormErrors = dict[str, str]


def form_values(form: FormData, *names: str) -> dict[str, str]:
    """The named text fields, stripped; a missing field or an upload is an empty string."""
    out: dict[str, str] = {}
    for name in names:
        value = form.get(name)
        out[name] = value.strip() if isinstance(value, str) else ""
    return out


def form_list(form: FormData, name: str) -> list[str]:
    return [v for v in form.getlist(name) if isinstance(v, str)]


def form_file(form: FormData, name: str) -> UploadFile | None:
    value = form.get(name)
    return value if isinstance(value, UploadFile) else None


def error_field(detail: str, fields: Mapping[str, tuple[str, ...]], default: str = "") -> str:
    """Which form field a service error is about, from words in its message.

    Services raise ``InvalidInput("country 'X' is not ...")``; the page shows the
    message beside the field it names. ``default`` ("" = the form as a whole) otherwise.
    """
    low = detail.lower()
    for field, words in fields.items():
        if any(w in low for w in words):
            return field
    return default
