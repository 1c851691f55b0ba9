"""Background jobs: crawl every source that is due (the database says which), every minute.

Idempotent: due sources are leased while a run crawls them; each crawl ends by
moving its source's schedule on, and each page is committed with its
checkpoint. A crashed run's leases expire and the sources are due again,
resuming from their checkpoints.
"""

from __future__ import annotations

import logging
from functools import lru_cache

from sqlalchemy.orm import Session, sessionmaker

from takedown.config import get_settings
from takedown.db import make_engine, make_sessionmaker
from takedown.kit.jobs import job, ticker

log = logging.getLogger("takedown.monitoring")


@lru_cache(maxsize=1)
def _factory() -> sessionmaker[Session]:
    settings = get_settings()
    settings.ensure_dirs()
    return make_sessionmaker(make_engine(settings.effective_database_url))


@job("monitoring.crawl")
def crawl_job(limit: int = 1000, workers: int = 8) -> None:
    from takedown.kit.http import make_sync_client
    from takedown.kit.politeness import shared_budget
    from takedown.monitoring.crawl import CrawlConfig, crawl_due

    s = get_settings()
    with make_sync_client(**s.http_client_options(), timeout=20.0) as client:
        rep = crawl_due(
            _factory(),
            client,
            limit=limit,
            budget=shared_budget(),
            config=CrawlConfig(workers=workers, secret_key=s.secret_key),
        )
    if rep.sources:
        log.info(
            "monitoring: %d sources crawled, %d new items, %s",
            rep.sources,
            rep.new_items,
            dict(rep.results),
        )


@ticker("monitoring.crawl", 60)
def crawl_ticker() -> None:
    crawl_job()
