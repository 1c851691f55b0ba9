"""PostgreSQL LISTEN/NOTIFY: a change committed by one process reaches every other at once.

``Listener`` holds one autocommit connection per process, LISTENs on the channels it
was given, and calls their callbacks when a notification arrives (several arriving
together are coalesced into one call). A dropped connection is reopened, and each
callback is called once after a reconnect, since notifications sent while it was down
are lost. The callbacks must therefore read the database's current state (a watermark
sync), never trust a payload.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy.engine import make_url

log = logging.getLogger("takedown.runtime.notify")

#: The matching signals changed (the trigger of migration runtime_0005).
SIGNALS = "takedown_signals"


def libpq_url(sqlalchemy_url: str) -> str:
    return (
        make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)
    )


class Listener:
    def __init__(
        self,
        database_url: str,
        callbacks: dict[str, Callable[[], None]],
        *,
        coalesce: float = 0.05,
        reconnect_after: float = 2.0,
    ) -> None:
        self._url = libpq_url(database_url)
        self._callbacks = callbacks
        self._coalesce = coalesce
        self._reconnect_after = reconnect_after
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="takedown-listen", daemon=True)
        self.listening = threading.Event()
        self.calls = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _fire(self, channels: set[str]) -> None:
        for ch in sorted(channels):
            try:
                self._callbacks[ch]()
                self.calls += 1
            except Exception:
                log.exception("notification handler for %s failed", ch)

    def _loop(self) -> None:
        import psycopg

        first = True
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._url, autocommit=True, connect_timeout=5) as conn:
                    for ch in self._callbacks:
                        conn.execute(f'LISTEN "{ch}"')
                    self.listening.set()
                    if not first:  # what was sent while we were away is lost: catch up
                        self._fire(set(self._callbacks))
                    first = False
                    while not self._stop.is_set():
                        got = {n.channel for n in conn.notifies(timeout=0.5, stop_after=1)}
                        if not got:
                            continue
                        deadline = time.monotonic() + self._coalesce
                        while (left := deadline - time.monotonic()) > 0:
                            got |= {n.channel for n in conn.notifies(timeout=left)}
                        self._fire(got & set(self._callbacks))
            except Exception as exc:
                self.listening.clear()
                if self._stop.is_set():
                    return
                log.warning("LISTEN connection lost (%s); reconnecting", exc)
                self._stop.wait(self._reconnect_after)
