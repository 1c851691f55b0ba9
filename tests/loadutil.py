"""Concurrent load through the app on the embedded SQLite database (#12.2, #19.2).

Clients read and write over real HTTP (uvicorn in a thread) while the in-process jobs
(delivery with its evidence capture and pre-check, verification, capture) run against
the testbed. Shared by ``tests/test_embedded_load.py`` (a few seconds) and
``bench/load.py`` (the 2-minute version).
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from takedown.accounts.principal import Principal
from takedown.app import create_app
from takedown.bootstrap import prepare_database
from takedown.config import Settings
from takedown.db import make_engine, make_sessionmaker, session_scope
from takedown.evidence.capturing import capture_items
from takedown.kit.jobs import InProcessDispatcher
from takedown.referrals import delivery
from takedown.referrals.channels.portal import PortalChannel
from takedown.referrals.channels.registry import ChannelRegistry
from takedown.sim.harness import SimHandle
from takedown.verification.engine import EngineConfig
from takedown.verification.service import verify_due
from tests.factories import make_actor, make_agency
from tests.referrals.factories import ensure_platform


@dataclass
class LoadResult:
    seconds: float = 0.0
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)  # "METHOD path -> status: body"
    jobs_done: int = 0
    jobs_failed: list[tuple[str, str]] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def _serve(app: Any) -> Any:
    from tests.sharing.live import serve

    return serve(app)


def run_load(
    tmp: Path,
    sim: SimHandle,
    *,
    clients: int = 8,
    seconds: float = 5.0,
    seed: int = 7,
    job_every: float = 0.3,
) -> LoadResult:
    """``clients`` threads of mixed reads and writes for ``seconds``, jobs alongside."""
    url = f"sqlite:///{tmp / 'load.sqlite3'}"
    engine = make_engine(url)
    prepare_database(engine)
    factory = make_sessionmaker(engine)
    settings = Settings(
        data_dir=tmp / "var",
        secret_key="load-secret",
        database_url=url,
        resolve=sim.resolve,
        ca_bundle=sim.ca_path,
        tor_proxy=sim.tor_proxy,
    )
    settings.ensure_dirs()
    urls = [i["url"] for i in sim.items(platform="x") if i["kind"] == "post"]
    assert urls, "the testbed's x platform has no posts"
    with session_scope(factory) as s:
        ensure_platform(s, "x", channel="portal", domains=["x.com", "twitter.com"])
        agency = make_agency(s)
        actors = [make_actor(s, agency, role="analyst") for _ in range(clients)]
        tokens = [a.token for a in actors]
        principal: Principal = actors[0].principal
    channels = ChannelRegistry([PortalChannel()])
    registry = sim.detector_registry()
    engine_config = EngineConfig(retries=1, backoff_base=0.0, jitter=0.0, max_retry_after=0.0)
    created: list[int] = []
    created_lock = threading.Lock()

    def deliver_job() -> None:
        delivery.deliver_due(factory, settings, channels, limit=20)

    def verify_job() -> None:
        verify_due(
            factory,
            lambda: sim.client(per_host_limit=8),
            registry=registry,
            engine_config=engine_config,
            limit=50,
            chunk=10,
        )

    def capture_job() -> None:
        with created_lock:
            ids = random.sample(created, min(2, len(created)))
        if ids:
            capture_items(factory, principal, ids, settings=settings)

    jobs: dict[str, Callable[[], None]] = {
        "load.deliver": deliver_job,
        "load.verify": verify_job,
        "load.capture": capture_job,
    }
    dispatcher = InProcessDispatcher(workers=2)
    result = LoadResult()
    stop = threading.Event()
    lock = threading.Lock()

    def note(method: str, path: str, r: requests.Response | None, err: str = "") -> None:
        with lock:
            result.requests += 1
            code = r.status_code if r is not None else 599
            result.statuses[code] += 1
            if code >= 500:
                body = r.text[:300] if r is not None else err
                result.server_errors.append(f"{method} {path} -> {code}: {body}")

    def client(n: int, base: str) -> None:
        rng = random.Random(seed * 100 + n)
        http = requests.Session()
        http.headers["Authorization"] = f"Bearer {tokens[n]}"
        mine: list[int] = []

        def call(method: str, path: str, **kw: Any) -> requests.Response | None:
            t0 = time.perf_counter()
            try:
                r = http.request(method, base + path, timeout=60, **kw)
            except requests.RequestException as exc:
                note(method, path, None, f"{type(exc).__name__}: {exc}")
                return None
            with lock:
                result.latencies.append(time.perf_counter() - t0)
            note(method, path, r)
            return r

        while not stop.is_set():
            roll = rng.random()
            if roll < 0.3 or not mine:
                r = call("POST", "/api/v1/items", json={"url": rng.choice(urls), "note": f"c{n}"})
                if r is not None and r.status_code == 201:
                    item_id = int(r.json()["item"]["id"])
                    mine.append(item_id)
                    with created_lock:
                        created.append(item_id)
            elif roll < 0.45:
                call(
                    "POST",
                    f"/api/v1/items/{rng.choice(mine)}/assessments",
                    json={"verdict": "terrorist_content", "categories": ["a"]},
                )
            elif roll < 0.55:
                r = call(
                    "POST",
                    "/api/v1/referrals",
                    json={"item_ids": [rng.choice(mine)], "kind": "tos", "channel": "portal"},
                )
                if r is not None and r.status_code == 201:
                    for batch in r.json():
                        call("POST", f"/api/v1/referrals/{batch['id']}/submit")
            elif roll < 0.7:
                call("GET", "/api/v1/items", params={"limit": 20})
            elif roll < 0.8:
                call("GET", f"/api/v1/items/{rng.choice(mine)}")
            elif roll < 0.9:
                call("GET", "/api/v1/referrals", params={"limit": 20})
            else:
                call("GET", "/api/v1/checks", params={"limit": 20})

    def ticker() -> None:
        names = list(jobs)
        n = 0
        while not stop.wait(job_every):
            name = names[n % len(names)]
            n += 1
            dispatcher.enqueue(name)

    from takedown.kit import jobs as kit_jobs

    for name, fn in jobs.items():
        kit_jobs.job(name)(fn)
    app = create_app(settings, engine=engine)
    app.state.dispatcher = dispatcher
    try:
        with _serve(app) as base:
            threads = [threading.Thread(target=client, args=(n, base)) for n in range(clients)]
            threads.append(threading.Thread(target=ticker))
            t0 = time.perf_counter()
            for t in threads:
                t.start()
            time.sleep(seconds)
            stop.set()
            for t in threads:
                t.join(timeout=120)
            dispatcher.drain(timeout=300)
            result.seconds = time.perf_counter() - t0
    finally:
        for name in jobs:
            kit_jobs._JOBS.pop(name, None)
        dispatcher.close()
        engine.dispose()
    result.jobs_done = dispatcher.done
    result.jobs_failed = list(dispatcher.failed)
    return result
