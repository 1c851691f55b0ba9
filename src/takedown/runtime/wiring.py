"""Start and stop the runtime's background parts in a process (worker or API).

Every process that can enqueue or run jobs gets the database ledger (jobs done, dead
letters) and an outbox relay that sends through its dispatcher.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from takedown.config import Settings
from takedown.kit.jobs import Dispatcher, set_ledger
from takedown.runtime.deadletters import DatabaseLedger
from takedown.runtime.leases import Heartbeat
from takedown.runtime.outbox import Relay


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
    return RuntimeHandle(relay, [heartbeat])
