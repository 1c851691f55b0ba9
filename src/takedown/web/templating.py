"""Rendering pages: one Jinja2 environment (autoescape always on) and the shell's context.

Every page goes through :func:`render`, which adds what the layout needs (the
principal, agency name, role, navigation, CSRF token, notices, TLP marking), so
a capability's view passes only its own variables.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.templating import Jinja2Templates

from takedown import __version__
from takedown.accounts.principal import Principal
from takedown.web.nav import nav_for
from takedown.web.security import FLASH_COOKIE, decode_flash, encode_flash, secret_of

TEMPLATES_DIR = Path(__file__).parent / "templates"
TLP_LEVELS = ("CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED")
ROLE_LABELS = {
    "analyst": "Analyst",
    "supervisor": "Supervisor",
    "admin": "Administrator",
    "liaison": "Platform liaison",
}


def _fmt_dt(value: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M UTC") -> str:
    if value is None:
        return "—"
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC)
    return value.strftime(fmt)


def _pretty_json(value: Any) -> str:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return str(value)
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


def _tlp_class(level: str) -> str:
    return "tlp-" + level.lower().replace("+", "-")


def _build_env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        # Everything is escaped, always: titles, handles and captured text come from the wild.
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters["dt"] = _fmt_dt
    env.filters["pretty_json"] = _pretty_json
    env.filters["tlp_class"] = _tlp_class
    env.filters["role_label"] = lambda r: ROLE_LABELS.get(str(r), str(r))
    env.globals["app_version"] = __version__
    env.globals["TLP_LEVELS"] = TLP_LEVELS
    return env


env = _build_env()
templates = Jinja2Templates(env=env)


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def _principal(request: Request) -> Principal | None:
    p = getattr(request.state, "principal", None)
    return p if isinstance(p, Principal) else None


def shell_context(request: Request) -> dict[str, Any]:
    principal = _principal(request)
    key = secret_of(request)
    return {
        "principal": principal,
        "agency_name": getattr(request.state, "agency_name", None),
        "csrf_token": getattr(request.state, "csrf_token", None),
        "nav": nav_for(principal, request.url.path) if principal else [],
        "flashes": decode_flash(key, request.cookies.get(FLASH_COOKIE)),
        # False where no job runs what a page would ask for (``takedown demo``'s dashboard):
        # pages then offer no "Check now" button that could only wait forever (#12.8).
        "background_jobs": background_jobs(request),
    }


def background_jobs(request: Request) -> bool:
    return bool(getattr(request.app.state, "background_jobs", True))


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    title: str = "",
    tlp: str | None = None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """Render a full page in the shell (``base.html``).

    ``tlp``: the page's marking ("CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"),
    shown at the top and bottom of the page; give it on every page that shows marked data.
    """
    if tlp is not None and tlp not in TLP_LEVELS:
        raise ValueError(f"unknown TLP level {tlp!r}")
    ctx = shell_context(request)
    ctx.update({"title": title, "page_tlp": tlp})
    ctx.update(context or {})
    response = templates.TemplateResponse(
        request, template, ctx, status_code=status_code, headers=headers
    )
    if ctx["flashes"]:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def render_fragment(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """Render a partial (for htmx swaps): the template must not extend ``base.html``."""
    ctx: dict[str, Any] = {
        "principal": _principal(request),
        "csrf_token": getattr(request.state, "csrf_token", None),
    }
    ctx.update(context or {})
    return templates.TemplateResponse(
        request, template, ctx, status_code=status_code, headers=headers
    )


def redirect(
    request: Request, url: str, *, notice: str | None = None, level: str = "success"
) -> RedirectResponse:
    """303 See Other after a POST (so reload never re-submits), with an optional notice."""
    response = RedirectResponse(url, status_code=303)
    if notice:
        secure = bool(request.app.state.settings.secure_cookies)
        response.set_cookie(
            FLASH_COOKIE,
            encode_flash(secret_of(request), [(level, notice)]),
            max_age=120,
            path="/",
            httponly=True,
            samesite="strict",
            secure=secure,
        )
    return response
