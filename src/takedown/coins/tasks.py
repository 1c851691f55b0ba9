"""The watch-list ticker: re-trace watched addresses when their last trace is old enough.

Every minute it looks for entries never traced or traced more than
``coins_trace_every_minutes`` ago (a batch, oldest first) and traces them through the
configured chain API, raising any new alert. Idempotent: an alert has a stable key, so a
second worker tracing the same entry raises nothing twice. Does nothing while no chain
API is configured.
"""

from __future__ import annotations

import datetime as dt
import logging
from functools import lru_cache

from sqlalchemy.orm import Session, sessionmaker

from takedown.config import Settings, get_settings
from takedown.db import make_engine, make_sessionmaker, session_scope
from takedown.kit.jobs import ticker

log = logging.getLogger("takedown.coins")
TICK_SECONDS = 60
BATCH = 50


@lru_cache(maxsize=1)
def _factory() -> sessionmaker[Session]:
    settings = get_settings()
    settings.ensure_dirs()
    return make_sessionmaker(make_engine(settings.effective_database_url))


def trace_due_now(factory: sessionmaker[Session], settings: Settings) -> int:
    """One tick's work; returns how many addresses were traced."""
    if not settings.coins_esplora_url or settings.coins_trace_every_minutes <= 0:
        return 0
    from takedown.coins import watch
    from takedown.coins.trace.registry import open_chain

    with open_chain(settings) as api, session_scope(factory) as session:
        outs = watch.trace_due(
            session,
            api,
            every=dt.timedelta(minutes=settings.coins_trace_every_minutes),
            limit=BATCH,
            hops=settings.coins_trace_hops,
            max_txs=settings.coins_trace_max_txs,
        )
    alerts = sum(len(o.alerts) for o in outs)
    if outs:
        log.info("coins: %d watched address(es) traced, %d new alert(s)", len(outs), alerts)
    return len(outs)


@ticker("coins.trace", TICK_SECONDS)
def trace_ticker() -> None:
    trace_due_now(_factory(), get_settings())
