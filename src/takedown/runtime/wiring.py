"""Start and stop the runtime's background parts in a process (worker or API).

Every process that can enqueue or run jobs gets the database ledger (jobs done, dead
letters) and an outbox relay that sends through its dispatcher.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from takedown.config import Settings
from takedown.db import session_scope
from takedown.kit.jobs import Dispatcher, set_ledger
from takedown.matching.engine import engines, get_engine
from takedown.runtime.deadletters import DatabaseLedger
from takedown.runtime.leases import Heartbeat
from takedown.runtime.notify import SIGNALS, Listener
from takedown.runtime.outbox import Relay

log = logging.getLogger("takedown.runtime")


@dataclass
class RuntimeHandle:
    relay: Relay
    extras: list[object] = field(default_factory=list)

    def stop(self) -> None:
        for extra in reversed(self.extras):
            stop = getattr(extra, "stop", None)
            if callable(stop):
                stop()
        self.relay.stop()
        set_ledger(None)


def start_runtime(
    settings: Settings,
    factory: sessionmaker[Session],
    dispatcher: Dispatcher,
    *,
    kind: str = "api",
) -> RuntimeHandle:
    set_ledger(DatabaseLedger(factory))
    heartbeat = Heartbeat(factory, kind)
    heartbeat.start()
    relay = Relay(
        factory,
        dispatcher.enqueue,
        interval=settings.relay_interval_seconds,
        redeliver_after=dt.timedelta(seconds=settings.outbox_redeliver_seconds),
    )
    relay.start()
    extras: list[object] = [heartbeat]
    index = IndexSync(settings, factory, kind)
    index.start()
    extras.append(index)
    return RuntimeHandle(relay, extras)


class IndexSync:
    """The matching index of this process, kept current across processes: loaded once at
    start after a jittered pause, then synced when PostgreSQL says a signal changed
    (``runtime.notify``; a lookup also syncs, as before, at most every 0.2 s)."""

    def __init__(self, settings: Settings, factory: sessionmaker[Session], kind: str) -> None:
        self._settings = settings
        self._kind = kind
        self._factory = factory
        self._stop = threading.Event()
        self._listener: Listener | None = None
        url = settings.effective_database_url
        if url.startswith("postgresql"):
            self._listener = Listener(url, {SIGNALS: self.sync})
        self._loader = threading.Thread(target=self._load, name="takedown-index", daemon=True)

    def sync(self) -> None:
        """Catch every engine this process has made up with the database."""
        for engine in engines():
            with session_scope(self._factory) as session:
                engine.sync(session, force=True)

    def _load(self) -> None:
        if self._stop.wait(random.uniform(0, self._settings.index_load_jitter_seconds)):
            return
        try:
            # The engine this kind of process searches: the API's keeps a snapshot under
            # the data dir; jobs (media matching) use the in-memory one.
            engine = get_engine(self._settings.data_dir) if self._kind == "api" else get_engine()
            with session_scope(self._factory) as session:
                engine.sync(session, force=True)
        except Exception:
            log.exception("loading the matching index failed; the first lookup loads it")

    def start(self) -> None:
        self._loader.start()
        if self._listener is not None:
            self._listener.start()

    def stop(self) -> None:
        self._stop.set()
        if self._listener is not None:
            self._listener.stop()
