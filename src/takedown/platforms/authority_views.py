"""HTML pages of the TCO authorities registry (Annex I, Section D): the list (every
signed-in user, as the API's GET) and the edit form (admins only, as the API's PUT).

Validation and the audit are the service's (``platforms.authorities``), so the page,
the API and ``takedown authority set`` refuse the same input and record the same event.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, Response

from takedown.accounts.deps import DbSession, needs
from takedown.accounts.models import Role
from takedown.kit import countries
from takedown.kit.errors import TakedownError
from takedown.platforms import authorities
from takedown.platforms.models import TcoAuthority
from takedown.web.deps import FormErrors, OperatorPage, PagePrincipal
from takedown.web.nav import register_nav
from takedown.web.templating import redirect, render

router = APIRouter(include_in_schema=False)

register_nav(
    "TCO authorities", "/admin/authorities", roles=(Role.SUPERVISOR,), section="admin", order=45
)

Country = Annotated[str, Path(pattern=r"^[A-Za-z]{2}$")]
LABELS = {
    "name": "Name",
    "contact_point": "Contact point",
    "notes": "Notes",
    "confirmed": "Confirmed",
}


@router.get(
    "/admin/authorities", response_class=HTMLResponse, dependencies=[needs("platforms:read")]
)
def authorities_page(
    request: Request, principal: PagePrincipal, session: DbSession
) -> HTMLResponse:
    rows = authorities.list_authorities(session)
    return render(
        request,
        "platforms/authorities.html",
        {
            "rows": rows,
            "names": {r.country: countries.country_name(r.country) for r in rows},
            "can_edit": principal.is_admin and principal.instance_wide,
            "to_confirm": authorities.TO_CONFIRM,
        },
        title="TCO authorities",
    )


def _edit_page(
    request: Request,
    row: TcoAuthority | None,
    country: str,
    values: dict[str, Any],
    *,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "platforms/authority_edit.html",
        {
            "row": row,
            "country": country,
            "country_name": countries.country_name(country),
            "values": values,
            "errors": errors or {},
        },
        title=f"TCO authority of {country}",
        status_code=status_code,
    )


@router.get(
    "/admin/authorities/{country}", response_class=HTMLResponse, dependencies=[needs("admin")]
)
def authority_edit(
    country: Country, request: Request, principal: OperatorPage, session: DbSession
) -> HTMLResponse:
    code = country.upper()
    if code not in authorities.EU_MEMBER_STATES:
        authorities.get(session, code)  # raises the service's error for a non-member
    rows = {r.country: r for r in authorities.list_authorities(session)}
    row = rows.get(code)
    values = {
        "name": (row.name if row else None) or "",
        "contact_point": (row.contact_point if row else None) or "",
        "confirmed": bool(row and row.confirmed),
        "notes": row.notes if row else "",
    }
    return _edit_page(request, row, code, values)


@router.post(
    "/admin/authorities/{country}", response_class=HTMLResponse, dependencies=[needs("admin")]
)
def authority_save(
    country: Country,
    request: Request,
    principal: OperatorPage,
    session: DbSession,
    name: Annotated[str, Form(max_length=600)] = "",
    contact_point: Annotated[str, Form(max_length=1000)] = "",
    confirmed: Annotated[str, Form(max_length=10)] = "",
    notes: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    code = country.upper()
    values: dict[str, Any] = {
        "name": name.strip(),
        "contact_point": contact_point.strip(),
        "confirmed": confirmed == "yes",
        "notes": notes.strip(),
    }
    errors: FormErrors = authorities.field_errors(values)
    if not errors:
        try:
            authorities.update(session, principal, code, values)
        except TakedownError as exc:
            session.rollback()
            field = str(exc.extra.get("field") or "name")
            errors[field] = exc.detail
        else:
            return redirect(
                request, "/admin/authorities", notice=f"The authority of {code} was saved."
            )
    readable = {
        k: (LABELS.get(k, k) + v[len(k) :] if v.startswith(k + " ") else v)
        for k, v in errors.items()
    }
    row = None
    return _edit_page(request, row, code, values, errors=readable, status_code=422)
