"""The app the operations browser test serves: the real app plus the operations routers
(``uvicorn --factory tests.operations.server:build_app``)."""

from __future__ import annotations

from fastapi import FastAPI


def build_app() -> FastAPI:
    from takedown.app import create_app
    from tests.operations.conftest import mount_operations

    return mount_operations(create_app())
