"""The world model: reproducible generation, the clock, referrals and the adversary."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from takedown.sim.clock import SimClock
from takedown.sim.scenario import Scenario
from takedown.sim.urls import locate
from takedown.sim.world import Item, World


def _truth(world: World, t: int) -> bytes:
    return "".join(line + "\n" for line in world.ground_truth(t)).encode()


def _play(sc: Scenario) -> bytes:
    """Generate, refer a fixed set of items, run two simulated days, dump the truth."""
    w = World(sc)
    t = w.start + 600
    for pid in w.platforms:
        items = [(it.url, it) for it in w.items.values() if it.platform == pid][:10]
        w.refer(pid, items, t, "api", "tos", "REF-1", "IRU-BE")
    w.tick(w.start + 2 * 86400)
    return _truth(w, w.start + 2 * 86400)


def test_same_seed_gives_byte_identical_ground_truth(small_scenario: Scenario) -> None:
    a = _play(small_scenario.model_copy(deep=True))
    b = _play(small_scenario.model_copy(deep=True))
    assert hashlib.sha256(a).hexdigest() == hashlib.sha256(b).hexdigest()
    assert b'"successor_of": "i' in a  # the adversary played a part


def test_other_seed_gives_another_world(small_scenario: Scenario) -> None:
    a = _truth(World(small_scenario.model_copy(deep=True)), 2**40)
    b = _truth(World(small_scenario.model_copy(update={"seed": 8}, deep=True)), 2**40)
    assert a != b


def test_every_platform_kind_is_populated(small_scenario: Scenario) -> None:
    w = World(small_scenario.model_copy(deep=True))
    kinds = {(w.platforms[it.platform].type, it.kind) for it in w.items.values()}
    for expected in [
        ("microblog", "account"),
        ("microblog", "post"),
        ("video", "video"),
        ("telegram", "channel"),
        ("telegram", "post"),
        ("rocketchat", "message"),
        ("filehost", "file"),
        ("paste", "paste"),
        ("website", "page"),
        ("onion_forum", "thread"),
    ]:
        assert expected in kinds
    for it in w.items.values():
        assert locate(w, it.url)[1] is it


def test_media_variants_name_their_original(small_scenario: Scenario) -> None:
    w = World(small_scenario.model_copy(deep=True))
    variants = [m for m in w.media.values() if m.variant]
    assert variants
    for m in variants:
        orig = w.media[m.original or ""]
        assert orig.original is None and orig.seed == m.seed and orig.kind == m.kind


def test_clock_frozen_advance_and_speed(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = [1000.0]
    monkeypatch.setattr("takedown.sim.clock.time.monotonic", lambda: fake[0])
    start = dt.datetime(2019, 11, 21, 6, tzinfo=dt.UTC)
    c = SimClock(start, speed=0)
    fake[0] += 50
    assert c.now() == start
    assert c.advance(3600) == start + dt.timedelta(hours=1)
    c.set_speed(3600)
    fake[0] += 2
    assert c.now() == start + dt.timedelta(hours=3)
    with pytest.raises(ValueError):
        c.advance(-1)
    with pytest.raises(ValueError):
        c.set(start)
    c.set(start + dt.timedelta(days=1))
    assert c.now() == start + dt.timedelta(days=1)


def _first(w: World, platform: str, kind: str) -> Item:
    return next(
        it
        for it in w.items.values()
        if it.platform == platform
        and it.kind == kind
        and it.alive(w.start)
        and it.access == "public"
    )


def test_referral_compliance_modes(small_scenario: Scenario) -> None:
    w = World(small_scenario.model_copy(deep=True))
    t = w.start + 60
    x = _first(w, "x", "post")
    ref = w.refer("x", [(x.url, x), ("https://x.com/nobody/status/1", None)], t, "api")
    assert [o.status for o in ref.outcomes] == ["accepted", "not_found"]
    assert ref.ack.startswith("ACK-X-")
    w.tick(t + 86400)
    assert x.removed_at is not None and x.removal == "referral" and x.removed_at > t
    paste = _first(w, "textbin", "paste")
    assert w.refer("textbin", [(paste.url, paste)], t, "api").outcomes[0].status == "refused"
    room = _first(w, "rocket", "channel")
    assert w.refer("rocket", [(room.url, room)], t, "email").outcomes[0].status == "received"
    posts = [it for it in w.items.values() if it.platform == "telegram" and it.kind == "post"]
    ref = w.refer("telegram", [(p.url, p) for p in posts], t + 10, "api")
    statuses = {o.status for o in ref.outcomes}
    assert statuses == {"accepted", "not_actioned"} or statuses == {
        "accepted",
        "not_actioned",
        "already_removed",
    }


def test_adversary_recreates_reposts_and_announces(small_scenario: Scenario) -> None:
    w = World(small_scenario.model_copy(deep=True))
    acc = next(
        it
        for it in w.items.values()
        if it.platform == "x"
        and it.kind == "account"
        and it.alive(w.start)
        and any(w.items[c].media for c in it.children)
    )
    w.remove_now(acc, w.start, "referral")
    assert all(w.items[c].removed_at == w.start for c in acc.children)
    w.tick(w.start + 7 * 86400)
    succ = [it for it in w.items.values() if it.successor_of == acc.id]
    assert len(succ) == 1
    new = succ[0]
    assert new.handle != acc.handle and new.mutation in {"digit", "swap", "homoglyph", "suffix"}
    assert new.generation == 1 and new.appeared_at > w.start
    reposts = [w.items[c] for c in new.children]
    assert reposts
    for r in reposts:
        m = w.media[r.media[0]]
        assert m.variant is not None and m.original is not None
    announcements = [it for it in w.items.values() if it.announces == new.id]
    assert len(announcements) == 1 and new.url in announcements[0].text
    assert w.items[announcements[0].parent or ""].kind == "channel"


def test_every_action_day_item_is_served_at_its_ground_truth_url() -> None:
    """At 26,000 items keys collide; a renamed item must still answer at its own URL."""
    from pathlib import Path

    from takedown.sim.scenario import load_scenario

    root = Path(__file__).resolve().parents[2]
    w = World(load_scenario(root / "scenarios" / "action-day.yaml"))
    wrong = [it.url for it in w.items.values() if locate(w, it.url)[1] is not it]
    assert wrong == []
