"""Chaos with the capabilities' REAL jobs (#18.4): ``takedown worker`` processes run
``verification.verify``, ``referrals.deliver``, ``items.import`` and ``evidence.capture``
(and every capability's tickers) against the testbed, while workers are SIGKILLed at
random moments and the broker is restarted (Redis) or has every connection dropped
(RabbitMQ, through the test's proxy: the shared server is not ours to restart) once.

The issue's figures, on PostgreSQL with RabbitMQ and on PostgreSQL with Redis:

- a verification round of 2,000 testbed items: each item checked exactly once;
- the delivery of 20 orders: each delivered exactly once (the testbed's inbox counts);
- an import of 26k rows: no row lost, no sighting doubled;
- evidence capture of 200 items: each captured once, every manifest in the audit chain;
- afterwards no stuck lease and no job left in flight.

Sized down so both brokers together stay within a few minutes on two shared cores: a
400-item round, the 20 orders (10 removal orders by e-mail, 10 referrals by API), 5,000
rows in 5 files imported concurrently (their URLs overlap, so imports race on the same
items), 60 captures in jobs of 5. ``CHAOS_FULL=1`` runs the issue's figures (2,000 items,
20 orders, 26,000 rows in 13 files, 200 captures) with a longer chaos phase::

    CHAOS_FULL=1 .venv/bin/pytest -n 1 tests/runtime/test_chaos_capabilities.py -s

All the jobs are recorded in the outbox in one transaction (as a request that makes work
due does), relayed by the workers, and redelivered when a kill or the broker loses them
(after 10 s here, so jobs still running are sent again too: duplicates on purpose). Each
run prints one JSON line of what the kills cost (relays per job, requests the testbed
answered per checked item and per captured page, repeated order keys, interrupted
delivery attempts); ``CHAOS_REPORT=path`` appends it to a file. What a kill at each stage
of each job costs: docs/deployment.md.
"""

from __future__ import annotations

import json
import os
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select, text

from takedown.audit import service as audit
from takedown.audit.models import AuditEvent
from takedown.db import make_engine, make_sessionmaker, session_scope
from takedown.evidence.models import CaptureStatus, EvidenceCapture
from takedown.items import intake
from takedown.items.models import ImportJob, Item, Sighting
from takedown.referrals import delivery as delivery_module
from takedown.referrals import service as referrals
from takedown.referrals.models import Delivery, DeliveryAttempt
from takedown.runtime import outbox
from takedown.runtime import repository as runtime_repo
from takedown.sim.harness import SimHandle, running_sim
from takedown.verification import service as verification
from takedown.verification.models import Check, CheckSchedule
from tests.conftest import own_pg_database
from tests.factories import make_actor, make_agency
from tests.items.factories import make_assessed_item
from tests.referrals.factories import ensure_platform
from tests.runtime.brokers import AMQP_URL, need
from tests.runtime.chaoskit import (
    DroppingProxy,
    OwnRedis,
    Workers,
    delete_rabbitmq_queues,
    kill_at_random,
)

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.xdist_group("chaos")]

ROOT = Path(__file__).resolve().parents[2]
FULL = os.environ.get("CHAOS_FULL") == "1"
VERIFY_ITEMS = 2000 if FULL else 400
VERIFY_PER_JOB = 50
ORDERS = 20  # half removal orders by e-mail, half referrals by API
IMPORT_ROWS = 26_000 if FULL else 5_000
IMPORT_FILES = 13 if FULL else 5
IMPORT_DISTINCT = IMPORT_ROWS * 3 // 5  # rows name overlapping URLs across the files
CAPTURES = 200 if FULL else 60
CAPTURE_PER_JOB = 5
WORKERS = 3
CHAOS_SECONDS = float(os.environ.get("CHAOS_SECONDS", "60" if FULL else "20"))
DEADLINE = 900.0 if FULL else 240.0
JUST = "Synthetic stand-in for official propaganda of a designated group (test)."
LAUNCH = "from takedown.cli import main; import sys; sys.argv = ['takedown', 'worker', '--threads', '2']; main()"  # noqa: E501


