"""``takedown worker``: a Dramatiq worker process for the distributed runtime.

Start as many as needed, on as many machines as needed, all pointing at the
same ``TAKEDOWN_DATABASE_URL`` and ``TAKEDOWN_BROKER_URL``.
"""

from __future__ import annotations

import datetime as dt
import signal
import threading

from takedown.config import Settings
from takedown.kit.jobs import DramatiqDispatcher, TickerThread, make_broker, run_start_hooks


def load_job_modules() -> None:
    """Import every capability's tasks module so its jobs and tickers register."""
    import importlib
    import pkgutil

    import takedown

    for mod in pkgutil.iter_modules(takedown.__path__):
        if mod.ispkg:
            try:
                importlib.import_module(f"takedown.{mod.name}.tasks")
            except ModuleNotFoundError as exc:
                if exc.name != f"takedown.{mod.name}.tasks":
                    raise


def run_worker(settings: Settings, *, threads: int = 4, with_tickers: bool = True) -> None:
    if not settings.broker_url:
        raise SystemExit("takedown worker needs TAKEDOWN_BROKER_URL (redis://… or amqp://…)")
    from takedown.bootstrap import wire_hooks
    from takedown.db import make_engine, make_sessionmaker
    from takedown.runtime.leases import ticker_guard
    from takedown.runtime.wiring import start_runtime

    wire_hooks(settings)
    load_job_modules()
    run_start_hooks()  # a killed predecessor's leases are released now, not when they expire
    dispatcher = DramatiqDispatcher(
        make_broker(settings.broker_url),
        queue=settings.queue_name,
        max_attempts=settings.job_max_attempts,
    )
    factory = make_sessionmaker(make_engine(settings.effective_database_url))
    worker = dispatcher.worker(threads=threads)
    # Each ticker is a lease: the cluster runs it once per period (runtime.leases).
    tickers = (
        TickerThread(
            guard=ticker_guard(factory, ttl=dt.timedelta(seconds=settings.lease_ttl_seconds))
        )
        if with_tickers
        else None
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    worker.start()
    runtime = start_runtime(settings, factory, dispatcher, kind="worker")
    if tickers:
        tickers.start()
    try:
        stop.wait()
    finally:
        if tickers:
            tickers.stop()
        runtime.stop()
        worker.stop()
        dispatcher.close()
