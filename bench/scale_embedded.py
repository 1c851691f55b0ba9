"""The embedded baseline of ``bench/scale.py``: one process running the capabilities' jobs.

    python bench/scale_embedded.py THREADS

What ``takedown serve`` does for jobs without a broker: every capability's jobs
registered, the start hooks run, an in-process pool of THREADS threads, and the
runtime (outbox relay, ledger, heartbeat, index sync) sending the outbox's jobs to
that pool. Stops on SIGTERM.
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from takedown.bootstrap import wire_hooks  # noqa: E402
from takedown.config import get_settings  # noqa: E402
from takedown.db import make_engine, make_sessionmaker  # noqa: E402
from takedown.kit.jobs import InProcessDispatcher, run_start_hooks  # noqa: E402
from takedown.runtime.wiring import start_runtime  # noqa: E402
from takedown.worker import load_job_modules  # noqa: E402


def main(threads: int) -> None:
    settings = get_settings()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    wire_hooks(settings)
    load_job_modules()
    run_start_hooks()
    factory = make_sessionmaker(make_engine(settings.effective_database_url))
    dispatcher = InProcessDispatcher(workers=threads)
    runtime = start_runtime(settings, factory, dispatcher, kind="worker")
    stop.wait()
    runtime.stop()
    dispatcher.close()


if __name__ == "__main__":
    main(int(sys.argv[1]))
