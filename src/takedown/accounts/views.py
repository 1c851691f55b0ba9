"""HTML pages of accounts: login and logout, your account and API tokens, admin of
agencies, users and roles.

Forms post back to the same URL; on an error the page is rendered again with the
message beside the field (422), on success the browser is redirected (303) with
a notice, except where a secret is shown once (a new token or TOTP secret).
"""

from __future__ import annotations

from typing import Annotated, Any

import pyotp
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from takedown.accounts import repository, service
from takedown.accounts.deps import SESSION_COOKIE, DbSession, needs
from takedown.accounts.models import Agency, AgencyKind, Role, User
from takedown.accounts.passwords import MIN_PASSWORD_LENGTH
from takedown.accounts.principal import Principal
from takedown.accounts.scopes import ROLE_SCOPES, SCOPES
from takedown.kit import countries
from takedown.kit.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    RateLimited,
    TakedownError,
    Unauthorized,
)
from takedown.web.deps import AdminPage, FormErrors, PagePrincipal, SupervisorPage, error_field
from takedown.web.nav import register_nav, register_panel
from takedown.web.pagination import paginate
from takedown.web.security import (
    LOGIN_CSRF_COOKIE,
    LOGIN_CSRF_MAX_AGE,
    check_login_csrf,
    login_csrf_token,
    new_login_nonce,
    safe_next,
    secret_of,
)
from takedown.web.templating import redirect, render

router = APIRouter(include_in_schema=False)

register_nav("Agencies", "/admin/agencies", roles=(Role.ADMIN,), section="admin", order=10)
register_nav("Users", "/admin/users", roles=(Role.SUPERVISOR,), section="admin", order=20)
register_nav("Roles", "/admin/roles", roles=(Role.ADMIN,), section="admin", order=30)
register_nav("Your account", "/account", section="account", order=10)
register_nav("API tokens", "/account/tokens", section="account", order=20)

AGENCY_KINDS = [
    (AgencyKind.NATIONAL_IRU.value, "National Internet Referral Unit"),
    (AgencyKind.COMPETENT_AUTHORITY.value, "Competent authority (TCO)"),
    (AgencyKind.COORDINATOR.value, "Coordinator (e.g. EU IRU)"),
    (AgencyKind.PLATFORM.value, "Hosting platform"),
    (AgencyKind.NGO.value, "NGO / trusted flagger"),
]
KIND_SHORT = {
    AgencyKind.NATIONAL_IRU.value: "National IRU",
    AgencyKind.COMPETENT_AUTHORITY.value: "Competent authority",
    AgencyKind.COORDINATOR.value: "Coordinator",
    AgencyKind.PLATFORM.value: "Platform",
    AgencyKind.NGO.value: "NGO",
}
ROLE_HELP = {
    Role.ANALYST: "Finds, imports and assesses items; prepares referrals.",
    Role.SUPERVISOR: "Everything an analyst does, plus approving removal orders and "
    "seeing the agency's users and audit log.",
    Role.ADMIN: "Runs the instance: agencies, users, tokens, platforms and the whole audit log.",
    Role.LIAISON: "A platform's trust-and-safety contact: answers referrals in the portal.",
}
EXPIRY_CHOICES = [("7", "7 days"), ("30", "30 days"), ("90", "90 days"), ("365", "1 year")]


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


# --- login and logout -----------------------------------------------------------------------


def _login_page(
    request: Request,
    *,
    next_url: str,
    email: str = "",
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    key = secret_of(request)
    nonce = request.cookies.get(LOGIN_CSRF_COOKIE) or new_login_nonce()
    response = render(
        request,
        "accounts/login.html",
        {
            "csrf_token": login_csrf_token(key, nonce),
            "next_url": next_url,
            "email": email,
            "errors": errors or {},
        },
        title="Log in",
        status_code=status_code,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        nonce,
        max_age=LOGIN_CSRF_MAX_AGE,
        path="/login",
        httponly=True,
        samesite="strict",
        secure=bool(request.app.state.settings.secure_cookies),
    )
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, session: DbSession, next: str = "/") -> Response:
    next_url = safe_next(next)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        try:
            service.authenticate_session(session, cookie)
        except TakedownError:
            pass
        else:
            return RedirectResponse(next_url, status_code=303)
    return _login_page(request, next_url=next_url)


