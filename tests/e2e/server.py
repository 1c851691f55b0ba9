"""The app the browser tests serve (``uvicorn --factory tests.e2e.server:build_app``).

Settings come from the ``TAKEDOWN_*`` environment the fixture sets for the subprocess;
``E2E_NO_JOBS=1`` serves it as ``takedown demo`` does, with no background jobs.
"""

from __future__ import annotations

import os

from fastapi import FastAPI


def build_app() -> FastAPI:
    from takedown.app import create_app
    from takedown.web.setup import install

    app = create_app()
    install(app, app.state.settings)  # no-op once create_app() installs the web UI itself
    if os.environ.get("E2E_NO_JOBS") == "1":
        app.state.background_jobs = False  # as takedown.demo.cli.dashboard_app
    return app
