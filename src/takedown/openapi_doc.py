"""The OpenAPI document says what the API does (issue 19 point 11).

FastAPI documents the success answer and a JSON 422. The API also answers RFC 9457
``application/problem+json`` for 400, 401, 403, 404, 409, 413, 422 and 429, and each
operation needs a token scope. This adds both to every ``/api/v1`` operation, and makes the
422 the problem document it really is. tests/test_api_fuzz.py holds the API to it with
schemathesis' full checks.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI

from takedown.accounts.deps import RequireScope
from takedown.kit.problems import PROBLEM
from takedown.sharing.taxii import MEDIA_TAXII

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "422 only: each invalid field, where and why.",
            "items": {
                "type": "object",
                "properties": {
                    "loc": {"type": "array", "items": {"type": "string"}},
                    "msg": {"type": "string"},
                },
            },
        },
    },
    "additionalProperties": True,
}

WHY = {
    "400": "Bad request: the request cannot be understood (e.g. an unreadable upload).",
    "401": "Not authenticated: no or an invalid, expired or revoked token.",
    "403": "Forbidden: the role or the token's scope does not allow this, or a CSRF check failed.",
    "404": "Not found, or not visible to your agency (the two are not told apart).",
    "409": "Conflict with the current state (a duplicate, a wrong status for this step).",
    "413": "The upload is larger than the instance accepts.",
    "422": "Invalid input: `errors` lists each field and why.",
    "429": "Too many requests: wait `Retry-After` seconds.",
}
TAXII_ERROR: dict[str, Any] = {
    "title": "TaxiiError",
    "description": "TAXII 2.1 error message.",
    "type": "object",
    "properties": {
        "title": {"type": "string"},
        "description": {"type": "string"},
        "http_status": {"type": "string"},
    },
    "additionalProperties": True,
}
TAXII_CODES = ("400", "401", "403", "404", "406", "413", "415", "422", "429")
WHY |= {
    "406": "Not acceptable: this server answers application/taxii+json;version=2.1.",
    "415": "Unsupported media type: send application/taxii+json;version=2.1.",
}
READ_CODES = ("400", "401", "403", "404", "422", "429")
WRITE_CODES = (*READ_CODES, "409", "413")


def _scopes(app: FastAPI) -> dict[tuple[str, str], str]:
    out: dict[tuple[str, str], str] = {}
    for route in app.router.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        pairs = (
            [(c.path or c.original_route.path, c.original_route) for c in contexts()]
            if contexts
            else [(getattr(route, "path", ""), route)]
        )
        for path, r in pairs:
            dependant = getattr(r, "dependant", None)
            if dependant is None:
                continue
            stack = list(dependant.dependencies)
            while stack:
                dep = stack.pop()
                if isinstance(dep.call, RequireScope):
                    norm = re.sub(r"\{(\w+):\w+\}", r"{\1}", path)
                    for m in getattr(r, "methods", ()):
                        out[(m.lower(), norm)] = dep.call.scope
                stack.extend(dep.dependencies)
    return out


def _taxii(ops: dict[str, Any], scopes: dict[tuple[str, str], str], path: str) -> None:
    """TAXII answers its own media type, success and errors alike (sharing.taxii_api)."""
    error = {MEDIA_TAXII: {"schema": {"$ref": "#/components/schemas/TaxiiError"}}}
    for method, op in ops.items():
        responses = op.setdefault("responses", {})
        for code, answer in list(responses.items()):
            if code.startswith("2"):
                answer["content"] = {MEDIA_TAXII: {"schema": {"type": "object"}}}
        for code in TAXII_CODES:
            responses[code] = {"description": WHY[code], "content": error}
        scope = scopes.get((method, path))
        if scope:
            op["x-required-scope"] = scope


def install(app: FastAPI) -> None:
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        ref = {"$ref": "#/components/schemas/Problem"}
        scopes = _scopes(app)
        schema["components"]["schemas"]["TaxiiError"] = TAXII_ERROR
        for path, ops in schema.get("paths", {}).items():
            if path.startswith("/taxii2"):
                _taxii(ops, scopes, path)
            if not path.startswith("/api/"):
                continue
            for method, op in ops.items():
                responses = op.setdefault("responses", {})
                for code in WRITE_CODES if method != "get" else READ_CODES:
                    responses[code] = {
                        "description": WHY[code],
                        "content": {PROBLEM: {"schema": ref}},
                    }
                scope = scopes.get((method, path))
                if scope:
                    op["x-required-scope"] = scope
                    note = f"Token scope: `{scope}`."
                    op["description"] = (op.get("description", "") + "\n\n" + note).strip()
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
