"""Mount the web UI on the FastAPI app: static files, HTML error pages, the pages' routers.

Called once by ``takedown.app.create_app`` (``install(app, settings)``). Idempotent.
"""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from takedown.config import Settings
from takedown.web import errors
from takedown.web.security import resolve_secret

STATIC_DIR = Path(__file__).parent / "static"
log = logging.getLogger("takedown.web")


def view_routers() -> list[APIRouter]:
    """The shell's pages and those of accounts and audit (other capabilities: app.VIEW_ROUTERS)."""
    from takedown.accounts.admin_views import router as admin_views
    from takedown.accounts.user_views import router as user_views
    from takedown.accounts.views import router as accounts_views
    from takedown.audit.views import router as audit_views
    from takedown.web.apidocs import router as apidocs_views
    from takedown.web.views import router as shell_views

    return [shell_views, apidocs_views, accounts_views, user_views, admin_views, audit_views]


def _ensure_assets() -> None:
    """The npm assets are copied by ``make assets``; a server started another way (an
    editable install, ``takedown serve`` straight after ``npm ci``) copies them itself
    from ./node_modules when they are there, and otherwise says which are missing."""
    from takedown.web import assets

    missing = [name for _, name in assets.ASSETS if not (assets.STATIC / name).is_file()]
    if not missing:
        return
    node_modules = Path.cwd() / "node_modules"
    if node_modules.is_dir():
        try:
            assets.build(node_modules)
            return
        except SystemExit as exc:  # a package is missing from node_modules
            log.warning("front-end assets: %s", exc)
    log.warning(
        "front-end assets missing from %s (%s): run `make assets` (npm ci), or pages lose "
        "htmx and /docs and /redoc stay blank",
        assets.STATIC,
        ", ".join(missing),
    )


def install(app: FastAPI, settings: Settings) -> None:
    if getattr(app.state, "web_installed", False):
        return
    app.state.web_installed = True
    app.state.web_secret = resolve_secret(settings)
    _ensure_assets()
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    errors.install(app)
    for router in view_routers():
        app.include_router(router)
