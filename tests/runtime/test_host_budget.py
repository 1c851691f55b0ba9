"""One politeness budget per host across processes (#18.2): two processes fetching from
one host together never exceed its rate, with the budget in Redis or in PostgreSQL."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from takedown.config import Settings
from takedown.kit.host_budget import LocalHostBudget, RedisHostBudget
from takedown.runtime.host_budget import budget_for
from tests.conftest import IN_CI
from tests.runtime.brokers import REDIS_URL, need

RATE = 8.0  # requests per second to one host, for the whole deployment
# Arrivals jitter (a request sent on its slot may land a little late, the next on time):
# a one-second window may hold two slots more than the rate, never the doubled rate.
SLACK = 2
PER_PROCESS = 12

CHILD = r"""
import asyncio, json, sys
from takedown.config import Settings
from takedown.kit.http import make_client

async def main() -> None:
    s = Settings()
    async with make_client(**s.http_client_options(), per_host_limit=4) as client:
        await client.get("http://warm.example/")  # a cold process's first request is slow
        n = int(sys.argv[1])
        rs = await asyncio.gather(*(client.get(f"http://site.example/{i}") for i in range(n)))
    print(json.dumps([r.status_code for r in rs]))

asyncio.run(main())
"""


class _Hits(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: arrivals follow the clients' slots closely
    times: list[float] = []

    def do_GET(self) -> None:
        _Hits.times.append(time.monotonic())
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


class _Warm(_Hits):
    def do_GET(self) -> None:
        self.send_response(204)
        self.end_headers()


_WARM = [0]


@pytest.fixture
def site() -> Iterator[int]:
    _Hits.times = []
    servers = [ThreadingHTTPServer(("127.0.0.1", 0), h) for h in (_Hits, _Warm)]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    _WARM[0] = servers[1].server_address[1]
    yield servers[0].server_address[1]
    for server in servers:
        server.shutdown()
        server.server_close()


def _most_in_any_second(times: list[float]) -> int:
    times = sorted(times)
    return max(sum(1 for u in times if t <= u < t + 1.0) for t in times)


def _two_processes(port: int, env: dict[str, str]) -> None:
    resolve = f"site.example=127.0.0.1:{port},warm.example=127.0.0.1:{_WARM[0]}"
    full = {**os.environ, **env, "TAKEDOWN_RESOLVE": resolve,
            "TAKEDOWN_HOST_RATE": str(RATE)}  # fmt: skip
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, str(PER_PROCESS)],
            env=full,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for p in procs:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
        assert out.strip() == str([200] * PER_PROCESS).replace(" ", " ")


@pytest.mark.slow
@pytest.mark.xdist_group("timing")
def test_two_processes_share_the_hosts_rate_in_redis(site: int, tmp_path: Path) -> None:
    need("redis", REDIS_URL)
    queue = f"distributed_{uuid.uuid4().hex[:8]}"
    env = {"TAKEDOWN_BROKER_URL": REDIS_URL, "TAKEDOWN_DATA_DIR": str(tmp_path),
           "TAKEDOWN_QUEUE_NAME": queue}  # fmt: skip
    _two_processes(site, env)
    assert len(_Hits.times) == 2 * PER_PROCESS
    assert _most_in_any_second(_Hits.times) <= RATE + SLACK


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.xdist_group("timing")
def test_two_processes_share_the_hosts_rate_in_postgresql(
    site: int, tmp_path: Path, pg_engine: object
) -> None:
    url = pg_engine.url.render_as_string(hide_password=False)  # type: ignore[attr-defined]
    _two_processes(site, {"TAKEDOWN_DATABASE_URL": url, "TAKEDOWN_DATA_DIR": str(tmp_path)})
    assert len(_Hits.times) == 2 * PER_PROCESS
    assert _most_in_any_second(_Hits.times) <= RATE + SLACK


def test_without_the_shared_budget_two_processes_double_the_rate(site: int, tmp_path: Path) -> None:
    """The bound the tests above hold: each process alone, with a budget of its own,
    stays under the rate, so two of them together exceed it."""
    _two_processes(site, {"TAKEDOWN_HOST_BUDGET": "local", "TAKEDOWN_DATA_DIR": str(tmp_path)})
    assert _most_in_any_second(_Hits.times) > RATE + SLACK


def test_local_budget_books_one_slot_per_interval() -> None:
    b = LocalHostBudget(10.0)
    waits = [b.reserve("a.example") for _ in range(5)]
    assert waits[0] == 0 and all(0.09 < w2 - w1 < 0.11 for w1, w2 in itertools.pairwise(waits))
    assert b.reserve("other.example") == 0  # per host
    with pytest.raises(ValueError):
        LocalHostBudget(0)


def test_redis_budget_books_slots_by_redis_clock() -> None:
    need("redis", REDIS_URL)
    b = RedisHostBudget(REDIS_URL, 5.0, prefix=f"distributed_{uuid.uuid4().hex[:8]}:")
    waits = [b.reserve("A.example") for _ in range(3)]
    assert waits[0] < 0.05 and 0.15 < waits[1] < 0.25 and 0.35 < waits[2] < 0.45
    b.close()


def test_settings_choose_the_budget(tmp_path: Path) -> None:
    assert budget_for(Settings(data_dir=tmp_path)) is None
    assert isinstance(budget_for(Settings(data_dir=tmp_path, host_rate=3)), LocalHostBudget)
    with pytest.raises(ValueError, match="redis://"):
        budget_for(Settings(data_dir=tmp_path, host_rate=3, host_budget="redis"))
    assert IN_CI in (True, False)
