"""An app with the operations routers mounted (the composition root may not list them yet)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient


@pytest.fixture
def ops_client(app_factory: Any) -> Iterator[TestClient]:
    from fastapi.routing import APIRoute

    from takedown.operations.api import router
    from takedown.operations.views import router as views_router

    app = app_factory()
    have = {(r.path, tuple(sorted(r.methods))) for r in app.routes if isinstance(r, APIRoute)}
    for rt in (router, views_router):
        if not any((r.path, tuple(sorted(r.methods))) in have for r in rt.routes if isinstance(r, APIRoute)):
            app.include_router(rt)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c
