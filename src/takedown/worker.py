"""``takedown worker``: a Dramatiq worker process for the distributed runtime.

Start as many as needed, on as many machines as needed, all pointing at the
same ``TAKEDOWN_DATABASE_URL`` and ``TAKEDOWN_BROKER_URL``.
"""

from __future__ import annotations

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

    wire_hooks(settings)
    load_job_modules()
    run_start_hooks()  # a killed predecessor's leases are released now, not when they expire
    dispatcher = DramatiqDispatcher(make_broker(settings.broker_url))
    worker = dispatcher.worker(threads=threads)
    tickers = TickerThread() if with_tickers else None
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    worker.start()
    if tickers:
        tickers.start()
    try:
        stop.wait()
    finally:
        if tickers:
            tickers.stop()
        worker.stop()
        dispatcher.close()
