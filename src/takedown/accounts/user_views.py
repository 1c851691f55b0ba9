"""HTML pages: change your password; an administrator changes a user's role or deactivates them.

A user created on the web must choose their own password first: until they
do, every page redirects here (``accounts.deps`` raises
``PasswordChangeRequired``; ``web.errors`` turns it into the redirect).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from takedown.accounts import service
from takedown.accounts.deps import DbSession, needs
from takedown.accounts.passwords import MIN_PASSWORD_LENGTH
from takedown.kit.errors import Conflict, InvalidInput
from takedown.web.deps import AdminPage, FormErrors, PagePrincipal, error_field
from takedown.web.nav import register_nav
from takedown.web.templating import redirect, render

router = APIRouter(include_in_schema=False)

register_nav("Change password", "/account/password", section="account", order=15)

PASSWORD_FIELDS = {  # checked in this order: the first field whose words the message has
    "repeat_password": ("repeated",),
    "new_password": ("new password",),
    "current_password": ("current password",),
}


def _password_page(
    request: Request,
    *,
    forced: bool,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "accounts/password.html",
        {"errors": errors or {}, "forced": forced, "min_password": MIN_PASSWORD_LENGTH},
        title="Change your password",
        status_code=status_code,
    )


@router.get("/account/password", response_class=HTMLResponse, dependencies=[needs("account:read")])
def password_form(request: Request, principal: PagePrincipal) -> HTMLResponse:
    return _password_page(request, forced=principal.must_change_password)


@router.post(
    "/account/password", response_class=HTMLResponse, dependencies=[needs("account:write")]
)
def password_change(
    request: Request,
    principal: PagePrincipal,
    session: DbSession,
    current_password: Annotated[str, Form(max_length=1024)] = "",
    new_password: Annotated[str, Form(max_length=1024)] = "",
    repeat_password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    errors: FormErrors = {}
    if not current_password:
        errors["current_password"] = "Enter your current password."
    if len(new_password) < MIN_PASSWORD_LENGTH:
        errors["new_password"] = (
            f"The new password must have at least {MIN_PASSWORD_LENGTH} characters."
        )
    if not repeat_password:
        errors["repeat_password"] = "Enter the new password again."
    if not errors:
        try:
            service.change_password(
                session,
                principal,
                current=current_password,
                new=new_password,
                repeat=repeat_password,
            )
        except InvalidInput as exc:
            msg = exc.detail[0].upper() + exc.detail[1:] + "."
            errors[error_field(exc.detail, PASSWORD_FIELDS)] = msg
        else:
            return redirect(request, "/", notice="Your password has been changed.")
    return _password_page(
        request, forced=principal.must_change_password, errors=errors, status_code=422
    )


# --- admin: a user's role and whether they may log in ----------------------------------------


@router.post("/admin/users/{user_id}/role", dependencies=[needs("admin")])
def user_role(
    user_id: int,
    request: Request,
    principal: AdminPage,
    session: DbSession,
    role: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    try:
        user = service.set_role(session, principal, user_id, role)
    except (InvalidInput, Conflict) as exc:
        session.rollback()
        return redirect(request, "/admin/users", notice=exc.detail, level="error")
    return redirect(request, "/admin/users", notice=f"{user.email} is now {user.role}.")


@router.post("/admin/users/{user_id}/active", dependencies=[needs("admin")])
def user_active(
    user_id: int,
    request: Request,
    principal: AdminPage,
    session: DbSession,
    active: Annotated[str, Form(max_length=4)] = "",
) -> Response:
    on = active == "1"
    try:
        user = service.set_active(session, principal, user_id, on)
    except Conflict as exc:
        return redirect(request, "/admin/users", notice=exc.detail, level="error")
    word = "reactivated" if on else "deactivated: they can no longer log in or use their tokens"
    return redirect(request, "/admin/users", notice=f"{user.email} {word}.")
