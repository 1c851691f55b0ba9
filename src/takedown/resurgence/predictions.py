"""Predicted successors: the handles a removed account is likely to return under, probed slowly.

Why probe at all: a successor that nobody announces is found only when
someone happens to report it. Generating the handles the field's patterns
give (``signals.patterns.predict``) and asking the platform, at a low rate,
whether each exists finds it before anyone announces it. The probes go
through the guarded client (kit/http: SSRF guard, per-host limit) and
verification's removal detectors decide "exists" (online) or "absent"
(removed / not found). Probes are spread out: each removed account's
predictions are due ``SPACING`` apart, each host gets at most ``per_host``
probes per run, and a prediction is probed again after ``REPROBE`` while absent
(an account may be created later), up to ``MAX_PROBES`` times.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from collections.abc import Callable

import httpx
from sqlalchemy.orm import Session

from takedown.items.core import now_of
from takedown.kit.clock import Clock
from takedown.kit.errors import TakedownError
from takedown.platforms.detectors.registry import DetectorRegistry
from takedown.platforms.identity import canonicalize
from takedown.resurgence import repository
from takedown.resurgence.models import Prediction, PredictionState
from takedown.resurgence.service import MAX_LEN, handle_of

PER_REMOVED = 12
SPACING = dt.timedelta(minutes=10)
REPROBE = dt.timedelta(hours=12)
MAX_PROBES = 6


def url_for(canonical_url: str, old_handle: str, new_handle: str) -> str | None:
    """The predecessor's address with its handle replaced (``@`` kept for video channels)."""
    head, sep, last = canonical_url.rstrip("/").rpartition("/")
    if not sep or last.lstrip("@").casefold() != old_handle.casefold():
        return None
    url = f"{head}/{'@' if last.startswith('@') else ''}{new_handle}"
    try:
        ident = canonicalize(url)
    except TakedownError:  # a predicted handle the platform would refuse
        return None
    return ident.canonical_url if ident.kind.value in ("account", "channel") else None


def generate(session: Session, removed_id: int, *, clock: Clock | None = None) -> int:
    """Store the predicted successor handles of one removed account or channel."""
    from takedown.resurgence.signals.patterns import predict

    found = repository.owners(session, [removed_id])
    if not found:
        return 0
    item = found[0]
    have = {p.handle for p in repository.predictions_of(session, removed_id)}
    if len(have) >= PER_REMOVED:
        return 0
    now = now_of(clock)
    old = handle_of(item)
    n = 0
    for rank, (handle, pattern) in enumerate(
        predict(old, max_len=MAX_LEN.get(item.platform, 30), limit=PER_REMOVED * 2)
    ):
        if n + len(have) >= PER_REMOVED or handle in have:
            continue
        url = url_for(item.canonical_url, old, handle)
        if url is None:
            continue
        repository.add(
            session,
            Prediction(
                removed_id=item.id,
                platform=item.platform,
                handle=handle,
                pattern=pattern,
                url=url,
                rank=rank,
                next_probe_at=now + SPACING * n,
                created_at=now,
            ),
        )
        n += 1
    return n


ClientFactory = Callable[[], httpx.AsyncClient]


def probe_due(
    session: Session,
    client: ClientFactory,
    *,
    limit: int = 50,
    per_host: int = 5,
    registry: DetectorRegistry | None = None,
    clock: Clock | None = None,
) -> Counter[str]:
    """Probe the predictions that are due (at most ``per_host`` per host); their states."""
    from takedown.platforms.detectors.base import Outcome
    from takedown.verification.engine import CheckResult
    from takedown.verification.service import check_urls

    now = now_of(clock)
    due = repository.due_probes(session, now, limit * 4)
    hosts: Counter[str] = Counter()
    batch: list[Prediction] = []
    for p in due:
        host = httpx.URL(p.url).host
        if hosts[host] >= per_host or len(batch) >= limit:
            continue
        hosts[host] += 1
        batch.append(p)
    if not batch:
        return Counter()

    async def go() -> list[CheckResult]:
        async with client() as c:
            urls = [p.url for p in batch]
            return list(await check_urls(c, urls, registry=registry, clock=clock))

    # The checker answers in completion order; its keys are the positions of the URLs.
    results = sorted(asyncio.run(go()), key=lambda r: int(r.key))
    states: Counter[str] = Counter()
    for p, r in zip(batch, results, strict=True):
        outcome = r.outcome
        p.probes += 1
        p.probed_at = now
        p.http_status = r.status
        p.detail = r.reason[:500]
        if outcome == Outcome.ONLINE:
            p.state, p.next_probe_at = PredictionState.EXISTS.value, None
        elif outcome == Outcome.REMOVED:
            p.state = PredictionState.ABSENT.value
            p.next_probe_at = now + REPROBE if p.probes < MAX_PROBES else None
            if p.next_probe_at is not None:
                p.state = PredictionState.PENDING.value
                p.detail = f"absent at probe {p.probes}; {p.detail}"[:500]
        else:
            p.state = PredictionState.ERROR.value
            p.next_probe_at = now + REPROBE if p.probes < MAX_PROBES else None
        states[p.state] += 1
    return states
