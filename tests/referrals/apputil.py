"""A test client with the referrals and verification routers mounted (until app.py does)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient


def mount(app: FastAPI) -> FastAPI:
    from takedown.referrals.api import router as referrals_router
    from takedown.verification.api import router as verification_router

    paths = {getattr(r, "path", "") for r in app.routes}
    if "/api/v1/referrals" not in paths:
        app.include_router(referrals_router)
    if "/api/v1/checks" not in paths:
        app.include_router(verification_router)
    if "/referrals" not in paths:
        from takedown.referrals.views import router as referral_views

        app.include_router(referral_views)
    if "/verification" not in paths:
        from takedown.verification.views import router as verification_views

        app.include_router(verification_views)
    return app


@contextmanager
def client_for(app_factory: Callable[..., Any]) -> Iterator[TestClient]:
    with TestClient(mount(app_factory()), raise_server_exceptions=False) as c:
        yield c
