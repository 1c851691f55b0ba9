"""The API's own documentation pages, /docs (Swagger UI) and /redoc (ReDoc), served
from npm packages installed at build time (``web/assets.py``), never from a CDN:
deployments are often air-gapped, and the app's CSP allows scripts from its own origin
only. Both read ``/openapi.json``; neither needs a login, as the schema itself does not.
"""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from takedown.web.security import csp_with_style_nonce
from takedown.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/docs", response_class=HTMLResponse)
def swagger_ui(request: Request) -> HTMLResponse:
    return render(request, "web/apidocs_swagger.html", {}, title="API (Swagger UI)")


@router.get("/redoc", response_class=HTMLResponse)
def redoc(request: Request) -> HTMLResponse:
    """ReDoc writes its styles into ``<style>`` elements; they carry a nonce made for this
    answer (ReDoc's ``nonce`` option), so the policy still refuses any other inline style."""
    nonce = secrets.token_urlsafe(18)
    response = render(request, "web/apidocs_redoc.html", {"nonce": nonce}, title="API (ReDoc)")
    response.headers["Content-Security-Policy"] = csp_with_style_nonce(nonce)
    return response
