"""Every platform detector against the testbed's real pages and faults.

For each simulated platform: an online item, a removed one, a removed parent
(suspended account / blocked channel), 451, login walls, 429, 5xx, dropped
connections and timeouts. The rule under test throughout: nothing but a
real removal page is ever ``removed``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from takedown.platforms.detectors.base import Outcome
from takedown.sim.harness import SimHandle, running_sim
from takedown.verification.engine import Checker, CheckResult, CheckTarget, EngineConfig
from tests.verification.simutil import expected, sim_registry

PLATFORMS = ["x", "youtube", "telegram", "rocket", "dropvault", "textbin", "webhost", "forum"]
FAST = EngineConfig(retries=1, backoff_base=0.0, jitter=0.0, max_retry_after=0.0)


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with running_sim("small") as handle:
        handle.advance(3600)
        yield handle


@pytest.fixture(scope="module")
def pristine() -> Iterator[SimHandle]:
    """A testbed nobody removes anything from (for access-restriction pages)."""
    with running_sim("small") as handle:
        yield handle


def check(
    sim: SimHandle, urls: list[str], config: EngineConfig = FAST, timeout: float = 10.0
) -> list[CheckResult]:
    async def go() -> list[CheckResult]:
        async with sim.client(timeout=timeout, per_host_limit=4) as client:
            checker = Checker(client, registry=sim_registry(sim), config=config)
            return await checker.run([CheckTarget(i, u) for i, u in enumerate(urls)])

    return sorted(asyncio.run(go()), key=lambda r: int(r.key))


def truth(sim: SimHandle) -> dict[str, dict[str, Any]]:
    return {t["id"]: t for t in sim.ground_truth() if t["type"] == "item"}


def pick(
    sim: SimHandle,
    platform: str,
    *,
    alive: bool = True,
    access: str = "public",
    child: bool | None = None,
) -> dict[str, Any] | None:
    for it in sim.items(platform=platform, alive=alive):
        if it["access"] != access:
            continue
        if child is not None and (it["parent"] is not None) != child:
            continue
        return it
    return None


@pytest.mark.parametrize("platform", PLATFORMS)
def test_online_items_are_online(sim: SimHandle, platform: str) -> None:
    items = [i for i in sim.items(platform=platform, alive=True) if i["access"] == "public"][:6]
    assert items
    results = check(sim, [i["url"] for i in items])
    assert [r.outcome for r in results] == [Outcome.ONLINE] * len(items), [
        r.reason for r in results
    ]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_removed_item_and_suspended_owner(sim: SimHandle, platform: str) -> None:
    post = pick(sim, platform, child=True)
    owner = pick(sim, platform, child=False)
    assert post is not None and owner is not None
    with sim.control() as ctl:
        assert ctl.post("/remove", json={"item_id": post["id"]}).status_code == 200
        r = ctl.post("/remove", json={"item_id": owner["id"], "reason": "suspended"})
        assert r.status_code == 200
    orphan = next(
        (i for i in sim.items(platform=platform, alive=False) if i["parent"] == owner["id"]), None
    )
    urls = [post["url"], owner["url"]] + ([orphan["url"]] if orphan else [])
    results = check(sim, urls)
    assert all(r.outcome is Outcome.REMOVED for r in results), [(r.url, r.reason) for r in results]


def _make(pristine: SimHandle, platform: str, access: str, child: bool) -> str:
    """Give one live public item of ``platform`` the access rule (the platform renders its page)."""
    it = pick(pristine, platform, child=child)
    assert it is not None
    world = pristine.world
    pristine.call(lambda: setattr(world.items[it["id"]], "access", access))
    return str(it["url"])


# The platforms whose sites render a geo-block page for posts (telegram: for channels).
@pytest.mark.parametrize(
    ("platform", "child"),
    [
        ("x", True),
        ("x", False),
        ("youtube", True),
        ("telegram", False),
        ("dropvault", True),
        ("webhost", True),
    ],
)
def test_geo_blocked_pages_are_restricted(pristine: SimHandle, platform: str, child: bool) -> None:
    [r] = check(pristine, [_make(pristine, platform, "geo_blocked", child)])
    assert r.outcome is Outcome.RESTRICTED, r.reason
    assert r.status == 451


@pytest.mark.parametrize("platform", ["x", "youtube", "textbin"])
def test_login_walls_are_restricted(pristine: SimHandle, platform: str) -> None:
    items = [
        i for i in pristine.items(platform=platform, alive=True) if i["access"] == "login_required"
    ]
    assert items, "small.yaml has login-walled items on this platform"
    results = check(pristine, [i["url"] for i in items])
    assert {r.outcome for r in results} == {Outcome.RESTRICTED}


def test_rocketchat_without_credentials_is_restricted_not_removed(sim: SimHandle) -> None:
    from takedown.platforms.detectors.bindings import HostBinding, registry_for

    item = pick(sim, "rocket")
    assert item is not None
    reg = registry_for([HostBinding("rocketchat", tuple(sim.world.platforms["rocket"].hosts))])

    async def go() -> CheckResult:
        async with sim.client() as client:
            return await Checker(client, registry=reg, config=FAST).check(
                CheckTarget(1, item["url"])
            )

    r = asyncio.run(go())
    assert r.outcome is Outcome.RESTRICTED and r.status == 401


FAULTS: list[tuple[str, dict[str, Any], Outcome]] = [
    ("451", {"status": 451}, Outcome.RESTRICTED),
    ("500", {"status": 500}, Outcome.UNREACHABLE),
    ("503", {"status": 503, "retry_after": 1}, Outcome.UNREACHABLE),
    ("429", {"status": 429, "retry_after": 30}, Outcome.UNREACHABLE),
    ("drop", {"drop": True}, Outcome.UNREACHABLE),
    ("timeout", {"status": 200, "delay": 3.0}, Outcome.UNREACHABLE),
    ("login", {"status": 401}, Outcome.RESTRICTED),
]


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize(("name", "fault", "want"), FAULTS, ids=[f[0] for f in FAULTS])
def test_faults_on_a_removed_item_are_never_removed(
    sim: SimHandle, platform: str, name: str, fault: dict[str, Any], want: Outcome
) -> None:
    """Even for an item that IS removed, a failing answer must not say so."""
    gone = next(iter(sim.items(platform=platform, alive=False)), None)
    if gone is None:
        gone = pick(sim, platform, child=True)
        assert gone is not None
        with sim.control() as ctl:
            ctl.post("/remove", json={"item_id": gone["id"]})
    count = FAST.retries + 1
    with sim.control() as ctl:
        ctl.delete("/faults")
        r = ctl.post("/faults", json={"platform": platform, "count": count, **fault})
        assert r.status_code == 200
        try:
            [r] = check(sim, [gone["url"]], timeout=0.5)
        finally:
            ctl.delete("/faults")
    assert r.outcome is want, r.reason
    assert r.outcome is not Outcome.REMOVED
    if name == "429":
        assert r.retry_after == 30.0
    # and with the fault gone, the same item reads as removed again
    [again] = check(sim, [gone["url"]])
    assert again.outcome is Outcome.REMOVED


def test_every_item_matches_the_ground_truth(sim: SimHandle) -> None:
    items = sim.items()
    results = check(sim, [i["url"] for i in items])
    t = truth(sim)
    wrong = []
    for it, r in zip(items, results, strict=True):
        want = expected(t[it["id"]])
        if r.outcome.value != want:
            wrong.append((it["url"], want, r.outcome.value, r.reason))
    assert wrong == []
