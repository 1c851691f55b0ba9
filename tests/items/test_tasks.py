"""The bulk import as a job (``items.import``, #18.4): delivered twice, its file is imported
once; two deliveries at once, and two imports of overlapping files at once, on
PostgreSQL: no row lost, no sighting doubled, no unique-constraint error."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from takedown.db import make_engine, make_sessionmaker, session_scope
from takedown.items.models import ImportJob, Item, Sighting
from takedown.items.tasks import import_file
from tests.conftest import own_pg_database
from tests.factories import make_actor


def _csv(path: Path, rows: range, *, distinct: int) -> Path:
    lines = ["url,reported_at"]
    lines += [
        f"https://t.me/job_import_{n % distinct // 10}/{n % distinct},1700000000" for n in rows
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def _sightings(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Sighting)) or 0)


def test_an_import_job_delivered_again_imports_nothing_twice(
    db_session: Session, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    actor = make_actor(db_session)
    db_session.commit()
    path = _csv(tmp_path / "a.csv", range(120), distinct=100)
    kw = {"path": str(path), "filename": "a.csv", "user_id": actor.principal.user_id}
    before = _sightings(db_session)
    first = import_file(session_factory, key="import:1", **kw)  # type: ignore[arg-type]
    again = import_file(session_factory, key="import:1", **kw)  # type: ignore[arg-type]
    assert first is not None and again is None
    db_session.expire_all()
    assert _sightings(db_session) - before == 120
    # Another import of the same file (another key) is another report: its own sightings.
    assert import_file(session_factory, key="import:2", **kw) is not None  # type: ignore[arg-type]
    assert _sightings(db_session) - before == 240


@pytest.fixture
def pg_factory() -> Iterator[sessionmaker[Session]]:
    """A PostgreSQL database of its own: threads commit for real."""
    with own_pg_database("items_import_jobs") as url:
        engine = make_engine(url, pool_size=8)
        yield make_sessionmaker(engine)
        engine.dispose()


@pytest.mark.postgres
def test_concurrent_imports_of_the_same_urls_on_postgresql(
    pg_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    with session_scope(pg_factory) as s:
        user_id = make_actor(s).principal.user_id
    rows, distinct = 3000, 1800
    files = [
        _csv(tmp_path / f"f{i}.csv", range(i * rows, (i + 1) * rows), distinct=distinct)
        for i in range(3)
    ]
    # Three different imports naming the same URLs, and the first one delivered twice.
    runs = [(files[0], "k0"), (files[0], "k0"), (files[1], "k1"), (files[2], "k2")]
    errors: list[BaseException] = []
    go = threading.Barrier(len(runs))

    def run(path: Path, key: str) -> None:
        go.wait()
        try:
            import_file(pg_factory, path=str(path), filename=path.name, user_id=user_id, key=key)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=r) for r in runs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    with session_scope(pg_factory) as s:
        assert s.scalar(select(func.count()).select_from(ImportJob)) == 3
        assert _sightings(s) == 3 * rows
        assert s.scalar(select(func.count()).select_from(Item)) == distinct
