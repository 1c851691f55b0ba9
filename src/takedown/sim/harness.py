"""Run a simulator in a background thread, for tests and benchmarks.

Why a thread with its own event loop: tests of other capabilities (sync or
async, any event loop) need a running testbed without managing processes;
startup for ``small.yaml`` takes well under a second and every port is
chosen free by the OS.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import datetime as dt
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from takedown.kit.http import make_client, make_sync_client
from takedown.sim.runtime import Sim
from takedown.sim.scenario import Scenario, load_scenario, resolve_scenario_path
from takedown.sim.world import World

if TYPE_CHECKING:
    from takedown.platforms.detectors.registry import DetectorRegistry

T = TypeVar("T")


class SimHandle:
    """What a test gets: addresses, the resolver map, and direct access to the world."""

    def __init__(self, sim: Sim, loop: asyncio.AbstractEventLoop) -> None:
        self.sim = sim
        self._loop = loop

    @property
    def resolve(self) -> dict[str, str]:
        return self.sim.resolve

    @property
    def control_url(self) -> str:
        return self.sim.control_url

    @property
    def port(self) -> int:
        return self.sim.port

    @property
    def socks_port(self) -> int:
        return self.sim.socks_port

    @property
    def tor_proxy(self) -> str:
        return f"socks5://127.0.0.1:{self.sim.socks_port}"

    @property
    def smtp_port(self) -> int:
        return self.sim.smtp_port

    @property
    def ca_path(self) -> str | None:
        return self.sim.ca_path

    @property
    def world(self) -> World:
        """The live world. Read it only through :meth:`call` while the sim runs."""
        return self.sim.world

    def detector_registry(self) -> DetectorRegistry:
        """Verification detectors bound to every simulated host (Rocket.Chat with its API login).

        Shared by the tests, the benchmarks and ``takedown demo``.
        """
        from takedown.platforms.detectors.bindings import HostBinding, registry_for

        def bindings() -> list[HostBinding]:
            out = []
            for p in self.world.platforms.values():
                auth: dict[str, str] = {}
                if p.type == "rocketchat":
                    auth = {"X-Auth-Token": p.auth.token, "X-User-Id": p.auth.user_id}
                out.append(HostBinding(p.type, tuple(p.hosts), auth))
            return out

        return registry_for(self.call(bindings))

    def info(self) -> dict[str, Any]:
        return self.sim.info()

    def call(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the sim's loop thread (safe access to the world) and return its result."""

        async def run() -> T:
            return fn()

        fut: concurrent.futures.Future[T] = asyncio.run_coroutine_threadsafe(run(), self._loop)
        return fut.result(timeout=30)

    def now(self) -> dt.datetime:
        return self.sim.clock.now()

    def advance(self, seconds: float) -> dt.datetime:
        """Move scenario time forward and process every event that became due."""

        def go() -> dt.datetime:
            t = self.sim.clock.advance(seconds)
            self.sim.world.tick(self.sim.clock.ts())
            return t

        return self.call(go)

    def host_load(self) -> dict[str, dict[str, Any]]:
        """Per host: requests, concurrent arrivals (politeness breaches), smallest gap."""
        return self.call(self.sim.app.host_load)

    def ground_truth_lines(self) -> list[str]:
        return self.call(lambda: list(self.sim.world.ground_truth(self.sim.clock.ts())))

    def ground_truth(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.ground_truth_lines()]

    def items(
        self, platform: str | None = None, kind: str | None = None, alive: bool | None = None
    ) -> list[dict[str, Any]]:
        def pick() -> list[dict[str, Any]]:
            now = self.sim.clock.ts()
            self.sim.world.tick(now)
            return [
                {
                    "id": it.id,
                    "platform": it.platform,
                    "kind": it.kind,
                    "url": it.url,
                    "alive": it.alive(now),
                    "access": it.access,
                    "parent": it.parent,
                    "media": list(it.media),
                }
                for it in self.sim.world.items.values()
                if it.appeared_at <= now
                and (platform is None or it.platform == platform)
                and (kind is None or it.kind == kind)
                and (alive is None or it.alive(now) == alive)
            ]

        return self.call(pick)

    def client(self, **kwargs: Any) -> httpx.AsyncClient:
        """A guarded async client wired to this sim (resolver map, Tor proxy, test CA)."""
        kwargs.setdefault("resolve", self.resolve)
        kwargs.setdefault("tor_proxy", self.tor_proxy)
        kwargs.setdefault("verify", self.ca_path or True)
        return make_client(**kwargs)

    def sync_client(self, **kwargs: Any) -> httpx.Client:
        kwargs.setdefault("resolve", self.resolve)
        kwargs.setdefault("tor_proxy", self.tor_proxy)
        kwargs.setdefault("verify", self.ca_path or True)
        return make_sync_client(**kwargs)

    def control(self) -> httpx.Client:
        """A plain client for the control API (loopback, no guard)."""
        return httpx.Client(base_url=self.control_url, timeout=30, trust_env=False)


def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop

        return uvloop.new_event_loop()
    except ImportError:  # pragma: no cover
        return asyncio.new_event_loop()


@contextlib.contextmanager
def running_sim(
    scenario: str | Path | Scenario = "small",
    *,
    seed: int | None = None,
    tls: bool = True,
    inject: bool = False,
    speed: float = 0.0,
    **sim_kwargs: Any,
) -> Iterator[SimHandle]:
    """Start a simulator in a daemon thread; stop it on exit.

    ``scenario`` is a Scenario, a path, or a name under ``scenarios/``.
    ``inject`` (latency and random faults from the scenario) is off by default
    so tests are deterministic; scripted faults via the control API still work.
    ``speed`` 0 freezes scenario time (move it with ``handle.advance``).
    """
    if isinstance(scenario, Scenario):
        sc = scenario.model_copy(update={"seed": seed}) if seed is not None else scenario
    else:
        sc = load_scenario(resolve_scenario_path(scenario), seed)
    sim = Sim(sc, tls=tls, inject=inject, speed=speed, **sim_kwargs)
    loop = _new_loop()
    started = threading.Event()
    error: list[BaseException] = []

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(sim.start())
        except BaseException as exc:
            error.append(exc)
            started.set()
            return
        started.set()
        loop.run_forever()
        loop.run_until_complete(sim.stop())
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()

    thread = threading.Thread(target=run, name="takedown-sim", daemon=True)
    thread.start()
    started.wait(60)
    if error:
        raise error[0]
    try:
        yield SimHandle(sim, loop)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
