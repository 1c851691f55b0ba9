"""RFC 9457 problem+json for every error the API can answer."""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from takedown.kit.errors import TakedownError

PROBLEM = "application/problem+json"
log = logging.getLogger("takedown")


def problem_response(
    status: int,
    title: str,
    detail: str,
    *,
    instance: str | None = None,
    slug: str = "error",
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"https://takedown.invalid/problems/{slug}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _route_table(app: Any) -> list[tuple[re.Pattern[str], frozenset[str]]]:
    """(path regex, methods) of every route, included routers opened (cached on the app)."""
    table: list[tuple[re.Pattern[str], frozenset[str]]] | None = getattr(
        app.state, "_allow_table", None
    )
    if table is not None:
        return table
    table = []
    for route in app.router.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        pairs = (
            [(c.path or c.original_route.path, c.original_route) for c in contexts()]
            if contexts
            else [(getattr(route, "path", ""), route)]
        )
        for path, r in pairs:
            methods = getattr(r, "methods", None)
            if path and methods:
                regex, _fmt, _conv = compile_path(path)
                table.append((regex, frozenset(methods)))
    app.state._allow_table = table
    return table


def allowed_methods(app: Any, path: str) -> list[str]:
    """Every method some route serves at ``path`` (for a 405's ``Allow``)."""
    found: set[str] = set()
    for regex, methods in _route_table(app):
        if regex.match(path):
            found |= methods
    if "GET" in found:
        found.add("HEAD")
    return sorted(found)


def install(app: FastAPI) -> None:
    @app.exception_handler(TakedownError)
    async def _takedown(request: Request, exc: TakedownError) -> JSONResponse:
        headers = {}
        if "retry_after" in exc.extra:
            headers["Retry-After"] = str(exc.extra["retry_after"])
        if exc.status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        return JSONResponse(
            exc.problem(request.url.path),
            status_code=exc.status,
            media_type=PROBLEM,
            headers=headers or None,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))}
            for e in exc.errors()
        ]
        loc: list[str] = errors[0]["loc"] if errors else []  # type: ignore[assignment]
        msg = str(errors[0]["msg"]) if errors else "invalid request"
        detail = f"{'.'.join(loc)}: {msg}" if loc else msg
        return problem_response(
            422,
            "Invalid input",
            detail,
            instance=request.url.path,
            slug="invalid-input",
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(exc.headers) if exc.headers else {}
        if exc.status_code == 405:
            # Starlette names only the first route whose path matched; name them all.
            allowed = allowed_methods(request.app, request.url.path)
            if allowed:
                headers["Allow"] = ", ".join(allowed)
        return problem_response(
            exc.status_code,
            str(exc.detail),
            str(exc.detail),
            instance=request.url.path,
            slug=f"http-{exc.status_code}",
            headers=headers or None,
        )

    @app.exception_handler(OverflowError)
    @app.exception_handler(DataError)
    async def _out_of_range(request: Request, exc: Exception) -> JSONResponse:
        # Defence in depth: ids and numbers are bounded at the edge (kit.types), but a
        # value the database cannot hold must still be the caller's 422, never a 500.
        return problem_response(
            422,
            "Invalid input",
            "a number in the request is out of range for this field",
            instance=request.url.path,
            slug="invalid-input",
        )

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(
            500,
            "Internal error",
            "an unexpected error occurred; it was logged",
            instance=request.url.path,
            slug="internal",
        )
