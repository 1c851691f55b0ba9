"""Chaos (#18.4): workers SIGKILLed at random moments and the broker restarted (or its
connections dropped) once, while they work through jobs; afterwards every effect
happened exactly once, nothing is left in flight and no lease is stuck.

Sized down from the issue so each run stays under about a minute on two shared cores:
600 database effects (the issue's 2,000-item verification round), 20 deliveries to an
inbox that counts them (the issue's 20 orders), 3 worker processes with 2 threads.
The jobs are the test's own (``chaos_jobs``): they exercise the runtime (outbox, relay,
redelivery, effect keys, leases), not a capability's own claims.

Redis: the test runs its own ``redis-server`` on a free port and restarts it (it keeps
nothing, so the queue is lost and the outbox must send it all again). RabbitMQ is
shared on this machine and is not ours to restart: the workers reach it through a TCP
proxy the test owns, which drops every connection once and refuses new ones for 2 s.
"""

from __future__ import annotations

import itertools
import os
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from takedown.db import make_engine, make_sessionmaker, session_scope
from takedown.kit.jobs import OUTBOX_KWARG  # noqa: F401  (the relay adds it)
from takedown.runtime import outbox
from takedown.runtime import repository as repo
from tests.conftest import own_pg_database
from tests.runtime.brokers import AMQP_URL, need
from tests.runtime.chaoskit import (
    DroppingProxy,
    OwnRedis,
    Workers,
    delete_rabbitmq_queues,
    kill_at_random,
)

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.xdist_group("chaos")]

ROOT = Path(__file__).resolve().parents[2]
ITEMS = 600
ORDERS = 20
WORKERS = 3
CHAOS_SECONDS = float(os.environ.get("CHAOS_SECONDS", "18"))
DEADLINE = 90.0  # the loop ends as soon as all is done (about 45 s); slack for a loaded machine


class Inbox(BaseHTTPRequestHandler):
    """A platform's order inbox: it counts every POST and applies a key once."""

    posts: Counter[str] = Counter()
    applied: set[str] = set()
    lock = threading.Lock()

    def do_POST(self) -> None:
        key = self.headers.get("Idempotency-Key", "")
        with Inbox.lock:
            Inbox.posts[key] += 1
            Inbox.applied.add(key)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def chaos_db() -> Iterator[str]:
    with own_pg_database("distributed_chaos") as url:
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE chaos_counts (item int PRIMARY KEY, n int NOT NULL)"))
            conn.execute(text("CREATE TABLE chaos_ticks (id serial PRIMARY KEY, pid int, "
                              "started timestamptz, ended timestamptz)"))  # fmt: skip
        engine.dispose()
        yield url


@pytest.fixture
def inbox() -> Iterator[str]:
    Inbox.posts, Inbox.applied = Counter(), set()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Inbox)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


LAUNCH = (
    "import sys, tests.runtime.chaos_jobs; from takedown.cli import main; "
    "sys.argv = ['takedown', 'worker', '--threads', '2']; main()"
)


def _seed(url: str) -> None:
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    with session_scope(factory) as s:  # one transaction: the rows and the jobs they make due
        seed = "INSERT INTO chaos_counts (item, n) SELECT g, 0 FROM generate_series(1, :n) g"
        s.execute(text(seed), {"n": ITEMS})
        for i in range(1, ITEMS + 1):
            outbox.record(s, "chaos.apply", {"item": i}, key=f"chaos.apply:{i}")
        for o in range(1, ORDERS + 1):
            outbox.record(s, "chaos.deliver", {"order": o}, key=f"chaos.deliver:{o}")
    engine.dispose()


def _done(url: str) -> tuple[int, int]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            applied = conn.execute(text("SELECT count(*) FROM chaos_counts WHERE n > 0")).scalar()
            open_jobs = conn.execute(
                text("SELECT count(*) FROM runtime_outbox WHERE state IN ('pending', 'relayed')")
            ).scalar()
        return int(applied or 0), int(open_jobs or 0)
    finally:
        engine.dispose()


