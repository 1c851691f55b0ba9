"""The FastAPI composition root: settings, database, routers, error handling, headers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request, Response
from sqlalchemy import Engine

from takedown import __version__
from takedown.accounts.api import router as accounts_router
from takedown.audit.api import router as audit_router
from takedown.bootstrap import wire_hooks
from takedown.config import Settings, get_settings
from takedown.db import make_engine, make_sessionmaker
from takedown.evidence.api import router as evidence_router
from takedown.evidence.views import router as evidence_views
from takedown.items.api import router as items_router
from takedown.items.intake_views import router as intake_views
from takedown.items.views import router as items_views
from takedown.kit import problems
from takedown.kit.jobs import (
    Dispatcher,
    DramatiqDispatcher,
    InProcessDispatcher,
    TickerThread,
    make_broker,
)
from takedown.matching.api import router as matching_router
from takedown.matching.views import router as matching_views
from takedown.monitoring.api import router as monitoring_router
from takedown.monitoring.views import router as monitoring_views
from takedown.operations.api import router as operations_router
from takedown.operations.views import router as operations_views
from takedown.platforms.api import router as platforms_router
from takedown.platforms.authority_views import router as authority_views
from takedown.platforms.views import router as platforms_views
from takedown.referrals.api import router as referrals_router
from takedown.referrals.views import router as referrals_views
from takedown.resurgence.api import router as resurgence_router
from takedown.resurgence.views import router as resurgence_views
from takedown.sharing import taxii_api
from takedown.sharing.api import router as sharing_router
from takedown.sharing.views import router as sharing_views
from takedown.verification.api import router as verification_router
from takedown.verification.views import router as verification_views
from takedown.web.security import CSP
from takedown.web.setup import install as install_web
from takedown.worker import load_job_modules

API_ROUTERS: list[APIRouter] = [
    accounts_router,
    audit_router,
    platforms_router,
    items_router,
    matching_router,
    evidence_router,
    referrals_router,
    verification_router,
    monitoring_router,
    operations_router,
    taxii_api.router,
    sharing_router,
    resurgence_router,
]
VIEW_ROUTERS: list[APIRouter] = [
    intake_views,
    items_views,
    evidence_views,
    matching_views,
    referrals_views,
    verification_views,
    monitoring_views,
    operations_views,
    platforms_views,
    sharing_views,
    authority_views,
    resurgence_views,
]


def make_dispatcher(settings: Settings) -> Dispatcher:
    """Dramatiq when a broker is configured, else a thread pool in this process."""
    if settings.broker_url:
        return DramatiqDispatcher(make_broker(settings.broker_url))
    return InProcessDispatcher()


def create_app(
    settings: Settings | None = None, *, engine: Engine | None = None, background: bool = False
) -> FastAPI:
    """Build the app. ``background=True`` (``takedown serve``) also starts the job tickers
    in embedded mode; in distributed mode ``takedown worker`` processes run them."""
    settings = settings or get_settings()
    if engine is None:
        settings.ensure_dirs()
        engine = make_engine(settings.effective_database_url)

    @asynccontextmanager
    async def lifespan(app_: FastAPI) -> AsyncIterator[None]:
        load_job_modules()
        # One set before start-up wins (tests record the jobs a request enqueues).
        dispatcher = getattr(app_.state, "dispatcher", None) or make_dispatcher(settings)
        app_.state.dispatcher = dispatcher
        tickers = TickerThread() if background and not settings.broker_url else None
        if tickers:
            tickers.start()
        try:
            yield
        finally:
            if tickers:
                tickers.stop()
            dispatcher.close()

    app = FastAPI(
        title="takedown",
        version=__version__,
        description="Find, match, refer, verify and preserve takedowns of terrorist content.",
        lifespan=lifespan,
        # Served by web/apidocs.py from npm assets (FastAPI's own pages load them from a CDN).
        docs_url=None,
        redoc_url=None,
    )
    wire_hooks(settings)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    problems.install(app)
    install_web(app, settings)
    taxii_api.install(app)

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.get("/healthz", tags=["meta"])
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    for router in API_ROUTERS + VIEW_ROUTERS:
        app.include_router(router)
    return app
