"""Fixtures for monitoring: a fresh testbed per test (tests grow histories), a guarded
client wired to it, and an unpaced host budget."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from takedown.kit.politeness import HostBudget
from takedown.monitoring.base import Limits
from takedown.monitoring.crawl import CrawlConfig
from takedown.sim.harness import SimHandle, running_sim
from tests.monitoring.factories import SECRET


@pytest.fixture
def sim() -> Iterator[SimHandle]:
    with running_sim("small") as handle:
        yield handle


@pytest.fixture
def sim_client(sim: SimHandle) -> Iterator[httpx.Client]:
    with sim.sync_client(timeout=10.0) as c:
        yield c


@pytest.fixture
def budget() -> HostBudget:
    return HostBudget(0.0)


@pytest.fixture
def crawl_config() -> CrawlConfig:
    return CrawlConfig(limits=Limits(first_pages=10), workers=4, secret_key=SECRET, match=False)
