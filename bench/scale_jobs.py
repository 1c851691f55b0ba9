"""The job that ``bench/scale.py --synthetic`` runs in 1, 2 and 4 worker processes (and embedded).

``bench.fetch`` GETs one URL from the bench's slow hosts through the guarded client, with
the deployment-wide per-host budget from the settings, then records its effect key.
Run as ``python bench/scale_jobs.py embedded N`` it is the embedded baseline: one
process, jobs on the in-process pool, fed by the same outbox relay.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

from takedown.config import get_settings  # noqa: E402
from takedown.db import make_engine, make_sessionmaker, session_scope  # noqa: E402
from takedown.kit.jobs import job  # noqa: E402
from takedown.runtime import outbox  # noqa: E402

_local = threading.local()


@lru_cache(maxsize=1)
def _factory() -> sessionmaker[Session]:
    return make_sessionmaker(make_engine(os.environ["TAKEDOWN_DATABASE_URL"], pool_size=16))


def _client() -> Any:
    client = getattr(_local, "client", None)
    if client is None:
        from takedown.kit.http import make_sync_client

        client = _local.client = make_sync_client(
            **get_settings().http_client_options(), per_host_limit=4, timeout=30.0
        )
    return client


@job("bench.fetch")
def fetch(url: str) -> None:
    key = f"bench.fetch:{url}"
    with session_scope(_factory()) as s:
        if outbox.repo.effect_done(s, key):
            return
    _client().get(url).raise_for_status()
    with session_scope(_factory()) as s:
        outbox.claim_effect(s, key, "bench.fetch")


def embedded(threads: int) -> None:
    """One process, like `takedown serve`'s in-process jobs; stops on SIGTERM."""
    import signal

    from takedown.kit.jobs import InProcessDispatcher
    from takedown.runtime.wiring import start_runtime

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    dispatcher = InProcessDispatcher(workers=threads)
    runtime = start_runtime(get_settings(), _factory(), dispatcher, kind="worker")
    stop.wait()
    runtime.stop()
    dispatcher.close()


if __name__ == "__main__" and sys.argv[1:2] == ["embedded"]:
    embedded(int(sys.argv[2]))
    time.sleep(0)