def _run_chaos(
    url: str, broker_url: str, inbox: str, tmp_path: Path, break_broker: Any
) -> dict[str, Any]:
    queue = f"distributed_chaos_{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "TAKEDOWN_DATABASE_URL": url, "TAKEDOWN_BROKER_URL": broker_url,
           "TAKEDOWN_QUEUE_NAME": queue, "TAKEDOWN_DATA_DIR": str(tmp_path / "var"),
           "TAKEDOWN_OUTBOX_REDELIVER_SECONDS": "8", "TAKEDOWN_RELAY_INTERVAL_SECONDS": "0.3",
           "TAKEDOWN_LEASE_TTL_SECONDS": "3", "TAKEDOWN_JOB_MAX_ATTEMPTS": "20",
           "TAKEDOWN_INDEX_LOAD_JITTER_SECONDS": "0", "CHAOS_INBOX": inbox,
           "PYTHONPATH": str(ROOT)}  # fmt: skip
    _seed(url)
    rng = random.Random(int(os.environ.get("CHAOS_SEED", "18")))
    workers = Workers(env, tmp_path, LAUNCH)
    for _ in range(WORKERS):
        workers.spawn()
    start = time.monotonic()
    try:
        kill_at_random(workers, rng, CHAOS_SECONDS, (1.0, 3.0), break_broker)
        while time.monotonic() - start < DEADLINE:
            applied, open_jobs = _done(url)
            if applied == ITEMS and open_jobs == 0 and len(Inbox.applied) == ORDERS:
                break
            time.sleep(0.5)
    finally:
        workers.stop(timeout=15)
    return {"kills": workers.kills, "queue": queue, "seconds": time.monotonic() - start}


def _check(url: str, stats: dict[str, Any]) -> None:
    engine = make_engine(url)
    with engine.connect() as conn:
        counts = dict(conn.execute(text("SELECT item, n FROM chaos_counts")).all())
        states = dict(
            conn.execute(text("SELECT state, count(*) FROM runtime_outbox GROUP BY state")).all()
        )
        ticks = conn.execute(text("SELECT started, ended FROM chaos_ticks ORDER BY started")).all()
        relays = conn.execute(text("SELECT sum(relays) FROM runtime_outbox")).scalar()
    factory = make_sessionmaker(engine)
    with session_scope(factory) as s:
        leases = [x for x in repo.leases(s) if x.holder is not None]
        dead = repo.count_dead(s)
    engine.dispose()
    print(f"\nchaos: {stats['kills']} SIGKILLs, {relays} relays for {ITEMS + ORDERS} jobs, "
          f"{sum(Inbox.posts.values())} inbox POSTs for {ORDERS} orders, {len(ticks)} ticks, "
          f"{stats['seconds']:.0f} s")  # fmt: skip
    assert stats["kills"] >= 5
    missing = [i for i, n in counts.items() if n == 0]
    twice = [i for i, n in counts.items() if n > 1]
    assert not missing and not twice, f"missing {missing[:10]}, applied twice {twice[:10]}"
    assert Inbox.applied == {f"chaos.deliver:{o}" for o in range(1, ORDERS + 1)}
    assert states == {"done": ITEMS + ORDERS}, states  # no job left in flight
    assert dead == 0
    assert leases == [], [(x.name, x.holder) for x in leases]  # a clean stop releases them
    done = [(a, b) for a, b in ticks if b is not None]
    assert done, "the singleton ticker never ran"
    for (_, end), (start, _) in itertools.pairwise(done):
        assert start >= end, "two workers ran the singleton ticker at once"


def test_chaos_on_postgresql_and_redis(chaos_db: str, inbox: str, tmp_path: Path) -> None:
    redis = OwnRedis()
    try:
        redis.start()
    except (OSError, TimeoutError) as exc:
        pytest.fail(f"cannot start redis-server: {exc}") if os.environ.get("CI") else pytest.skip(
            str(exc)
        )
    try:
        stats = _run_chaos(chaos_db, redis.url, inbox, tmp_path, redis.restart)
    finally:
        redis.stop()
    _check(chaos_db, stats)


def test_chaos_on_postgresql_and_rabbitmq(chaos_db: str, inbox: str, tmp_path: Path) -> None:
    need("rabbitmq", AMQP_URL)
    from urllib.parse import urlparse

    u = urlparse(AMQP_URL)
    proxy = DroppingProxy((u.hostname or "127.0.0.1", u.port or 5672))
    via = AMQP_URL.replace(f"{u.hostname}:{u.port}", f"127.0.0.1:{proxy.port}")
    try:
        stats = _run_chaos(chaos_db, via, inbox, tmp_path, proxy.drop)
    finally:
        proxy.close()
        delete_rabbitmq_queues(stats["queue"] if "stats" in locals() else None)
    _check(chaos_db, stats)
