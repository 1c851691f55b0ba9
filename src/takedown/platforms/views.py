"""HTML pages of the platform registry: the list (every signed-in user, as the API's
GET), the new-platform form (admins only, as the API's POST) and the edit form (admins
only, as the API's PATCH).

The registry is instance-wide reference data, not an agency's rows. Validation is the
service's (``service.field_errors``, then ``service.create_platform`` or
``service.update``), so the pages and the API refuse the same input; every change is
audited by the service (``platform.create``, ``platform.update``).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, Response

from takedown.accounts.deps import DbSession, needs
from takedown.accounts.models import Role
from takedown.kit import countries
from takedown.kit.errors import TakedownError
from takedown.platforms import service
from takedown.platforms.models import DeliveryChannel, Platform, PlatformKind
from takedown.web.deps import FormErrors, OperatorPage, PagePrincipal, error_field
from takedown.web.nav import register_nav
from takedown.web.pagination import paginate
from takedown.web.templating import redirect, render

router = APIRouter(include_in_schema=False)

# Every signed-in user may read the registry (the API's GET needs only a principal), but
# the link sits in the Administration section, which analysts and liaisons do not get
# (tests/web/test_shell.py): supervisors and admins see it; anyone may open the URL.
register_nav("Platforms", "/admin/platforms", roles=(Role.SUPERVISOR,), section="admin", order=40)

Slug = Annotated[str, Path(pattern=r"^[a-z0-9_\-]{1,64}$")]

KIND_LABELS = {
    PlatformKind.SOCIAL.value: "Social network",
    PlatformKind.VIDEO.value: "Video host",
    PlatformKind.MESSAGING.value: "Messaging",
    PlatformKind.CHAT_SERVER.value: "Chat server",
    PlatformKind.ARCHIVE.value: "Archive",
    PlatformKind.FILE_HOST.value: "File host",
    PlatformKind.PASTE.value: "Paste site",
    PlatformKind.BLOG.value: "Blog",
    PlatformKind.WEBSITE.value: "Website",
    PlatformKind.ONION.value: "Onion site",
}
CHANNEL_LABELS = {
    DeliveryChannel.API.value: "Platform API",
    DeliveryChannel.EMAIL.value: "E-mail",
    DeliveryChannel.PORTAL.value: "Portal",
    DeliveryChannel.EXPORT.value: "Export (sent by hand)",
}
FIELDS = (
    "name",
    "kind",
    "country",
    "domains",
    "tco_contact_point",
    "legal_representative",
    "delivery_channel",
    "api_endpoint",
    "notes",
)
_DOMAIN_SPLIT = re.compile(r"[\s,]+")
LABELS = {
    "slug": "Slug",
    "name": "Name",
    "kind": "Kind",
    "country": "Country",
    "domains": "Domains",
    "tco_contact_point": "TCO contact point",
    "legal_representative": "Legal representative",
    "delivery_channel": "Delivery channel",
    "api_endpoint": "API endpoint",
    "notes": "Notes",
}


def _readable(errors: FormErrors) -> FormErrors:
    """The service names fields as the API does ("tco_contact_point must ..."); say the label."""
    out: FormErrors = {}
    for name, message in errors.items():
        for prefix in (f"{name} ", f"{name}: "):
            if name in LABELS and message.startswith(prefix):
                message = LABELS[name] + message[len(name) :]
                break
        out[name] = message
    return out


def _values_of(p: Platform) -> dict[str, str]:
    return {
        "name": p.name,
        "kind": p.kind,
        "country": p.country or "",
        "domains": "\n".join(p.domains or []),
        "tco_contact_point": p.tco_contact_point or "",
        "legal_representative": p.legal_representative or "",
        "delivery_channel": p.delivery_channel,
        "api_endpoint": p.api_endpoint or "",
        "notes": p.notes or "",
    }


def _changes(values: dict[str, str]) -> dict[str, object]:
    """The form's text as the service's input: domains one per line (or comma-separated)."""
    changes: dict[str, object] = dict(values)
    changes["domains"] = [d for d in _DOMAIN_SPLIT.split(values["domains"]) if d]
    return changes


@router.get("/admin/platforms", response_class=HTMLResponse, dependencies=[needs("platforms:read")])
def platforms(request: Request, principal: PagePrincipal, session: DbSession) -> HTMLResponse:
    rows, pager = paginate(
        request,
        lambda limit, offset: service.list_platforms(session, limit=limit, offset=offset),
    )
    return render(
        request,
        "platforms/list.html",
        {
            "platforms": rows,
            "pager": pager,
            "kind_labels": KIND_LABELS,
            "channel_labels": CHANNEL_LABELS,
            "can_edit": principal.is_admin and principal.instance_wide,
        },
        title="Platforms",
    )


def _edit_page(
    request: Request,
    platform: Platform | None,
    values: dict[str, str],
    *,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The edit form of ``platform``, or the new-platform form when it is None."""
    ctx: dict[str, Any] = {
        "platform": platform,
        "action": f"/admin/platforms/{platform.slug}" if platform else "/admin/platforms/new",
        "values": values,
        "errors": errors or {},
        "kinds": list(KIND_LABELS.items()),
        "countries": countries.choices(include_eu=False),
        "channels": list(CHANNEL_LABELS.items()),
    }
    return render(
        request,
        "platforms/edit.html",
        ctx,
        title=f"Platform {platform.name}" if platform else "New platform",
        status_code=status_code,
    )