@pytest.fixture
def chaos_url() -> Iterator[str]:
    with own_pg_database("distributed_chaoscap") as url:
        yield url


# --- the work -------------------------------------------------------------------------


def _import_files(tmp: Path) -> list[Path]:
    """``IMPORT_FILES`` CSV files of ``IMPORT_ROWS`` rows in all; row ``n`` names URL
    ``n % IMPORT_DISTINCT``, so files overlap and concurrent imports meet on items."""
    per = IMPORT_ROWS // IMPORT_FILES
    files = []
    for f in range(IMPORT_FILES):
        path = tmp / f"import-{f}.csv"
        lines = ["url,reported_at,note"]
        for n in range(f * per, (f + 1) * per):
            u = (n * 7919) % IMPORT_DISTINCT  # spread the repeats over the files
            lines.append(
                f"https://t.me/chaos_import_{u // 50}/{u},2024-01-0{1 + n % 9}T10:00:00Z,r{n}"
            )
        path.write_text("\n".join(lines) + "\n")
        files.append(path)
    return files


def _urls_import(session: Any, principal: Any, urls: list[str], name: str) -> list[int]:
    import io

    job = intake.import_stream(
        session, principal, io.BytesIO(("\n".join(urls) + "\n").encode()), filename=name,
        format="urls",
    )  # fmt: skip
    rows = session.execute(
        select(Sighting.item_id).where(Sighting.import_id == job.id).order_by(Sighting.line_no)
    )
    return list(dict.fromkeys(int(r) for r in rows.scalars()))


def _seed(url: str, sim: SimHandle, tmp: Path) -> dict[str, Any]:
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    live = [
        i["url"] for i in sim.items(alive=True) if i["platform"] in ("x", "telegram", "textbin")
    ]
    assert len(live) >= 10, "the testbed has too few live items"
    with session_scope(factory) as s:
        ensure_platform(s, "telegram", channel="email", contact="abuse@telegram.org",
                        kind="messaging", domains=["t.me"], country="AE")  # fmt: skip
        ensure_platform(s, "x", channel="api", contact="tco-referrals@x.com",
                        api_endpoint="https://legal.x.com/api/v1/referrals")  # fmt: skip
        agency = make_agency(s, country="FR")
        analyst = make_actor(s, agency, role="analyst")
        supervisor = make_actor(s, agency, role="supervisor")
        principal = analyst.principal
        # Verification: a round of items on the testbed, all due now.
        verify_urls = [
            f"https://x.com/chaos_v{n // 20}/status/{7_000_000 + n}" for n in range(VERIFY_ITEMS)
        ]
        verify_ids = _urls_import(s, principal, verify_urls, "verify.txt")
        verification.schedule_items(s, verify_ids)
        # Capture: the testbed's live items, then (past the few dozen the small testbed
        # has) posts it answers 404 for: a capture of what the platform shows all the same.
        cap_urls = live[:CAPTURES] + [
            f"https://x.com/chaos_cap_{n}/status/{8_000_000 + n}"
            for n in range(CAPTURES - len(live[:CAPTURES]))
        ]
        capture_ids = _urls_import(s, principal, cap_urls, "capture.txt")
        assert len(capture_ids) == CAPTURES
        # Orders: approved removal orders (e-mail) and ToS referrals (API).
        refs: list[int] = []
        for r in range(ORDERS):
            order = r % 2 == 0
            item = make_assessed_item(
                s, analyst, url=f"https://t.me/chaos_order_{r}/{100 + r}" if order
                else f"https://x.com/chaos_tos_{r}/status/{9_100_000 + r}",
            )  # fmt: skip
            extra = {"reasons": ["a"], "justification": JUST, "emergency": True} if order else {}
            (res,) = referrals.create_batches(
                s, principal, item_ids=[item.id], kind="removal_order" if order else "tos", **extra
            )
            referrals.submit(s, principal, res.referral.id)
            if order:
                referrals.approve(s, supervisor.principal, res.referral.id)
            refs.append(res.referral.id)
        user_id = principal.user_id
    files = _import_files(tmp)
    with session_scope(factory) as s:  # the jobs, in one transaction (the outbox)
        for j in range(0, VERIFY_ITEMS, VERIFY_PER_JOB):
            outbox.record(s, "verification.verify", {"limit": VERIFY_PER_JOB, "per_host": 8},
                          key=f"chaos:verify:{j}")  # fmt: skip
        for j in range(4):  # each sends whatever is due and nobody holds
            outbox.record(s, "referrals.deliver", {"limit": 50}, key=f"chaos:deliver:{j}")
        for j in range(0, CAPTURES, CAPTURE_PER_JOB):
            batch = capture_ids[j : j + CAPTURE_PER_JOB]
            outbox.record(s, "evidence.capture",
                          {"item_ids": batch, "user_id": user_id, "key": f"chaos:capture:{j}"},
                          key=f"chaos:capture:{j}")  # fmt: skip
        for f, path in enumerate(files):
            outbox.record(s, "items.import",
                          {"path": str(path), "filename": path.name, "user_id": user_id,
                           "key": f"chaos:import:{f}", "format": "csv"},
                          key=f"chaos:import:{f}")  # fmt: skip
    engine.dispose()
    return {"verify_ids": verify_ids, "capture_ids": capture_ids, "refs": refs,
            "verify_urls": verify_urls, "capture_urls": cap_urls}  # fmt: skip


