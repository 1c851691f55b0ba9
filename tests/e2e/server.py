"""The app the browser tests serve (``uvicorn --factory tests.e2e.server:build_app``).

Settings come from the ``TAKEDOWN_*`` environment the fixture sets for the subprocess.
"""

from __future__ import annotations

from fastapi import FastAPI


def build_app() -> FastAPI:
    from takedown.app import create_app
    from takedown.web.setup import install

    app = create_app()
    install(app, app.state.settings)  # no-op once create_app() installs the web UI itself
    return app