@router.post("/login", response_class=HTMLResponse)
def login_submit(
    request: Request,
    session: DbSession,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    totp: Annotated[str, Form(max_length=12)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    settings = request.app.state.settings
    next_url = safe_next(next)
    email = email.strip()
    if not check_login_csrf(secret_of(request), request.cookies.get(LOGIN_CSRF_COOKIE), csrf_token):
        return _login_page(
            request,
            next_url=next_url,
            email=email,
            errors={"": "This form has expired or was not sent from this site. Please try again."},
            status_code=403,
        )
    errors: FormErrors = {}
    if not email:
        errors["email"] = "Enter your e-mail address."
    if not password:
        errors["password"] = "Enter your password."
    if errors:
        return _login_page(request, next_url=next_url, email=email, errors=errors, status_code=422)
    try:
        result = service.login(
            session,
            email=email,
            password=password,
            totp_code=totp.strip() or None,
            client_ip=_client_ip(request),
            max_attempts=settings.login_max_attempts,
            max_attempts_per_address=settings.login_max_attempts_per_address,
            window_seconds=settings.login_window_seconds,
            max_age_seconds=settings.session_max_age_seconds,
        )
    except RateLimited as exc:
        # The failed attempts recorded by login() are committed: this view returns normally.
        response = _login_page(
            request, next_url=next_url, email=email, errors={"": exc.detail}, status_code=429
        )
        response.headers["Retry-After"] = str(exc.extra.get("retry_after", 60))
        return response
    except Unauthorized:
        return _login_page(
            request,
            next_url=next_url,
            email=email,
            errors={
                "": "Wrong e-mail, password or one-time code. "
                "If your account uses a one-time code, enter the current one."
            },
            status_code=401,
        )
    done = RedirectResponse(next_url, status_code=303)
    done.set_cookie(
        SESSION_COOKIE,
        result.session_token,
        httponly=True,
        samesite="strict",
        secure=bool(settings.secure_cookies),
        max_age=settings.session_max_age_seconds,
        path="/",
    )
    done.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return done


@router.post("/logout", dependencies=[needs("account:write")])
def logout(request: Request, principal: PagePrincipal, session: DbSession) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        service.logout(session, cookie)
    response = redirect(request, "/login", notice="You have logged out.", level="info")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# --- your account and tokens ----------------------------------------------------------------


def _account_panel(session: Any, principal: Principal) -> dict[str, Any]:
    user = service.get_user(session, principal.user_id)
    return {"user": user}


register_panel("account", "Your account", "accounts/_panel_account.html", _account_panel, order=900)


@router.get("/account", response_class=HTMLResponse, dependencies=[needs("account:read")])
def account(request: Request, principal: PagePrincipal, session: DbSession) -> HTMLResponse:
    user = service.get_user(session, principal.user_id)
    return render(request, "accounts/account.html", {"user": user}, title="Your account")


def scope_choices(role: Role) -> list[tuple[str, str]]:
    """The scopes a role may hold, with what each grants: all the token page offers (#13.16)."""
    return [(s, f"{s}: {SCOPES[s]}") for s in sorted(ROLE_SCOPES[role])]


def _tokens_page(
    request: Request,
    session: DbSession,
    principal: Principal,
    *,
    values: dict[str, Any] | None = None,
    errors: FormErrors | None = None,
    issued: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    # A user's own tokens: few; newest first, capped so the page stays bounded.
    tokens = list(reversed(repository.tokens_of_user(session, principal.user_id)))[:200]
    return render(
        request,
        "accounts/tokens.html",
        {
            "tokens": tokens,
            "scope_choices": scope_choices(principal.role),
            "expiry_choices": EXPIRY_CHOICES,
            "values": values or {"name": "", "scopes": [], "expires_in_days": "90"},
            "errors": errors or {},
            "issued": issued,
        },
        title="API tokens",
        status_code=status_code,
    )


@router.get("/account/tokens", response_class=HTMLResponse, dependencies=[needs("account:read")])
def tokens(request: Request, principal: PagePrincipal, session: DbSession) -> HTMLResponse:
    return _tokens_page(request, session, principal)


@router.post("/account/tokens", response_class=HTMLResponse, dependencies=[needs("tokens:write")])
def token_create(
    request: Request,
    principal: PagePrincipal,
    session: DbSession,
    name: Annotated[str, Form(max_length=200)] = "",
    scopes: Annotated[list[str] | None, Form()] = None,
    expires_in_days: Annotated[str, Form(max_length=8)] = "90",
) -> HTMLResponse:
    name = name.strip()
    chosen = scopes or []
    values = {"name": name, "scopes": chosen, "expires_in_days": expires_in_days}
    errors: FormErrors = {}
    if not name:
        errors["name"] = "Say what the token is for, e.g. “intake script”."
    if expires_in_days not in {v for v, _ in EXPIRY_CHOICES}:
        errors["expires_in_days"] = "Choose one of the listed durations."
    offered = {s for s, _ in scope_choices(principal.role)}
    refused = [s for s in chosen if s not in offered]
    if refused:
        errors["scopes"] = "Not a scope your role may hold: " + ", ".join(refused)
    if errors:
        return _tokens_page(
            request, session, principal, values=values, errors=errors, status_code=422
        )
    try:
        issued = service.create_token(
            session,
            principal,
            user_id=principal.user_id,
            name=name,
            scopes=chosen or ["*"],
            expires_in_days=int(expires_in_days),
        )
    except Forbidden as exc:  # a token asking for more than it holds
        errors["scopes"] = exc.detail
        return _tokens_page(
            request, session, principal, values=values, errors=errors, status_code=403
        )
    return _tokens_page(request, session, principal, issued=issued.token, status_code=201)


@router.post("/account/tokens/{token_id}/revoke", dependencies=[needs("tokens:write")])
def token_revoke(
    token_id: int, request: Request, principal: PagePrincipal, session: DbSession
) -> Response:
    own = {t.id: t for t in repository.tokens_of_user(session, principal.user_id)}
    if token_id not in own:
        raise NotFound(f"token {token_id} does not exist")
    service.revoke_token(session, principal, token_id)
    return redirect(request, "/account/tokens", notice=f"Token “{own[token_id].name}” revoked.")


# --- admin: agencies ------------------------------------------------------------------------

AGENCY_FIELDS = {
    "country": ("country",),
    "kind": ("kind",),
    "platform_slug": ("platform",),
    "name": ("name", "already exists"),
}


def _agencies_page(
    request: Request,
    session: DbSession,
    *,
    values: dict[str, str] | None = None,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    rows, pager = paginate(
        request,
        lambda limit, offset: repository.list_agencies(session, limit=limit, offset=offset),
    )
    return render(
        request,
        "accounts/agencies.html",
        {
            "agencies": rows,
            "pager": pager,
            "kinds": AGENCY_KINDS,
            "kind_short": KIND_SHORT,
            "countries": countries.choices(),
            "values": values
            or {
                "name": "",
                "country": "",
                "kind": "national_iru",
                "contact_point": "",
                "platform_slug": "",
            },
            "errors": errors or {},
        },
        title="Agencies",
        status_code=status_code,
    )


@router.get("/admin/agencies", response_class=HTMLResponse, dependencies=[needs("admin")])
def agencies(request: Request, principal: AdminPage, session: DbSession) -> HTMLResponse:
    return _agencies_page(request, session)


@router.post("/admin/agencies", response_class=HTMLResponse, dependencies=[needs("admin")])
def agency_create(
    request: Request,
    principal: AdminPage,
    session: DbSession,
    name: Annotated[str, Form(max_length=400)] = "",
    country: Annotated[str, Form(max_length=40)] = "",
    kind: Annotated[str, Form(max_length=40)] = "",
    contact_point: Annotated[str, Form(max_length=640)] = "",
    platform_slug: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    values = {
        "name": name.strip(),
        "country": country.strip().upper(),
        "kind": kind,
        "contact_point": contact_point.strip(),
        "platform_slug": platform_slug.strip(),
    }
    errors: FormErrors = {}
    if not values["name"]:
        errors["name"] = "Enter the agency's name."
    elif len(values["name"]) > 200:
        errors["name"] = "The name can have at most 200 characters."
    if not values["country"]:
        errors["country"] = "Choose the agency's country."
    if len(values["contact_point"]) > 320:
        errors["contact_point"] = "The contact point can have at most 320 characters."
    if not errors:
        try:
            agency = service.create_agency(
                session,
                principal,
                name=values["name"],
                country=values["country"],
                kind=values["kind"],
                contact_point=values["contact_point"],
                platform_slug=values["platform_slug"] or None,
            )
        except (InvalidInput, Conflict) as exc:
            errors[error_field(exc.detail, AGENCY_FIELDS)] = exc.detail
        else:
            return redirect(request, "/admin/agencies", notice=f"Agency “{agency.name}” added.")
    return _agencies_page(request, session, values=values, errors=errors, status_code=422)


# --- admin: users ---------------------------------------------------------------------------

USER_FIELDS = {
    "email": ("e-mail", "email"),
    "role": ("role", "liaison"),
    "password": ("password",),
    "agency_id": ("agency",),
}


def _agency_options(session: DbSession) -> list[tuple[str, str]]:
    rows, _ = repository.list_agencies(session, limit=500, offset=0)
    return [(str(a.id), f"{a.name} ({a.country})") for a in rows]


def _users_page(
    request: Request,
    session: DbSession,
    principal: Principal,
    *,
    values: dict[str, str] | None = None,
    errors: FormErrors | None = None,
    totp_secret: tuple[User, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    agency_id = None if principal.is_operator else principal.agency_id
    rows, pager = paginate(
        request,
        lambda limit, offset: repository.list_users(
            session, agency_id=agency_id, limit=limit, offset=offset
        ),
    )
    agency_names: dict[int, Agency] = {}
    for u in rows:
        if u.agency_id not in agency_names:
            agency_names[u.agency_id] = service.get_agency(session, u.agency_id)
    ctx: dict[str, Any] = {
        "users": rows,
        "pager": pager,
        "agencies_by_id": agency_names,
        "errors": errors or {},
        "totp": None,
    }
    if totp_secret is not None:
        user, secret = totp_secret
        uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name="takedown")
        ctx["totp"] = {"email": user.email, "secret": secret, "uri": uri}
    if principal.is_admin:
        ctx["agency_options"] = _agency_options(session)
        ctx["role_options"] = [(r.value, r.value.capitalize()) for r in Role]
        ctx["values"] = values or {
            "email": "",
            "display_name": "",
            "role": "analyst",
            "agency_id": "",
            "totp": "",
        }
        ctx["min_password"] = MIN_PASSWORD_LENGTH
    return render(request, "accounts/users.html", ctx, title="Users", status_code=status_code)


@router.get("/admin/users", response_class=HTMLResponse, dependencies=[needs("users:read")])
def users(request: Request, principal: SupervisorPage, session: DbSession) -> HTMLResponse:
    return _users_page(request, session, principal)


@router.post("/admin/users", response_class=HTMLResponse, dependencies=[needs("admin")])
def user_create(
    request: Request,
    principal: AdminPage,
    session: DbSession,
    email: Annotated[str, Form(max_length=640)] = "",
    display_name: Annotated[str, Form(max_length=400)] = "",
    role: Annotated[str, Form(max_length=40)] = "",
    agency_id: Annotated[str, Form(max_length=20)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    totp: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    values = {
        "email": email.strip(),
        "display_name": display_name.strip(),
        "role": role,
        "agency_id": agency_id,
        "totp": totp,
    }
    errors: FormErrors = {}
    if not values["email"]:
        errors["email"] = "Enter the user's e-mail address."
    if not agency_id.isdigit():
        errors["agency_id"] = "Choose the user's agency."
    if len(password) < MIN_PASSWORD_LENGTH:
        errors["password"] = f"The password must have at least {MIN_PASSWORD_LENGTH} characters."
    if len(values["display_name"]) > 200:
        errors["display_name"] = "The name can have at most 200 characters."
    if not errors:
        try:
            user = service.create_user(
                session,
                principal,
                agency_id=int(agency_id),
                email=values["email"],
                role=role,
                password=password,
                display_name=values["display_name"],
                must_change_password=True,
            )
        except (InvalidInput, Conflict, NotFound) as exc:
            errors[error_field(exc.detail, USER_FIELDS)] = exc.detail
        else:
            if totp:
                secret = service.enable_totp(session, principal, user.id)
                return _users_page(
                    request, session, principal, totp_secret=(user, secret), status_code=201
                )
            return redirect(request, "/admin/users", notice=f"User {user.email} added.")
    return _users_page(request, session, principal, values=values, errors=errors, status_code=422)


@router.post(
    "/admin/users/{user_id}/totp", response_class=HTMLResponse, dependencies=[needs("admin")]
)
def user_totp(
    user_id: int, request: Request, principal: AdminPage, session: DbSession
) -> HTMLResponse:
    """Set up (or reset, for a lost phone) a user's one-time codes; the secret is shown once."""
    user = service.user_of_agency(session, principal, user_id)
    secret = service.enable_totp(session, principal, user.id)
    return _users_page(request, session, principal, totp_secret=(user, secret))


@router.get("/admin/roles", response_class=HTMLResponse, dependencies=[needs("admin")])
def roles(request: Request, principal: AdminPage) -> HTMLResponse:
    return render(
        request,
        "accounts/roles.html",
        {"roles": [(r.value, ROLE_HELP[r]) for r in Role]},
        title="Roles",
    )
