"""The figures, recomputed by hand from records, from the testbed's ground truth, and from rows."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy.orm import Session

from takedown.kit.clock import FrozenClock
from takedown.resurgence import figures, service
from takedown.sim.scenario import load_scenario, resolve_scenario_path
from takedown.sim.world import World
from tests.factories import make_actor
from tests.resurgence.factories import T0, removed_account, seen_account

H = 3600.0


def _t(hours: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


def test_kaplan_meier_time_to_return_by_hand() -> None:
    # Four removals at T0: back after 1 h and 3 h; two not back by 10 h (censored).
    returns = [
        figures.Return("x", T0, _t(1)),
        figures.Return("x", T0, _t(3)),
        figures.Return("x", T0, None),
        figures.Return("telegram", T0, None),
    ]
    succ = [
        figures.Successor("x", _t(1), _t(1.5), _t(2.5), 1),
        figures.Successor("x", _t(3), _t(5), None, 2),
    ]
    f = figures.by_group(returns, succ, _t(10))
    a = f["all"]
    # S(1h) = 3/4, S(3h) = 3/4 * 2/3 = 1/2: the median is 3 h.
    assert (a.removals, a.returned, a.return_km.median) == (4, 2, 3 * H)
    assert a.return_within["24h"] == 0.5
    # Time to detect: 0.5 h and 2 h; nearest rank median 0.5 h, p90 2 h.
    assert (a.detect_median, a.detect_p90) == (0.5 * H, 2 * H)
    # Lifetime: 1 h (removed again) and 5 h censored: S(1 h) = 1/2, the KM median is 1 h.
    assert a.lifetime_km.median == 1 * H and a.lifetime_km.events == 1
    assert a.generations == {1: 1, 2: 1}
    assert f["telegram"].returned == 0 and f["telegram"].return_km.median is None


def test_figures_recomputed_from_the_ground_truth() -> None:
    world = World(load_scenario(resolve_scenario_path("small")))
    owners = [it for it in world.items.values() if it.kind in ("account", "channel")]
    for it in owners:
        world.remove_now(it, world.start, "referral")
    end = world.start + 3 * 86400
    # A day later the first successors are referred and removed too: a second generation.
    world.tick(world.start + 86400)
    for it in [x for x in world.items.values() if x.successor_of and x.alive(world.start + 86400)]:
        world.remove_now(it, world.start + 86400, "referral")
    world.tick(end)
    truth = [json.loads(line) for line in world.ground_truth(end)]
    items = {t["id"]: t for t in truth if t["type"] == "item"}

    def at(s: str | None) -> dt.datetime | None:
        return dt.datetime.fromisoformat(s.replace("Z", "+00:00")) if s else None

    removed = [t for t in items.values() if t["kind"] in ("account", "channel") and t["removed_at"]]
    back: dict[str, dt.datetime] = {}
    for t in items.values():
        if t["successor_of"]:
            ts = at(t["appeared_at"])
            assert ts is not None
            back[t["successor_of"]] = min(back.get(t["successor_of"], ts), ts)
    returns = [
        figures.Return(t["platform"], at(t["removed_at"]), back.get(t["id"]))  # type: ignore[arg-type]
        for t in removed
    ]
    succ = [
        figures.Successor(t["platform"], at(t["appeared_at"]), at(t["appeared_at"]),
                          at(t["removed_at"]), t["generation"])
        for t in items.values() if t["successor_of"]
    ]  # fmt: skip
    f = figures.compute(returns, succ, dt.datetime.fromtimestamp(end, dt.UTC))
    # By hand: the product-limit estimate over the return delays, censored at the end.
    obs = sorted(
        ((r.returned_at or dt.datetime.fromtimestamp(end, dt.UTC)) - r.removed_at).total_seconds()
        for r in returns
    )
    events = sorted(
        (r.returned_at - r.removed_at).total_seconds() for r in returns if r.returned_at
    )
    assert f.returned == len(events) == len({s for s in back if s in {t["id"] for t in removed}})
    s, median = 1.0, None
    for t in sorted(set(events)):
        at_risk = sum(1 for o in obs if o >= t)
        s *= 1 - events.count(t) / at_risk
        if median is None and s <= 0.5 + 1e-9:
            median = t
    assert f.return_km.median == median
    assert f.detect_median == 0.0  # a perfect detector sees each successor as it appears
    gens: dict[int, int] = {}
    for x in succ:
        gens[x.generation] = gens.get(x.generation, 0) + 1
    assert f.generations == gens and max(gens) >= 2


def test_figures_from_the_rows(db_session: Session) -> None:
    a = make_actor(db_session)
    removed_account(db_session, a, "https://t.me/abumedia", title="Abu Media", removed_at=T0)
    removed_account(db_session, a, "https://t.me/nevermore", removed_at=T0)
    new = seen_account(db_session, a, "https://t.me/abumedia2", title="Abu Media",
                       first_seen_at=_t(2))  # fmt: skip
    service.scan(db_session, seen_ids=[new.id], clock=FrozenClock(_t(2.5)))
    f = service.figures_by(db_session, a.principal, clock=FrozenClock(_t(10)))
    t = f["telegram"]
    # One of two back after 2 h: S(2 h) = 1/2, so the KM median is 2 h.
    assert (t.removals, t.returned) == (2, 1)
    assert t.return_km.median == 2 * H
    assert (t.detect_median, t.detected) == (0.5 * H, 1)
    assert t.lifetime_km.events == 0 and t.generations == {1: 1}
