"""The per-host politeness budget in PostgreSQL, and the choice of budget from settings.

``TAKEDOWN_HOST_RATE`` (requests per second per host, for the whole deployment; 0 = no
shared budget) and ``TAKEDOWN_HOST_BUDGET`` (``auto``: Redis when the broker is Redis,
else PostgreSQL when the database is, else this process only; or ``redis``,
``database``, ``local``, ``off``). Every outbound client built from the settings
(verification, capture, monitoring, delivery, sharing) consults it.
"""

from __future__ import annotations

from sqlalchemy import Engine

from takedown.config import Settings
from takedown.kit.host_budget import HostBudget, LocalHostBudget, RedisHostBudget, shared
from takedown.runtime import repository as repo


class DatabaseHostBudget:
    """The budget in PostgreSQL: one row per host, booked by one autocommitted upsert."""

    def __init__(self, engine: Engine, rate: float) -> None:
        if rate <= 0:
            raise ValueError("a host budget needs a positive rate (requests per second)")
        if engine.dialect.name != "postgresql":
            raise ValueError("the database host budget needs PostgreSQL (embedded: local)")
        self.rate = rate
        self._engine = engine.execution_options(isolation_level="AUTOCOMMIT")

    def reserve(self, host: str) -> float:
        with self._engine.connect() as conn:
            return repo.reserve_host_slot(conn, host.lower(), 1.0 / self.rate)


def budget_for(settings: Settings) -> HostBudget | None:
    rate = settings.host_rate
    kind = settings.host_budget
    if rate <= 0 or kind == "off":
        return None
    broker = settings.broker_url or ""
    db_url = settings.effective_database_url
    if kind == "auto":
        if broker.startswith(("redis://", "rediss://")):
            kind = "redis"
        elif db_url.startswith("postgresql"):
            kind = "database"
        else:
            kind = "local"
    if kind == "redis":
        if not broker.startswith(("redis://", "rediss://")):
            raise ValueError("TAKEDOWN_HOST_BUDGET=redis needs a redis:// TAKEDOWN_BROKER_URL")
        prefix = f"{settings.queue_name}:host-budget:"
        return shared(
            "redis", broker + "#" + prefix, rate,
            lambda: RedisHostBudget(broker, rate, prefix=prefix),
        )  # fmt: skip
    if kind == "database":
        from takedown.db import make_engine

        return shared(
            "database", db_url, rate, lambda: DatabaseHostBudget(make_engine(db_url), rate)
        )
    return shared("local", "", rate, lambda: LocalHostBudget(rate))
