"""Background jobs: in-process by default, Dramatiq on Redis or RabbitMQ when distributed.

A job is a named function taking JSON-able keyword arguments. Jobs must be
idempotent: the database says what work is due, the queue only carries it, so
a lost message or a crashed worker costs a retry, not data. Capabilities
register jobs with ``@job("name")`` and periodic "tickers" (functions that look
in the database for due work and enqueue it) with ``@ticker(seconds)``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

log = logging.getLogger("takedown.jobs")

JobFn = Callable[..., None]


@dataclass(frozen=True)
class Ticker:
    name: str
    every_seconds: float
    fn: Callable[[], None]


_JOBS: dict[str, JobFn] = {}
_TICKERS: dict[str, Ticker] = {}


def job(name: str) -> Callable[[JobFn], JobFn]:
    def deco(fn: JobFn) -> JobFn:
        if name in _JOBS and _JOBS[name] is not fn:
            raise ValueError(f"two jobs named {name!r}")
        _JOBS[name] = fn
        return fn

    return deco


def ticker(name: str, every_seconds: float) -> Callable[[Callable[[], None]], Callable[[], None]]:
    def deco(fn: Callable[[], None]) -> Callable[[], None]:
        if name in _TICKERS and _TICKERS[name].fn is not fn:
            raise ValueError(f"two tickers named {name!r}")
        _TICKERS[name] = Ticker(name, every_seconds, fn)
        return fn

    return deco


#: How often a job that met lock contention is tried again, and the first pause (doubled).
LOCK_RETRIES = 6
LOCK_PAUSE = 0.2


def _is_lock_contention(exc: BaseException) -> bool:
    text = str(getattr(exc, "orig", exc)).lower()
    return "database is locked" in text or "database table is locked" in text


def run_retrying(
    name: str, fn: Callable[..., None], kwargs: dict[str, Any], *, sleep: Callable[[float], object]
) -> None:
    """Run a job; on the embedded database's lock contention, run it again (it is
    idempotent, and its transaction was rolled back) after a growing pause (#12.2)."""
    pause = LOCK_PAUSE
    for attempt in range(1, LOCK_RETRIES + 1):
        try:
            fn(**kwargs)
            return
        except Exception as exc:
            if attempt == LOCK_RETRIES or not _is_lock_contention(exc):
                raise
            log.info("job %s met a locked database; try %d in %.1f s", name, attempt + 1, pause)
            sleep(pause)
            pause *= 2


_START: dict[str, Callable[[], None]] = {}


def on_start(name: str) -> Callable[[Callable[[], None]], Callable[[], None]]:
    """Register a hook run when a process that runs jobs starts (``takedown serve``,
    ``takedown worker``): e.g. release the leases a killed predecessor left behind."""

    def deco(fn: Callable[[], None]) -> Callable[[], None]:
        if name in _START and _START[name] is not fn:
            raise ValueError(f"two start hooks named {name!r}")
        _START[name] = fn
        return fn

    return deco


def run_start_hooks() -> None:
    """Run every start hook; one that fails is logged and does not stop the others."""
    for name, fn in list(_START.items()):
        try:
            fn()
        except Exception:
            log.exception("start hook %s failed", name)


def registered_jobs() -> dict[str, JobFn]:
    return dict(_JOBS)


def registered_tickers() -> list[Ticker]:
    return list(_TICKERS.values())


class Dispatcher(Protocol):
    def enqueue(self, name: str, **kwargs: Any) -> None: ...
    def close(self) -> None: ...


class InProcessDispatcher:
    """Runs jobs on a small thread pool inside the serving process (embedded mode)."""

    def __init__(self, workers: int = 2) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="takedown-job")
        self.futures: list[Future[None]] = []
        self.done = 0  # jobs that ran to the end
        self.failed: list[tuple[str, str]] = []  # (job, error) of the latest that did not

    def enqueue(self, name: str, **kwargs: Any) -> None:
        fn = _JOBS.get(name)
        if fn is None:
            raise KeyError(f"no job named {name!r}")

        def run() -> None:
            import time

            try:
                run_retrying(name, fn, kwargs, sleep=time.sleep)
            except Exception as exc:
                failure = (name, f"{type(exc).__name__}: {exc}"[:500])
                self.failed = [*self.failed[-99:], failure]  # the latest hundred
                log.exception("job %s failed; it will be picked up again when due", name)
            else:
                self.done += 1

        fut = self._pool.submit(run)
        self.futures = [f for f in self.futures if not f.done()] + [fut]

    def drain(self, timeout: float | None = None) -> None:
        for fut in list(self.futures):
            fut.result(timeout=timeout)

    def close(self) -> None:
        self._pool.shutdown(wait=True)


def make_broker(url: str) -> Any:
    """A Dramatiq broker for ``redis://`` or ``amqp://`` URLs."""
    if url.startswith(("redis://", "rediss://")):
        from dramatiq.brokers.redis import RedisBroker

        return RedisBroker(url=url)  # type: ignore[no-untyped-call]
    if url.startswith(("amqp://", "amqps://")):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        return RabbitmqBroker(url=url)
    raise ValueError(f"unsupported broker URL {url!r}: use redis:// or amqp://")


class DramatiqDispatcher:
    """Sends jobs to a Dramatiq broker; ``takedown worker`` processes run them."""

    QUEUE = "takedown"

    def __init__(self, broker: Any) -> None:
        import dramatiq

        self.broker = broker
        dramatiq.set_broker(broker)
        self._actors: dict[str, Any] = {}
        for name, fn in _JOBS.items():
            self._actors[name] = self._actor(name, fn)

    def _actor(self, name: str, fn: JobFn) -> Any:
        import dramatiq

        def run(**kwargs: Any) -> None:
            import time

            run_retrying(name, fn, kwargs, sleep=time.sleep)

        run.__name__ = name.replace(".", "__")
        decorate = dramatiq.actor(
            actor_name=name,
            queue_name=self.QUEUE,
            broker=self.broker,
            max_retries=5,
            min_backoff=1000,
            max_backoff=60_000,
        )
        return decorate(run)

    def enqueue(self, name: str, **kwargs: Any) -> None:
        actor = self._actors.get(name)
        if actor is None:
            raise KeyError(f"no job named {name!r}")
        actor.send_with_options(kwargs=kwargs)

    def worker(self, threads: int = 4) -> Any:
        import dramatiq

        return dramatiq.Worker(self.broker, queues={self.QUEUE}, worker_threads=threads)

    def close(self) -> None:
        self.broker.close()


class TickerThread:
    """Calls every registered ticker on its period, in one daemon thread.

    Tickers only look for due work and enqueue it; running several processes
    with tickers is safe because jobs are idempotent.
    """

    def __init__(self, tickers: list[Ticker] | None = None, *, resolution: float = 1.0) -> None:
        self._tickers = tickers if tickers is not None else registered_tickers()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="takedown-ticker", daemon=True)
        self._resolution = resolution

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        import time

        last: dict[str, float] = {}
        while not self._stop.is_set():
            now = time.monotonic()
            for t in self._tickers:
                if now - last.get(t.name, -1e9) >= t.every_seconds:
                    last[t.name] = now
                    try:
                        run_retrying(t.name, t.fn, {}, sleep=self._stop.wait)
                    except Exception:
                        log.exception("ticker %s failed", t.name)
            self._stop.wait(self._resolution)