def _open_jobs(url: str) -> int:
    """Jobs not done yet, and deliveries still to send (a killed sender's, released)."""
    engine = make_engine(url)
    try:
        with session_scope(make_sessionmaker(engine)) as s:
            jobs = sum(
                n
                for state, n in runtime_repo.outbox_counts(s).items()
                if state in ("pending", "relayed")
            )
            pending = s.scalar(select(func.count()).where(Delivery.status == "pending"))
            return jobs + int(pending or 0)
    finally:
        engine.dispose()


def _run(url: str, sim: SimHandle, broker_url: str, tmp: Path,
         break_broker: Callable[[], None]) -> dict[str, Any]:  # fmt: skip
    t0 = time.monotonic()
    seeded = _seed(url, sim, tmp)
    seeded["seed_s"] = time.monotonic() - t0
    seeded["broker"] = broker_url.split(":", 1)[0]
    queue = f"distributed_chaoscap_{uuid.uuid4().hex[:8]}"
    resolve = ",".join(f"{h}={a}" for h, a in sim.resolve.items())
    env = {**os.environ, "TAKEDOWN_DATABASE_URL": url, "TAKEDOWN_BROKER_URL": broker_url,
           "TAKEDOWN_QUEUE_NAME": queue, "TAKEDOWN_DATA_DIR": str(tmp / "var"),
           "TAKEDOWN_SECRET_KEY": "chaos-secret", "TAKEDOWN_RESOLVE": resolve,
           "TAKEDOWN_CA_BUNDLE": sim.ca_path or "", "TAKEDOWN_TOR_PROXY": sim.tor_proxy,
           "TAKEDOWN_SMTP_URL": f"smtp://127.0.0.1:{sim.smtp_port}?from=iru@agency.example",
           "TAKEDOWN_CAPTURE_BEFORE_REFERRAL": "false", "TAKEDOWN_CHECK_BEFORE_REFERRAL": "false",
           "TAKEDOWN_OUTBOX_REDELIVER_SECONDS": "10", "TAKEDOWN_RELAY_INTERVAL_SECONDS": "0.3",
           "TAKEDOWN_LEASE_TTL_SECONDS": "3", "TAKEDOWN_JOB_MAX_ATTEMPTS": "20",
           "TAKEDOWN_INDEX_LOAD_JITTER_SECONDS": "0", "PYTHONPATH": str(ROOT / "src")}  # fmt: skip
    seeded["queue"] = queue
    rng = random.Random(int(os.environ.get("CHAOS_SEED", "184")))
    workers = Workers(env, tmp, LAUNCH)
    for _ in range(WORKERS):
        workers.spawn()
    start = time.monotonic()
    try:
        kill_at_random(workers, rng, CHAOS_SECONDS, (1.0, 4.0), break_broker)
        while time.monotonic() - start < DEADLINE and _open_jobs(url):
            time.sleep(0.5)
    finally:
        workers.stop()
    seeded["kills"] = workers.kills
    seeded["seconds"] = time.monotonic() - start
    return seeded


