"""Jobs in-process and on real brokers (Redis and RabbitMQ), and the ticker."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from typing import Any

import pytest

from takedown.kit import jobs

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
RESULTS: dict[str, list[Any]] = {}
DONE = threading.Condition()


@jobs.job("test.collect")
def collect(key: str, value: int) -> None:
    with DONE:
        # Idempotent: the same (key, value) delivered twice is recorded once.
        if value not in RESULTS.setdefault(key, []):
            RESULTS[key].append(value)
        DONE.notify_all()


def _wait_for(key: str, n: int, timeout: float = 20.0) -> list[Any]:
    deadline = time.monotonic() + timeout
    with DONE:
        while len(RESULTS.get(key, [])) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            DONE.wait(left)
        return sorted(RESULTS.get(key, []))


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def test_in_process_dispatcher_runs_jobs() -> None:
    d = jobs.InProcessDispatcher()
    key = uuid.uuid4().hex
    for v in (1, 2, 2, 3):
        d.enqueue("test.collect", key=key, value=v)
    d.drain(timeout=10)
    d.close()
    assert RESULTS[key] == [1, 2, 3]


def test_unknown_job_is_refused() -> None:
    d = jobs.InProcessDispatcher()
    with pytest.raises(KeyError, match="no job named"):
        d.enqueue("nope")
    d.close()


def test_duplicate_job_names_are_refused() -> None:
    with pytest.raises(ValueError, match="two jobs"):
        jobs.job("test.collect")(lambda **_: None)


def test_ticker_thread_calls_tickers() -> None:
    calls: list[float] = []
    event = threading.Event()

    def tick() -> None:
        calls.append(time.monotonic())
        if len(calls) >= 2:
            event.set()

    t = jobs.TickerThread([jobs.Ticker("t", 0.05, tick)], resolution=0.01)
    t.start()
    assert event.wait(5)
    t.stop()


def test_a_slow_ticker_does_not_hold_up_the_others() -> None:
    """A crawl round that takes minutes must not delay the delivery ticker: each ticker
    runs in a thread of its own."""
    release = threading.Event()
    slow_started = threading.Event()
    fast_ran_during_slow = threading.Event()
    fast_calls: list[bool] = []

    def slow() -> None:
        slow_started.set()
        release.wait(10)

    def fast() -> None:
        fast_calls.append(slow_started.is_set() and not release.is_set())
        if sum(fast_calls) >= 2:
            fast_ran_during_slow.set()

    t = jobs.TickerThread(
        [jobs.Ticker("crawl", 60, slow), jobs.Ticker("deliver", 0.01, fast)], resolution=0.01
    )
    t.start()
    try:
        assert slow_started.wait(5)
        assert fast_ran_during_slow.wait(5), "the fast ticker waited for the slow one"
    finally:
        release.set()
        t.stop()
    assert {th.name for th in threading.enumerate()}.isdisjoint(
        {"takedown-ticker:crawl", "takedown-ticker:deliver"}
    )


@pytest.mark.parametrize(
    "url,port",
    [("redis://127.0.0.1:6379/15", 6379), ("amqp://guest:guest@127.0.0.1:5672/", 5672)],
    ids=["redis", "rabbitmq"],
)
@pytest.mark.xdist_group("brokers")
def test_dramatiq_worker_runs_jobs(url: str, port: int) -> None:
    if not _reachable("127.0.0.1", port):
        if IN_CI:
            pytest.fail(f"broker on port {port} is required under CI=true")
        pytest.skip(f"no broker on port {port}")
    broker = jobs.make_broker(url)
    d = jobs.DramatiqDispatcher(broker)
    broker.declare_queue(d.QUEUE)
    broker.flush_all()
    worker = d.worker(threads=2)
    worker.start()
    try:
        key = uuid.uuid4().hex
        for v in range(5):
            d.enqueue("test.collect", key=key, value=v)
        assert _wait_for(key, 5) == [0, 1, 2, 3, 4]
    finally:
        worker.stop()
        d.close()


def test_broker_url_must_be_known() -> None:
    with pytest.raises(ValueError, match="unsupported broker"):
        jobs.make_broker("kafka://x")
