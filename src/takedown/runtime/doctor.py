"""``takedown doctor``: is this deployment healthy? One line per check, and what is wrong.

Checks, in order: the database is reachable and migrated to the code's heads; the
broker is reachable; workers are alive (heartbeats younger than ``STALE``); no lease is
held by a dead process; the queues, the outbox and the dead-letter queue are not
backing up; this machine's clock agrees with the database's (leases and schedules
compare times written by different machines).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from takedown.config import Settings
from takedown.kit.clock import Clock, SystemClock
from takedown.runtime import repository as repo

STALE = dt.timedelta(seconds=30)
MAX_SKEW = dt.timedelta(seconds=2)
OUTBOX_LAG = dt.timedelta(minutes=2)


@dataclass(frozen=True)
class Check:
    status: str  # ok | warn | fail
    name: str
    message: str

    def line(self) -> str:
        return f"{self.status:<4} {self.name}: {self.message}"


def _migrations(engine: Engine) -> Check:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from takedown.migrate import alembic_config

    script = ScriptDirectory.from_config(alembic_config())
    heads = set(script.get_heads())
    with engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    if not current:
        return Check("fail", "migrations", "the database is empty: run `takedown db upgrade`")
    known = {r.revision for r in script.walk_revisions()}
    # What is applied: the recorded heads and everything they stand on (alembic records a
    # branch's head only, and not a revision another one depends on).
    applied = {
        r.revision
        for r in script.iterate_revisions(tuple(sorted(current & known)), "base")
        if r is not None
    }
    missing = sorted(heads - applied)
    if missing:
        return Check(
            "fail",
            "migrations",
            f"not at the code's heads, missing {', '.join(missing)}: run `takedown db upgrade`",
        )
    unknown = sorted(current - heads)
    if unknown:
        return Check(
            "warn",
            "migrations",
            f"the database is ahead of this code ({', '.join(unknown)}): "
            "an older release is running against it",
        )
    return Check("ok", "migrations", f"at the {len(heads)} heads")


def _broker(settings: Settings) -> tuple[Check, Check]:
    url = settings.broker_url
    queue = settings.queue_name
    if not url:
        return (
            Check("ok", "broker", "none: embedded mode, jobs run in the serving process"),
            Check("ok", "queues", "none (embedded mode)"),
        )
    where = url.split("@")[-1]
    try:
        if url.startswith(("redis://", "rediss://")):
            import redis

            r: Any = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
            r.ping()
            ready = int(r.llen(f"dramatiq:{queue}"))
            delayed = int(r.llen(f"dramatiq:{queue}.DQ"))
            stored = int(r.hlen(f"dramatiq:{queue}.msgs"))
            r.close()
            depth = f"{ready} ready, {delayed} delayed, {max(0, stored - ready)} in flight"
            return Check("ok", "broker", f"Redis at {where}"), Check(
                "ok", "queues", f"{queue}: {depth}"
            )
        from takedown.kit.jobs import make_broker

        broker = make_broker(url)
        try:
            ready, delayed, dead = broker.get_queue_message_counts(queue)
        finally:
            broker.close()
        depth = f"{ready} ready, {delayed} delayed, {dead} in the broker's dead-letter queue"
        return Check("ok", "broker", f"RabbitMQ at {where}"), Check(
            "ok", "queues", f"{queue}: {depth}"
        )
    except Exception as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return (
            Check("fail", "broker", f"cannot reach {where}: {msg}"),
            Check("fail", "queues", "unknown (broker unreachable)"),
        )


def _workers(session: Session, settings: Settings, now: dt.datetime) -> Check:
    rows = [w for w in repo.workers(session) if w.kind == "worker"]
    alive = [w for w in rows if now - w.seen_at <= STALE]
    silent = len(rows) - len(alive)
    tail = f"; {silent} silent for over {int(STALE.total_seconds())} s (dead?)" if silent else ""
    if not settings.broker_url:
        return Check("ok", "workers", f"embedded mode: the serving process runs jobs{tail}")
    if not alive:
        return Check("fail", "workers", f"no worker alive: start `takedown worker`{tail}")
    hosts = sorted({w.hostname for w in alive})
    return Check(
        "warn" if silent else "ok", "workers", f"{len(alive)} alive on {', '.join(hosts)}{tail}"
    )


def _leases(session: Session, now: dt.datetime) -> Check:
    held = [x for x in repo.leases(session) if x.holder]
    stuck = [x for x in held if x.expires_at < now]
    if stuck:
        names = ", ".join(
            f"{x.name} (held by {x.holder}, expired {x.expires_at:%H:%M:%S})" for x in stuck
        )
        return Check(
            "warn", "leases", f"{len(stuck)} held by a dead process, free to take: {names}"
        )
    return Check("ok", "leases", f"{len(held)} held, none stuck" if held else "none held")


def _outbox(session: Session, now: dt.datetime) -> Check:
    counts = repo.outbox_counts(session)
    dead = repo.count_dead(session)
    oldest = repo.oldest_unrelayed(session)
    text = (
        f"{counts.get('pending', 0)} pending, {counts.get('relayed', 0)} relayed, "
        f"{counts.get('done', 0)} done; {dead} failed job(s)"
    )
    if oldest is not None and now - oldest > OUTBOX_LAG:
        age = int((now - oldest).total_seconds())
        return Check(
            "fail",
            "outbox",
            f"{text}; a job has waited {age} s for the relay: are the workers and the broker up?",
        )
    if dead:
        return Check("warn", "outbox", f"{text}: see `takedown jobs failed`")
    return Check("ok", "outbox", text)


def _clock(session: Session, clock: Clock) -> Check:
    t0 = time.monotonic()
    local_before = clock.now()
    db_now = repo.database_now(session)
    rtt = dt.timedelta(seconds=time.monotonic() - t0)
    skew = db_now - (local_before + rtt / 2)
    secs = skew.total_seconds()
    if abs(skew) > MAX_SKEW:
        return Check(
            "fail",
            "clock",
            f"this machine is {abs(secs):.1f} s "
            f"{'behind' if secs > 0 else 'ahead of'} the database: run NTP",
        )
    return Check("ok", "clock", f"{secs * 1000:+.0f} ms from the database")


def run_checks(settings: Settings, engine: Engine, *, clock: Clock | None = None) -> list[Check]:
    from takedown.db import make_sessionmaker, session_scope

    clock = clock or SystemClock()
    where = engine.url.render_as_string(hide_password=True)
    checks: list[Check] = []
    try:
        with engine.connect():
            pass
    except Exception as exc:
        msg = str(exc).splitlines()[0]
        checks.append(Check("fail", "database", f"cannot reach {where}: {msg}"))
        return checks + list(_broker(settings))
    factory = make_sessionmaker(engine)
    with session_scope(factory) as session:
        version = repo.database_version(session)
    checks.append(Check("ok", "database", f"{engine.dialect.name} {version} at {where}"))
    migrations = _migrations(engine)
    checks.append(migrations)
    checks.extend(_broker(settings))
    if migrations.status == "fail":
        return checks
    with session_scope(factory) as session:
        now = clock.now()
        checks.append(_workers(session, settings, now))
        checks.append(_leases(session, now))
        checks.append(_outbox(session, now))
        checks.append(_clock(session, clock))
    return checks