# --- what must hold -------------------------------------------------------------------


def _details(ev: AuditEvent) -> dict[str, Any]:
    d = ev.details
    return dict(json.loads(d) if isinstance(d, str) else d)


def _check(url: str, sim: SimHandle, seeded: dict[str, Any], tmp: Path) -> None:
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    with session_scope(factory) as s:
        checks = Counter(
            s.scalars(select(Check.item_id).where(Check.item_id.in_(seeded["verify_ids"])))
        )
        check_leases = s.scalar(select(func.count()).where(CheckSchedule.lease_owner.is_not(None)))
        deliveries = list(s.scalars(select(Delivery)))
        attempts = Counter(s.scalars(select(DeliveryAttempt.delivery_id)))
        interrupted = s.scalar(
            select(func.count()).where(DeliveryAttempt.detail == delivery_module.INTERRUPTED)
        )
        references = {r: referrals.repository.get(s, r).reference for r in seeded["refs"]}  # type: ignore[union-attr]
        imports = list(s.scalars(select(ImportJob).where(ImportJob.filename.like("import-%"))))
        import_ids = [j.id for j in imports]
        sightings = s.scalar(
            select(func.count()).select_from(Sighting).where(Sighting.import_id.in_(import_ids))
        )
        doubled = s.execute(
            select(Sighting.import_id, Sighting.line_no, func.count())
            .where(Sighting.import_id.in_(import_ids))
            .group_by(Sighting.import_id, Sighting.line_no)
            .having(func.count() > 1)
        ).all()
        import_items = s.scalar(
            select(func.count()).select_from(Item).where(Item.canonical_url.like("%chaos_import_%"))
        )
        captures = list(
            s.scalars(
                select(EvidenceCapture).where(EvidenceCapture.item_id.in_(seeded["capture_ids"]))
            )
        )
        captured_events = Counter(
            str(_details(ev).get("manifest_sha256"))
            for ev in s.scalars(
                select(AuditEvent).where(
                    AuditEvent.action.in_(["evidence.captured", "evidence.capture_failed"])
                )
            )
        )
        chain = audit.verify(s)
        states = dict(
            s.execute(text("SELECT state, count(*) FROM runtime_outbox GROUP BY state")).all()
        )
        relays = s.scalar(text("SELECT sum(relays) FROM runtime_outbox"))
        held = [(x.name, x.holder) for x in runtime_repo.leases(s) if x.holder is not None]
        dead = [(d.job, d.error[:200]) for d in runtime_repo.dead_jobs(s)]
        claimed = s.scalar(select(func.count()).where(Delivery.claimed_by.is_not(None)))
    engine.dispose()
    inbox = sim.call(lambda: list(sim.sim.app.state.inbox))
    api = sim.call(lambda: list(sim.sim.app.state.api_received))
    fresh = Counter(
        next((ref for ref in references.values() if ref in m["subject"]), m["subject"])
        for m in inbox if not m["repeat"]
    ) + Counter(a["reference"] for a in api if not a["repeat"])  # fmt: skip
    repeats = sum(1 for m in inbox + api if m["repeat"])
    verify_paths = {urlsplit(u).path for u in seeded["verify_urls"]}
    capture_paths = {urlsplit(u).path for u in seeded["capture_urls"]}
    summary = {
        "broker": seeded["broker"],
        "kills": seeded["kills"],
        "seed_s": round(seeded["seed_s"], 1),
        "chaos_and_drain_s": round(seeded["seconds"], 1),
        "jobs": sum(states.values()),
        "relays": relays,
        "verify_items": len(seeded["verify_ids"]),
        "checks": sum(checks.values()),
        "verify_requests": sum(n for (_, p), n in HITS.items() if p in verify_paths),
        "orders_received": len(inbox) + len(api),
        "orders_repeated_key": repeats,
        "delivery_attempts": sum(attempts.values()),
        "delivery_attempts_interrupted": interrupted,
        "deliveries": len(deliveries),
        "import_rows": IMPORT_ROWS,
        "sightings": sightings,
        "import_items": import_items,
        "captures": len(captures),
        "capture_page_requests": sum(n for (_, p), n in HITS.items() if p in capture_paths),
        "load": os.getloadavg()[0],
    }
    print("\nchaos (capabilities):", json.dumps(summary))
    if os.environ.get("CHAOS_REPORT"):
        with open(os.environ["CHAOS_REPORT"], "a") as fh:
            fh.write(json.dumps(summary) + "\n")
    assert seeded["kills"] >= 5
    # Verification: each item checked exactly once in the round.
    assert len(checks) == len(seeded["verify_ids"]), "items never checked"
    assert set(checks.values()) == {1}, [i for i, n in checks.items() if n > 1][:10]
    # Delivery: each order received once by the platform (repeats of a key are answered
    # with the first acknowledgement and create nothing: that is what the key is for).
    assert {d.status for d in deliveries} <= {"acknowledged", "delivered"}, [
        (d.id, d.status, d.attempts, d.next_attempt_at, d.claimed_by, d.last_error)
        for d in deliveries
        if d.status not in ("acknowledged", "delivered")
    ]
    assert fresh == Counter(references.values()), fresh
    # Import: no row lost, no sighting doubled.
    assert len(imports) == IMPORT_FILES, [j.filename for j in imports]
    assert sightings == IMPORT_ROWS and not doubled, (sightings, doubled[:5])
    assert import_items == IMPORT_DISTINCT
    # Capture: each item captured once, every manifest in the audit chain.
    per_item = Counter(c.item_id for c in captures)
    assert set(per_item.values()) == {1} and len(per_item) == CAPTURES, per_item.most_common(3)
    assert {c.status for c in captures} == {CaptureStatus.COMPLETE.value}, Counter(
        (c.status, c.failure_reason) for c in captures
    )
    for c in captures:
        assert captured_events[str(c.manifest_sha256)] == 1, c.id
    assert chain.ok, chain
    # Nothing in flight, nothing stuck.
    assert states == {"done": sum(states.values())}, states
    assert not dead, dead[:5]
    assert not held, held
    assert check_leases == 0 and claimed == 0, (check_leases, claimed)


