"""How successors return: silent, under an unrelated handle, on another platform."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from takedown.sim.scenario import Scenario
from takedown.sim.urls import locate
from takedown.sim.world import Item, World


def _world(sc: Scenario, **adv: object) -> World:
    return World(
        sc.model_copy(update={"adversary": sc.adversary.model_copy(update=adv)}, deep=True)
    )


def _remove_all_channels(w: World, platform: str) -> list[Item]:
    gone = [
        it
        for it in w.items.values()
        if it.platform == platform and it.kind == "channel" and it.alive(w.start)
    ]
    for it in gone:
        w.remove_now(it, w.start, "referral")
    w.tick(w.start + 7 * 86400)
    return gone


def _successors(w: World) -> list[Item]:
    return [it for it in w.items.values() if it.successor_of is not None]


def test_a_telegram_channel_comes_back_as_a_rocket_chat_room(small_scenario: Scenario) -> None:
    w = _world(small_scenario, recreate_probability=1.0, cross_platform_rate=1.0)
    gone = _remove_all_channels(w, "telegram")
    ids = {it.id for it in gone}
    first = [it for it in _successors(w) if it.successor_of in ids]
    assert {it.successor_of for it in first} == ids
    for it in first:
        assert it.platform == "rocket" and it.kind == "channel"
        assert w.items[it.successor_of or ""].platform == "telegram"
        assert it.url.startswith("https://chat.rcserver.example/channel/")
        assert locate(w, it.url) == ("rocket", it)  # served where the ground truth says
        assert it.title == w.items[it.successor_of or ""].title
    truth = "\n".join(w.ground_truth(w.start + 7 * 86400))
    assert f'"successor_of": "{gone[0].id}"' in truth


def test_cross_platform_rate_zero_plays_as_before(small_scenario: Scenario) -> None:
    a = _world(small_scenario, recreate_probability=1.0)
    b = _world(small_scenario, recreate_probability=1.0, cross_platform_rate=0.0)
    _remove_all_channels(a, "telegram")
    _remove_all_channels(b, "telegram")
    assert list(a.ground_truth(a.start + 7 * 86400)) == list(b.ground_truth(b.start + 7 * 86400))
    tg = [it for it in _successors(a) if a.items[it.successor_of or ""].platform == "telegram"]
    assert tg and all(it.platform == "telegram" for it in tg)


def test_only_telegram_returns_elsewhere(small_scenario: Scenario) -> None:
    w = _world(small_scenario, recreate_probability=1.0, cross_platform_rate=1.0)
    acc = next(it for it in w.items.values() if it.platform == "x" and it.kind == "account")
    w.remove_now(acc, w.start, "referral")
    w.tick(w.start + 7 * 86400)
    assert {it.platform for it in _successors(w)} == {"x"}


def test_cross_platform_target_must_be_a_platform(small_scenario: Scenario) -> None:
    data = small_scenario.model_dump()
    data["adversary"]["cross_platform_to"] = "nowhere"
    with pytest.raises(ValidationError, match="cross_platform_to"):
        Scenario.model_validate(data)


def test_announcements_off_makes_every_return_silent(small_scenario: Scenario) -> None:
    w = _world(small_scenario, recreate_probability=1.0, announce=False)
    _remove_all_channels(w, "telegram")
    assert _successors(w)
    assert not any(it.announces for it in w.items.values())


def test_silent_and_unrelated_rates(small_scenario: Scenario) -> None:
    w = _world(small_scenario, recreate_probability=1.0, silent_rate=0.5, unrelated_rate=0.5)
    _remove_all_channels(w, "telegram")
    succ = _successors(w)
    announced = {it.announces for it in w.items.values() if it.announces}
    assert 0 < len(announced & {it.id for it in succ}) < len(succ)
    kinds = {it.mutation for it in succ}
    assert "unrelated" in kinds and kinds - {"unrelated"}
