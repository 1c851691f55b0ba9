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
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

log = logging.getLogger("takedown.jobs")

JobFn = Callable[..., None]

#: The keyword the outbox relay adds to a job's arguments: the outbox row it came from.
OUTBOX_KWARG = "_outbox"
#: How many times a job is tried before it goes to the dead-letter queue.
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class Ticker:
    name: str
    #: Seconds between runs, or a function giving them (read each time: a setting).
    every_seconds: float | Callable[[], float]
    fn: Callable[[], None]

    def period(self) -> float:
        every = self.every_seconds
        return float(every() if callable(every) else every)


_JOBS: dict[str, JobFn] = {}
_TICKERS: dict[str, Ticker] = {}


def job(name: str) -> Callable[[JobFn], JobFn]:
    def deco(fn: JobFn) -> JobFn:
        if name in _JOBS and _JOBS[name] is not fn:
            raise ValueError(f"two jobs named {name!r}")
        _JOBS[name] = fn
        return fn

    return deco


def ticker(
    name: str, every_seconds: float | Callable[[], float]
) -> Callable[[Callable[[], None]], Callable[[], None]]:
    """Register ``fn`` to run every ``every_seconds`` (a number, or a function that reads
    it from the settings when the ticker thread looks)."""

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


class JobLedger(Protocol):
    """Where a job's end is recorded (``takedown.runtime`` wires the database's)."""

    def finished(self, name: str, outbox_id: int) -> None: ...

    def dead(
        self,
        name: str,
        kwargs: dict[str, Any],
        *,
        outbox_id: int | None,
        attempts: int,
        error: str,
    ) -> None: ...


_ledger: list[JobLedger] = []


def set_ledger(ledger: JobLedger | None) -> None:
    """Install (or, with None, remove) the ledger every dispatcher reports to."""
    _ledger.clear()
    if ledger is not None:
        _ledger.append(ledger)


def run_job(name: str, kwargs: dict[str, Any], *, attempt: int, max_attempts: int) -> None:
    """Run one delivery of a job.

    On success an outbox job is marked done. A failure is raised for the runtime to
    retry, except on the last attempt: then the job goes to the dead-letter queue (the
    database's, through the ledger) and is not raised again, so a poison message is
    not re-queued forever. If even the ledger fails, the error is raised and the
    broker keeps the message in its own dead-letter queue.
    """
    fn = _JOBS.get(name)
    if fn is None:
        raise KeyError(f"no job named {name!r}")
    args = dict(kwargs)
    raw_id = args.pop(OUTBOX_KWARG, None)
    outbox_id = int(raw_id) if raw_id is not None else None
    try:
        run_retrying(name, fn, args, sleep=time.sleep)
    except Exception as exc:
        if attempt < max_attempts or not _ledger:
            raise
        error = f"{type(exc).__name__}: {exc}"[:2000]
        log.error("job %s failed %d times, dead-lettered: %s", name, attempt, error)
        _ledger[0].dead(name, args, outbox_id=outbox_id, attempts=attempt, error=error)
        return
    if outbox_id is not None and _ledger:
        _ledger[0].finished(name, outbox_id)


class Dispatcher(Protocol):
    def enqueue(self, name: str, **kwargs: Any) -> None: ...
    def close(self) -> None: ...


class InProcessDispatcher:
    """Runs jobs on a small thread pool inside the serving process (embedded mode).

    A failed job is tried again after ``backoff`` seconds (doubling), up to
    ``max_attempts``; then it goes to the dead-letter queue like a worker's would."""

    def __init__(
        self, workers: int = 2, *, max_attempts: int = MAX_ATTEMPTS, backoff: float = 1.0
    ) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="takedown-job")
        self.futures: list[Future[None]] = []
        self._max_attempts = max_attempts
        self._backoff = backoff
        self._closing = threading.Event()
        self.done = 0  # jobs that ran to the end
        self.failed: list[tuple[str, str]] = []  # (job, error) of the latest that did not

    def enqueue(self, name: str, **kwargs: Any) -> None:
        if name not in _JOBS:
            raise KeyError(f"no job named {name!r}")

        def run() -> None:
            for attempt in range(1, self._max_attempts + 1):
                try:
                    run_job(name, kwargs, attempt=attempt, max_attempts=self._max_attempts)
                    self.done += 1
                    return
                except Exception as exc:
                    log.exception("job %s failed (attempt %d)", name, attempt)
                    last = attempt == self._max_attempts
                    if last or self._closing.wait(self._backoff * 2 ** (attempt - 1)):
                        # Given up (or shutting down: the outbox relays it again later).
                        failure = (name, f"{type(exc).__name__}: {exc}"[:500])
                        self.failed = [*self.failed[-99:], failure]  # the latest hundred
                        return

        fut = self._pool.submit(run)
        self.futures = [f for f in self.futures if not f.done()] + [fut]

    def drain(self, timeout: float | None = None) -> None:
        for fut in list(self.futures):
            fut.result(timeout=timeout)

    def close(self) -> None:
        self._closing.set()
        self._pool.shutdown(wait=True)


