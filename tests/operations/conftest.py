"""An app with the web UI and the operations routers mounted (the composition root may not
list them yet; mounting is idempotent once it does)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient


def mount_operations(app: FastAPI) -> FastAPI:
    from takedown.operations.api import router
    from takedown.operations.views import router as views_router
    from takedown.web.setup import install

    install(app, app.state.settings)
    have = {r.path for r in app.routes if isinstance(r, APIRoute)}
    for rt in (router, views_router):
        if not any(r.path in have for r in rt.routes if isinstance(r, APIRoute)):
            app.include_router(rt)
    return app


@pytest.fixture
def ops_client(app_factory: Any) -> Iterator[TestClient]:
    with TestClient(mount_operations(app_factory()), raise_server_exceptions=False) as c:
        yield c
