"""Until the lead mounts the items router in takedown.app, mount it for these tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from takedown.items.api import router as items_router


@pytest.fixture
def items_app_factory(app_factory: Callable[..., FastAPI]) -> Callable[..., FastAPI]:
    from takedown.app import API_ROUTERS

    def build(**overrides: Any) -> FastAPI:
        app = app_factory(**overrides)
        if items_router not in API_ROUTERS:
            app.include_router(items_router)
        return app

    return build


@pytest.fixture
def client(items_app_factory: Callable[..., FastAPI]) -> Iterator[TestClient]:
    with TestClient(items_app_factory(), raise_server_exceptions=False) as c:
        yield c
