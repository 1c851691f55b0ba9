"""Admin pages for existing accounts: reset a user's password (shown once), edit an
agency, deactivate or reactivate it. The rules (who may act on whom) are in
``accounts.admin``; these pages only show what the viewer may do."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from takedown.accounts import admin, service
from takedown.accounts.deps import DbSession, needs
from takedown.accounts.models import Agency
from takedown.accounts.principal import Principal
from takedown.kit import countries
from takedown.kit.errors import Conflict, InvalidInput
from takedown.kit.types import IdPath
from takedown.web.deps import AdminPage, FormErrors, error_field
from takedown.web.templating import redirect, render

router = APIRouter(include_in_schema=False)

AGENCY_EDIT_FIELDS = {
    "country": ("country",),
    "contact_point": ("contact point",),
    "name": ("name", "already exists"),
}


@router.post(
    "/admin/users/{user_id}/password-reset",
    response_class=HTMLResponse,
    dependencies=[needs("admin")],
)
def user_password_reset(
    user_id: IdPath, request: Request, principal: AdminPage, session: DbSession
) -> Response:
    """A new random password, shown once on this page; the user must change it at login."""
    try:
        reset = admin.reset_password(session, principal, user_id)
    except Conflict as exc:  # yourself, a deactivated user (another agency's: 403)
        session.rollback()
        return redirect(request, "/admin/users", notice=exc.detail, level="error")
    return render(
        request,
        "accounts/password_reset.html",
        {"reset": reset},
        title=f"Password of {reset.user.email} reset",
        headers={"Cache-Control": "no-store"},
    )


def _agency_page(
    request: Request,
    principal: Principal,
    agency: Agency,
    *,
    values: dict[str, str] | None = None,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "accounts/agency.html",
        {
            "agency": agency,
            "countries": countries.choices(),
            "values": values
            or {
                "name": agency.name,
                "country": agency.country,
                "contact_point": agency.contact_point,
            },
            "errors": errors or {},
            "may_edit": admin.may_edit_agency(principal, agency),
            "may_deactivate": principal.instance_wide
            and (agency.id != principal.agency_id or principal.via == "system"),
        },
        title=f"Agency {agency.name}",
        status_code=status_code,
    )


@router.get(
    "/admin/agencies/{agency_id}", response_class=HTMLResponse, dependencies=[needs("admin")]
)
def agency_page(
    agency_id: IdPath, request: Request, principal: AdminPage, session: DbSession
) -> HTMLResponse:
    return _agency_page(request, principal, service.get_agency(session, agency_id))


@router.post(
    "/admin/agencies/{agency_id}", response_class=HTMLResponse, dependencies=[needs("admin")]
)
def agency_update(
    agency_id: IdPath,
    request: Request,
    principal: AdminPage,
    session: DbSession,
    name: Annotated[str, Form(max_length=400)] = "",
    country: Annotated[str, Form(max_length=8)] = "",
    contact_point: Annotated[str, Form(max_length=640)] = "",
) -> Response:
    agency = service.get_agency(session, agency_id)
    values = {"name": name.strip(), "country": country, "contact_point": contact_point.strip()}
    try:
        admin.update_agency(
            session,
            principal,
            agency.id,
            name=values["name"],
            country=values["country"],
            contact_point=values["contact_point"],
        )
    except (InvalidInput, Conflict) as exc:
        session.rollback()
        agency = service.get_agency(session, agency_id)
        errors: FormErrors = {error_field(exc.detail, AGENCY_EDIT_FIELDS): exc.detail}
        return _agency_page(
            request, principal, agency, values=values, errors=errors, status_code=422
        )
    return redirect(request, f"/admin/agencies/{agency.id}", notice="Agency saved.")


@router.post(
    "/admin/agencies/{agency_id}/active", response_model=None, dependencies=[needs("admin")]
)
def agency_active(
    agency_id: IdPath,
    request: Request,
    principal: AdminPage,
    session: DbSession,
    active: Annotated[str, Form(max_length=4)] = "",
) -> Response:
    back = f"/admin/agencies/{agency_id}"
    try:
        agency = admin.set_agency_active(session, principal, agency_id, active == "1")
    except Conflict as exc:  # your own agency (not the instance operator: 403)
        session.rollback()
        return redirect(request, back, notice=exc.detail, level="error")
    text: dict[bool, Any] = {
        True: f"{agency.name} is active again.",
        False: f"{agency.name} is deactivated: its users can no longer log in.",
    }
    return redirect(request, back, notice=text[agency.is_active])
