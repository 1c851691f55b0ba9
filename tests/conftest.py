"""Shared fixtures: databases built by the migrations, on SQLite and on PostgreSQL.

Each test runs inside a transaction that is rolled back, so tests never see each
other's rows. PostgreSQL tests skip on a laptop without a server, and fail
under ``CI=true`` instead of skipping.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from takedown.bootstrap import prepare_database
from takedown.config import Settings
from takedown.db import make_engine, make_sessionmaker

PG_ADMIN_URL = os.environ.get(
    "TAKEDOWN_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def pg_unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"PostgreSQL is required under CI=true: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL not available: {reason}")


@pytest.fixture(scope="session")
def sqlite_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    path = tmp_path_factory.mktemp("db") / "test.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    prepare_database(engine)
    yield engine
    engine.dispose()


@contextlib.contextmanager
def own_pg_database(prefix: str, *, migrate: bool = True) -> Iterator[str]:
    """A PostgreSQL database of its own, built by the migrations (empty with
    ``migrate=False``); yields its URL and drops it afterwards. Skips (fails under CI=true)
    when PostgreSQL cannot be reached."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        admin.dispose()
        pg_unavailable(str(exc).splitlines()[0])
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    try:
        if migrate:
            engine = make_engine(url)
            prepare_database(engine)
            engine.dispose()
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextlib.contextmanager
def own_database(
    kind: str, tmp_path: Path, prefix: str, *, pool_size: int = 8
) -> Iterator[sessionmaker[Session]]:
    """A database of its own on ``kind`` ("sqlite" or "postgresql"), built by the migrations,
    with real connections (threads commit and take locks as in production); yields its
    session factory and disposes of it afterwards."""
    if kind == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / (prefix + '.sqlite3')}")
        prepare_database(engine)
        try:
            yield make_sessionmaker(engine)
        finally:
            engine.dispose()
        return
    with own_pg_database(prefix) as url:
        engine = make_engine(url, pool_size=pool_size)
        try:
            yield make_sessionmaker(engine)
        finally:
            engine.dispose()


@pytest.fixture(scope="session")
def pg_engine() -> Iterator[Engine]:
    with own_pg_database(f"takedown_test_{_worker()}") as url:
        engine = make_engine(url)
        yield engine
        engine.dispose()


def _engine_for(request: pytest.FixtureRequest, kind: str) -> Engine:
    if kind == "postgresql":
        return request.getfixturevalue("pg_engine")  # type: ignore[no-any-return]
    return request.getfixturevalue("sqlite_engine")  # type: ignore[no-any-return]


@pytest.fixture(params=["sqlite", "postgresql"])
def engine_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_connection(request: pytest.FixtureRequest, engine_kind: str) -> Iterator[Connection]:
    engine = _engine_for(request, engine_kind)
    conn = engine.connect()
    trans = conn.begin()
    try:
        yield conn
    finally:
        trans.rollback()
        conn.close()


@pytest.fixture
def session_factory(db_connection: Connection) -> sessionmaker[Session]:
    """Sessions joined to the test's outer transaction: their commits become savepoints."""
    return sessionmaker(
        bind=db_connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.fixture
def db_session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    session = session_factory()
    try:
        yield session
    finally:
        session.close()


@pytest.fixture
def sqlite_session(sqlite_engine: Engine) -> Iterator[Session]:
    conn = sqlite_engine.connect()
    trans = conn.begin()
    session = Session(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()
        trans.rollback()
        conn.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "var", secret_key="test-secret")


class RecordingDispatcher:
    """Jobs a request enqueues, recorded instead of run: an in-process job would open the
    database of ``get_settings()``, not the test's transaction. Tests run the job's
    function themselves (``app.state.dispatcher.sent``)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, object]]] = []

    def enqueue(self, name: str, **kwargs: object) -> None:
        self.sent.append((name, kwargs))

    def close(self) -> None:
        pass


@pytest.fixture
def app_factory(
    settings: Settings, session_factory: sessionmaker[Session], db_connection: Connection
):  # type: ignore[no-untyped-def]
    """Build the app bound to the test's transaction (every request's commit is a savepoint)."""
    from takedown.app import create_app

    def build(**overrides: object):  # type: ignore[no-untyped-def]
        s = settings.model_copy(update=overrides) if overrides else settings
        app = create_app(s, engine=db_connection.engine)
        app.state.sessionmaker = session_factory
        app.state.dispatcher = RecordingDispatcher()
        return app

    return build


@pytest.fixture
def client(app_factory):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    with TestClient(app_factory(), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture(autouse=True)
def _registry_hosts_forgotten() -> Iterator[None]:
    """The canonicaliser's map of registry hosts is per process: a platform a test created
    (and rolled back) must not follow the next test on this worker."""
    yield
    from takedown.platforms import hosts

    hosts.forget()