#: Requests the testbed answered, by (host, path): what redone work cost the platforms.
HITS: Counter[tuple[str, str]] = Counter()


def _simulation(monkeypatch: pytest.MonkeyPatch) -> Any:
    from takedown.sim.app import SimApp

    original = SimApp.handle
    HITS.clear()

    def counting(self: SimApp, req: Any) -> Any:
        HITS[(req.host, req.target.split("?", 1)[0])] += 1
        return original(self, req)

    monkeypatch.setattr(SimApp, "handle", counting)
    return running_sim("small", tls=True)


def test_capabilities_chaos_on_postgresql_and_redis(
    chaos_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    redis = OwnRedis()
    try:
        redis.start()
    except (OSError, TimeoutError) as exc:
        if os.environ.get("CI"):
            pytest.fail(f"cannot start redis-server: {exc}")
        pytest.skip(str(exc))
    with _simulation(monkeypatch) as sim:
        try:
            seeded = _run(chaos_url, sim, redis.url, tmp_path, redis.restart)
        finally:
            redis.stop()
        _check(chaos_url, sim, seeded, tmp_path)


def test_capabilities_chaos_on_postgresql_and_rabbitmq(
    chaos_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    need("rabbitmq", AMQP_URL)
    from urllib.parse import urlparse

    u = urlparse(AMQP_URL)
    proxy = DroppingProxy((u.hostname or "127.0.0.1", u.port or 5672))
    via = AMQP_URL.replace(f"{u.hostname}:{u.port}", f"127.0.0.1:{proxy.port}")
    seeded: dict[str, Any] = {}
    with _simulation(monkeypatch) as sim:
        try:
            seeded = _run(chaos_url, sim, via, tmp_path, proxy.drop)
        finally:
            proxy.close()
            delete_rabbitmq_queues(seeded.get("queue"))
        _check(chaos_url, sim, seeded, tmp_path)
