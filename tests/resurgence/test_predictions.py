"""Predicted successors are generated from the patterns and probed on the testbed."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from takedown.kit.clock import FrozenClock
from takedown.resurgence import predictions, repository
from takedown.resurgence.models import PredictionState
from takedown.sim.harness import SimHandle, running_sim
from tests.factories import make_actor
from tests.resurgence.factories import removed_account


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with running_sim("small") as handle:
        world = handle.world
        p = world.platforms["telegram"]

        def make() -> None:
            world.make_owner(random.Random(1), p, world.start - 3600, handle="qaswarat2")

        handle.call(make)
        yield handle


def test_url_for_keeps_the_platform_shape() -> None:
    assert predictions.url_for("https://t.me/abumedia", "abumedia", "abumedia2") == (
        "https://t.me/abumedia2"
    )
    assert predictions.url_for("https://www.youtube.com/@abu", "abu", "abu_new") == (
        "https://www.youtube.com/@abu_new"
    )
    assert predictions.url_for("https://t.me/abumedia", "other", "x") is None


def test_predictions_are_spaced_and_the_existing_one_is_found(
    sqlite_session: Session, sim: SimHandle
) -> None:
    s = sqlite_session
    a = make_actor(s)
    old = removed_account(s, a, "https://t.me/qaswarat", assess=False)
    t0 = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
    n = predictions.generate(s, old.id, clock=FrozenClock(t0))
    assert n == predictions.PER_REMOVED
    assert predictions.generate(s, old.id, clock=FrozenClock(t0)) == 0  # idempotent
    rows = repository.predictions_of(s, old.id)
    assert rows[0].handle == "qaswarat1" and rows[1].handle == "qaswarat2"
    due_times = sorted(r.next_probe_at for r in rows if r.next_probe_at)
    assert due_times[1] - due_times[0] == predictions.SPACING
    # Two probes due (20 minutes in), one host: at most per_host of them are sent.
    clock = FrozenClock(t0 + predictions.SPACING * 2)
    states = predictions.probe_due(
        s, lambda: sim.client(per_host_limit=1), per_host=2,
        registry=sim.detector_registry(), clock=clock,
    )  # fmt: skip
    assert sum(states.values()) == 2
    by = {r.handle: r for r in repository.predictions_of(s, old.id)}
    assert by["qaswarat2"].state == PredictionState.EXISTS.value
    assert by["qaswarat2"].next_probe_at is None
    # Not there (yet): probed again later, not forgotten.
    assert by["qaswarat1"].state == PredictionState.PENDING.value
    assert by["qaswarat1"].probes == 1 and by["qaswarat1"].next_probe_at is not None
    assert by["qaswarat1"].next_probe_at > clock.now()