def _form_values(**raw: str) -> dict[str, str]:
    """The form as typed (trimmed), to show again beside the errors."""
    return {name: value if name in ("kind", "delivery_channel") else value.strip()
            for name, value in raw.items()}  # fmt: skip


NEW_VALUES = {f: "" for f in ("slug", *FIELDS)} | {"delivery_channel": DeliveryChannel.EXPORT.value}


# Before /admin/platforms/{slug}: "new" is a reserved slug, never a platform.
@router.get("/admin/platforms/new", response_class=HTMLResponse, dependencies=[needs("admin")])
def platform_new(request: Request, principal: OperatorPage) -> HTMLResponse:
    return _edit_page(request, None, dict(NEW_VALUES))


@router.post("/admin/platforms/new", response_class=HTMLResponse, dependencies=[needs("admin")])
def platform_create(
    request: Request,
    principal: OperatorPage,
    session: DbSession,
    slug: Annotated[str, Form(max_length=200)] = "",
    name: Annotated[str, Form(max_length=400)] = "",
    kind: Annotated[str, Form(max_length=40)] = "",
    country: Annotated[str, Form(max_length=64)] = "",
    domains: Annotated[str, Form(max_length=60_000)] = "",
    tco_contact_point: Annotated[str, Form(max_length=1000)] = "",
    legal_representative: Annotated[str, Form(max_length=1000)] = "",
    delivery_channel: Annotated[str, Form(max_length=40)] = "",
    api_endpoint: Annotated[str, Form(max_length=1000)] = "",
    notes: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    values = _form_values(
        slug=slug, name=name, kind=kind, country=country, domains=domains,
        tco_contact_point=tco_contact_point, legal_representative=legal_representative,
        delivery_channel=delivery_channel, api_endpoint=api_endpoint, notes=notes,
    )  # fmt: skip
    fields = _changes(values)
    errors: FormErrors = service.field_errors(fields, session=session)
    if not errors:
        try:
            platform = service.create_platform(session, principal, fields)
        except TakedownError as exc:  # the same rules; kept as a safety net
            errors[error_field(exc.detail, {f: (f,) for f in ("slug", *FIELDS)})] = exc.detail
        else:
            return redirect(
                request, "/admin/platforms", notice=f"Platform “{platform.name}” added."
            )
    return _edit_page(request, None, values, errors=_readable(errors), status_code=422)


@router.get("/admin/platforms/{slug}", response_class=HTMLResponse, dependencies=[needs("admin")])
def platform_edit(
    slug: Slug, request: Request, principal: OperatorPage, session: DbSession
) -> HTMLResponse:
    platform = service.get(session, slug)
    return _edit_page(request, platform, _values_of(platform))


@router.post("/admin/platforms/{slug}", response_class=HTMLResponse, dependencies=[needs("admin")])
def platform_save(
    slug: Slug,
    request: Request,
    principal: OperatorPage,
    session: DbSession,
    name: Annotated[str, Form(max_length=400)] = "",
    kind: Annotated[str, Form(max_length=40)] = "",
    country: Annotated[str, Form(max_length=64)] = "",
    domains: Annotated[str, Form(max_length=60_000)] = "",
    tco_contact_point: Annotated[str, Form(max_length=1000)] = "",
    legal_representative: Annotated[str, Form(max_length=1000)] = "",
    delivery_channel: Annotated[str, Form(max_length=40)] = "",
    api_endpoint: Annotated[str, Form(max_length=1000)] = "",
    notes: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    platform = service.get(session, slug)  # unknown slug: 404 before the form is read
    values = _form_values(
        name=name, kind=kind, country=country, domains=domains,
        tco_contact_point=tco_contact_point, legal_representative=legal_representative,
        delivery_channel=delivery_channel, api_endpoint=api_endpoint, notes=notes,
    )  # fmt: skip
    changes = _changes(values)
    errors: FormErrors = service.field_errors(changes, session=session, slug=slug)
    if not errors:
        try:
            service.update(session, principal, slug, changes)
        except TakedownError as exc:  # the same rules; kept as a safety net
            errors[error_field(exc.detail, {f: (f,) for f in FIELDS})] = exc.detail
        else:
            return redirect(
                request, "/admin/platforms", notice=f"Platform “{platform.name}” saved."
            )
    return _edit_page(request, platform, values, errors=_readable(errors), status_code=422)