def make_broker(url: str, *, heartbeat_timeout_ms: int | None = None) -> Any:
    """A Dramatiq broker for ``redis://`` or ``amqp://`` URLs.

    ``heartbeat_timeout_ms`` (Redis): how long a silent worker's unacknowledged
    messages wait before another worker takes them (Dramatiq's default: 60 s).
    RabbitMQ gives a dead connection's unacknowledged messages back at once."""
    from dramatiq.middleware import CurrentMessage

    broker: Any
    if url.startswith(("redis://", "rediss://")):
        from dramatiq.brokers.redis import RedisBroker

        options: dict[str, Any] = {}
        if heartbeat_timeout_ms is not None:
            options["heartbeat_timeout"] = heartbeat_timeout_ms
        broker = RedisBroker(url=url, **options)  # type: ignore[no-untyped-call]
    elif url.startswith(("amqp://", "amqps://")):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        broker = RabbitmqBroker(url=url)
    else:
        raise ValueError(f"unsupported broker URL {url!r}: use redis:// or amqp://")
    broker.add_middleware(CurrentMessage())
    return broker


class DramatiqDispatcher:
    """Sends jobs to a Dramatiq broker; ``takedown worker`` processes run them."""

    QUEUE = "takedown"
    #: Dramatiq's default time limit (10 min) would kill a 26k-item verification round.
    TIME_LIMIT_MS = 6 * 3600 * 1000

    def __init__(
        self, broker: Any, *, queue: str | None = None, max_attempts: int = MAX_ATTEMPTS
    ) -> None:
        import dramatiq

        self.broker = broker
        self.queue = queue or self.QUEUE
        self.max_attempts = max_attempts
        dramatiq.set_broker(broker)
        self._actors: dict[str, Any] = {}
        for name, fn in _JOBS.items():
            self._actors[name] = self._actor(name, fn)

    def _actor(self, name: str, fn: JobFn) -> Any:
        import dramatiq
        from dramatiq.middleware import CurrentMessage

        max_attempts = self.max_attempts

        def run(**kwargs: Any) -> None:
            message = CurrentMessage.get_current_message()
            retries = int(message.options.get("retries", 0)) if message is not None else 0
            run_job(name, kwargs, attempt=retries + 1, max_attempts=max_attempts)

        run.__name__ = name.replace(".", "__")
        decorate = dramatiq.actor(
            actor_name=name,
            queue_name=self.queue,
            broker=self.broker,
            max_retries=max_attempts - 1,
            min_backoff=1000,
            max_backoff=60_000,
            time_limit=self.TIME_LIMIT_MS,
        )
        return decorate(run)

    def enqueue(self, name: str, **kwargs: Any) -> None:
        actor = self._actors.get(name)
        if actor is None:
            raise KeyError(f"no job named {name!r}")
        actor.send_with_options(kwargs=kwargs)

    def worker(self, threads: int = 4) -> Any:
        import dramatiq

        return dramatiq.Worker(self.broker, queues={self.queue}, worker_threads=threads)

    def close(self) -> None:
        self.broker.close()


class TickerThread:
    """Calls every registered ticker on its period, each in a daemon thread of its own.

    Tickers look for due work and do it (a crawl round, a delivery round), so one slow
    ticker must not hold up another: a long crawl does not delay the next delivery
    round. Running several processes with tickers is safe because jobs are idempotent.
    With a ``guard`` (the runtime's leases) a ticker runs only when the guard lets it, so
    a cluster runs it once per period instead of once per process.
    """

    def __init__(
        self,
        tickers: list[Ticker] | None = None,
        *,
        resolution: float = 1.0,
        guard: Callable[[Ticker], AbstractContextManager[bool]] | None = None,
    ) -> None:
        self._tickers = tickers if tickers is not None else registered_tickers()
        self._guard = guard
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(
                target=self._loop, args=(t,), name=f"takedown-ticker:{t.name}", daemon=True
            )
            for t in self._tickers
        ]
        self._resolution = resolution

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            if thread.is_alive():
                thread.join(timeout=max(0.0, deadline - time.monotonic()))

    def _loop(self, t: Ticker) -> None:
        last = -1e9
        while not self._stop.is_set():
            now = time.monotonic()
            if now - last >= t.period():
                last = now
                try:
                    if self._guard is None:
                        run_retrying(t.name, t.fn, {}, sleep=self._stop.wait)
                    else:
                        with self._guard(t) as mine:
                            if mine:
                                run_retrying(t.name, t.fn, {}, sleep=self._stop.wait)
                except Exception:
                    log.exception("ticker %s failed", t.name)
            self._stop.wait(self._resolution)
