"""Jobs for the chaos tests, loaded into the worker processes they start.

``chaos.apply`` is an effect in the database: it claims its key and adds 1 to its item's
counter in one transaction (pausing in between, to widen the window a SIGKILL can hit).
``chaos.deliver`` is an effect outside it: a POST to the test's inbox with an
idempotency key (as the platforms' inboxes take orders), then its key in the database.
The ticker ``chaos.tick`` writes when it starts and ends, so overlapping runs show.
"""

from __future__ import annotations

import os
import random
import time
from functools import lru_cache

import httpx
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from takedown.db import make_engine, make_sessionmaker, session_scope
from takedown.kit.jobs import job, ticker
from takedown.runtime import outbox


@lru_cache(maxsize=1)
def _factory() -> sessionmaker[Session]:
    return make_sessionmaker(make_engine(os.environ["TAKEDOWN_DATABASE_URL"]))


@job("chaos.apply")
def apply(item: int) -> None:
    with session_scope(_factory()) as s:
        if not outbox.claim_effect(s, f"chaos.apply:{item}", "chaos.apply"):
            return
        time.sleep(random.uniform(0.02, 0.12))
        s.execute(text("UPDATE chaos_counts SET n = n + 1 WHERE item = :i"), {"i": item})


@job("chaos.deliver")
def deliver(order: int) -> None:
    key = f"chaos.deliver:{order}"
    with session_scope(_factory()) as s:
        if outbox.repo.effect_done(s, key):
            return
    inbox = os.environ["CHAOS_INBOX"]
    r = httpx.post(f"{inbox}/orders/{order}", headers={"Idempotency-Key": key}, timeout=10)
    r.raise_for_status()
    with session_scope(_factory()) as s:
        outbox.claim_effect(s, key, "chaos.deliver")


@ticker("chaos.tick", 0.5)
def tick() -> None:
    with session_scope(_factory()) as s:
        s.execute(text("INSERT INTO chaos_ticks (pid, started) VALUES (:p, clock_timestamp())"),
                  {"p": os.getpid()})  # fmt: skip
    time.sleep(0.3)
    with session_scope(_factory()) as s:
        s.execute(
            text(
                "UPDATE chaos_ticks SET ended = clock_timestamp() WHERE pid = :p AND ended IS NULL"
            ),
            {"p": os.getpid()},
        )
