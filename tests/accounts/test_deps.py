"""The per-request session commits before the response leaves (POST, 303, GET races)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from takedown.accounts.deps import DbSession
from takedown.db import make_engine, make_sessionmaker


def test_the_session_is_committed_before_the_response_is_sent(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'deps.sqlite3'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE notes (body TEXT)"))
    app = FastAPI()
    app.state.sessionmaker = make_sessionmaker(engine)

    @app.post("/notes", status_code=303)
    def add(session: DbSession) -> None:
        session.execute(text("INSERT INTO notes (body) VALUES ('written')"))

    seen: list[int] = []

    async def watching(scope: Any, receive: Any, send: Any) -> None:
        async def on_send(message: Any) -> None:
            if message["type"] == "http.response.start":  # what a redirect's GET would read
                with engine.connect() as conn:
                    seen.append(int(conn.execute(text("SELECT count(*) FROM notes")).scalar_one()))
            await send(message)

        await app(scope, receive, on_send)

    with TestClient(watching) as client:
        assert client.post("/notes").status_code == 303
    assert seen == [1]
    engine.dispose()
