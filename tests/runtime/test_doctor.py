"""``takedown doctor``: one line per check, and what is wrong (#18.6)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from takedown.config import Settings
from takedown.db import make_engine, make_sessionmaker, session_scope
from takedown.kit.clock import FrozenClock, utcnow
from takedown.migrate import downgrade, upgrade
from takedown.runtime import leases, outbox
from takedown.runtime.doctor import run_checks
from tests.runtime.brokers import AMQP_URL, REDIS_URL, need


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    e = make_engine(f"sqlite:///{tmp_path / 'doctor.sqlite3'}")
    upgrade(e)
    yield e
    e.dispose()


def _lines(settings: Settings, engine: Engine, **kw: object) -> dict[str, str]:
    return {c.name: c.line() for c in run_checks(settings, engine, **kw)}  # type: ignore[arg-type]


def test_a_healthy_embedded_deployment(engine: Engine, tmp_path: Path) -> None:
    lines = _lines(Settings(data_dir=tmp_path), engine)
    assert list(lines) == ["database", "migrations", "broker", "queues", "workers", "leases",
                           "outbox", "clock"]  # fmt: skip
    assert all(v.startswith("ok") for v in lines.values()), lines


def test_what_is_wrong_one_line_each(engine: Engine, tmp_path: Path) -> None:
    need("redis", REDIS_URL)
    factory = make_sessionmaker(engine)
    s = Settings(data_dir=tmp_path, broker_url=REDIS_URL, queue_name="distributed_doctor")
    lines = _lines(s, engine)
    assert lines["workers"] == "fail workers: no worker alive: start `takedown worker`"
    assert lines["broker"].startswith("ok   broker: Redis at")
    assert lines["queues"] == "ok   queues: distributed_doctor: 0 ready, 0 delayed, 0 in flight"

    leases.Heartbeat(factory, "worker", worker_id="w1:1:a").beat()
    past = FrozenClock(utcnow() - dt.timedelta(minutes=10))
    leases.try_acquire(factory, "ticker:x", holder="w2:9:dead", clock=past)
    with session_scope(factory) as session:
        outbox.record(session, "evidence.capture", {"item_ids": [1]}, clock=past)
    lines = _lines(s, engine)
    assert lines["workers"].startswith("ok   workers: 1 alive on ")
    assert "1 held by a dead process, free to take: ticker:x (held by w2:9:dead" in lines["leases"]
    assert lines["outbox"].startswith("fail outbox: 1 pending") and "waited" in lines["outbox"]

    skewed = FrozenClock(utcnow() + dt.timedelta(seconds=30))
    assert "ahead of the database: run NTP" in _lines(s, engine, clock=skewed)["clock"]


def test_an_unreachable_broker_and_a_database_behind_the_code(
    engine: Engine, tmp_path: Path
) -> None:
    downgrade(engine, "runtime_0004")
    s = Settings(data_dir=tmp_path, broker_url="redis://127.0.0.1:1/0")
    lines = _lines(s, engine)
    assert lines["migrations"] == (
        "fail migrations: not at the code's heads, missing runtime_0005: run `takedown db upgrade`"
    )
    assert lines["broker"].startswith("fail broker: cannot reach redis://127.0.0.1:1/0: ")
    assert "workers" not in lines  # the rest needs the schema


def test_rabbitmq_queue_depths(engine: Engine, tmp_path: Path) -> None:
    need("rabbitmq", AMQP_URL)
    s = Settings(data_dir=tmp_path, broker_url=AMQP_URL, queue_name="distributed_doctor")
    try:
        lines = _lines(s, engine)
    finally:  # reading the depths declares the queues: leave the shared broker as found
        from tests.runtime.chaoskit import delete_rabbitmq_queues

        delete_rabbitmq_queues("distributed_doctor")
    assert lines["broker"].startswith("ok   broker: RabbitMQ at")
    assert lines["queues"].startswith("ok   queues: distributed_doctor: 0 ready, 0 delayed")


def test_the_command_exits_1_on_a_failure(engine: Engine, tmp_path: Path) -> None:
    from takedown.cli import app

    env = {
        "TAKEDOWN_DATABASE_URL": str(engine.url),
        "TAKEDOWN_DATA_DIR": str(tmp_path),
        "TAKEDOWN_BROKER_URL": "redis://127.0.0.1:1/0",
        "COLUMNS": "200",
        "NO_COLOR": "1",
    }
    from takedown.config import get_settings

    get_settings.cache_clear()
    try:
        r = CliRunner().invoke(app, ["doctor"], env=env)
    finally:
        get_settings.cache_clear()
    assert r.exit_code == 1
    assert "fail broker: cannot reach" in r.output and "ok   database: sqlite" in r.output
