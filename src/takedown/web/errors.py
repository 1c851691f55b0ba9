"""Error pages for the browser; problem+json stays the answer under /api/ and /taxii2/.

Why here and not in ``kit.problems``: HTML pages need the shell and a login
redirect, the API must never get either. The handlers below wrap the API's
handlers and hand API paths back to them unchanged.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from takedown.accounts import service as accounts
from takedown.accounts.deps import SESSION_COOKIE
from takedown.kit.errors import PasswordChangeRequired, TakedownError
from takedown.web.templating import is_htmx, render, render_fragment

log = logging.getLogger("takedown.web")

API_PREFIXES = ("/api/", "/taxii2/", "/openapi.json", "/docs", "/redoc", "/healthz")
Handler = Callable[[Request, Any], Response | Awaitable[Response]]


async def _call(handler: Handler, request: Request, exc: Exception) -> Response:
    result = handler(request, exc)
    if inspect.isawaitable(result):
        return await result
    return result


TITLES = {
    400: "Bad request",
    401: "Please log in",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed",
    409: "Conflict",
    413: "Too large",
    422: "Invalid input",
    429: "Too many attempts",
    500: "Something went wrong",
    503: "Unavailable",
}


def is_api_path(path: str) -> bool:
    return path.startswith(API_PREFIXES)


def wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def login_redirect(request: Request) -> Response:
    """Send a browser to the login page, coming back here afterwards when it is a GET.

    Only browsers (``Accept: text/html``) and htmx are redirected; a script without
    credentials gets a plain 401 page, so "who may call this" stays testable.
    """
    target = "/login"
    if request.method == "GET":
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if is_htmx(request):
            current = request.headers.get("hx-current-url", "")
            parts = urlsplit(current)
            here = parts.path + (f"?{parts.query}" if parts.query else "") if current else "/"
        if here not in ("/", "/login"):
            target = f"/login?next={quote(here, safe='/')}"
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": target})
    if not wants_html(request):
        return error_page(request, 401, "Log in to see this page.")
    return RedirectResponse(target, status_code=303)


def _recognise_visitor(request: Request) -> None:
    """An error raised before the route's dependencies ran (an unknown address: 404, 405)
    knows nobody; look at the session cookie, read-only, so a logged-in user gets the
    shell and "Back to the start page" instead of "Log in". Nobody found is fine."""
    if getattr(request.state, "principal", None) is not None:
        return
    cookie = request.cookies.get(SESSION_COOKIE)
    factory = getattr(request.app.state, "sessionmaker", None)
    if not cookie or factory is None:
        return
    with factory() as session:
        try:
            principal, bs = accounts.authenticate_session(session, cookie)
        except TakedownError:
            return
        request.state.principal = principal
        request.state.csrf_token = bs.csrf_token
        if principal.agency_id > 0:
            request.state.agency_name = accounts.get_agency(session, principal.agency_id).name
        session.rollback()


def error_page(
    request: Request, status: int, detail: str, headers: dict[str, str] | None = None
) -> Response:
    if not is_htmx(request):
        _recognise_visitor(request)
    title = TITLES.get(status, "Error")
    ctx = {"status": status, "error_title": title, "detail": detail}
    if is_htmx(request):
        # htmx swaps error answers into the notice area (see static/js/app.js).
        hx = {"HX-Retarget": "#flash", "HX-Reswap": "innerHTML", **(headers or {})}
        return render_fragment(request, "errors/_notice.html", ctx, status_code=status, headers=hx)
    return render(
        request, "errors/error.html", ctx, title=title, status_code=status, headers=headers
    )


def install(app: FastAPI) -> None:
    api_takedown: Handler | None = app.exception_handlers.get(TakedownError)
    api_http: Handler | None = app.exception_handlers.get(StarletteHTTPException)
    api_validation: Handler | None = app.exception_handlers.get(RequestValidationError)
    api_crash: Handler | None = app.exception_handlers.get(Exception)

    async def on_takedown(request: Request, exc: TakedownError) -> Response:
        if is_api_path(request.url.path) and api_takedown is not None:
            return await _call(api_takedown, request, exc)
        if exc.status == 401:
            return login_redirect(request)
        if isinstance(exc, PasswordChangeRequired):
            target = str(exc.extra.get("change_url", "/account/password"))
            if is_htmx(request):
                return Response(status_code=204, headers={"HX-Redirect": target})
            return RedirectResponse(target, status_code=303)
        headers = {}
        if "retry_after" in exc.extra:
            headers["Retry-After"] = str(exc.extra["retry_after"])
        return error_page(request, exc.status, exc.detail, headers or None)

    async def on_http(request: Request, exc: StarletteHTTPException) -> Response:
        if is_api_path(request.url.path) and api_http is not None:
            return await _call(api_http, request, exc)
        if exc.status_code == 401:
            return login_redirect(request)
        detail = {
            404: "There is nothing at this address, or you may not see it.",
            405: "This address does not accept that kind of request.",
        }.get(exc.status_code, str(exc.detail))
        return error_page(request, exc.status_code, detail)

    async def on_validation(request: Request, exc: RequestValidationError) -> Response:
        if is_api_path(request.url.path) and api_validation is not None:
            return await _call(api_validation, request, exc)
        return error_page(request, 400, "The address or the form has an invalid value.")

    async def on_crash(request: Request, exc: Exception) -> Response:
        if is_api_path(request.url.path) and api_crash is not None:
            return await _call(api_crash, request, exc)
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_page(request, 500, "An unexpected error occurred; it was logged.")

    app.add_exception_handler(TakedownError, on_takedown)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, on_http)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, on_validation)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, on_crash)
