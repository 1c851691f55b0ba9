"""Fixtures for the testbed's own tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from takedown.sim.harness import SimHandle, running_sim
from takedown.sim.scenario import Scenario, load_scenario, resolve_scenario_path


@pytest.fixture(scope="session")
def small_scenario() -> Scenario:
    return load_scenario(resolve_scenario_path("small"))


@pytest.fixture(scope="module")
def shared_sim() -> Iterator[SimHandle]:
    """A read-only sim shared by a module: do not advance its clock or refer items."""
    with running_sim("small") as sim:
        yield sim


@pytest.fixture
def sim() -> Iterator[SimHandle]:
    """A fresh sim for tests that move time, refer items or script faults."""
    with running_sim("small") as handle:
        yield handle
