"""Crawls: take the due sources from the database, fetch them concurrently, record each
page as it arrives, and move each source's schedule on.

Why fetching and recording are split: fetching is slow and unbounded in how
it can go wrong (a hostile source), recording is quick and must be
transactional. Worker threads run the connectors (through one shared host
budget) and hand pages over a bounded queue; this thread records each page
and commits it with the source's checkpoint, so a crash loses at most the
page in flight and the next crawl resumes from the checkpoint. A source that
fails, stalls at a limit or is rate limited ends with a recorded result and
reason; it never holds the others (each has its own limits, and the workers
are shared only through the host budget).
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy.orm import Session, sessionmaker

from takedown.db import session_scope
from takedown.kit.clock import Clock, SystemClock
from takedown.kit.errors import TakedownError
from takedown.kit.politeness import HostBudget, shared_budget
from takedown.matching.engine import MatchingEngine
from takedown.monitoring import repository
from takedown.monitoring.base import CrawlStop, Limits, Page, SourceSpec
from takedown.monitoring.fetch import Fetcher
from takedown.monitoring.models import Crawl, CrawlResult, Source
from takedown.monitoring.policy import SchedulePolicy
from takedown.monitoring.record import PageRecorder
from takedown.monitoring.registry import build

log = logging.getLogger("takedown.monitoring")


@dataclass(frozen=True)
class CrawlConfig:
    limits: Limits = field(default_factory=Limits)
    policy: SchedulePolicy = field(default_factory=SchedulePolicy)
    workers: int = 8
    secret_key: str | None = None
    match: bool = True
    engine: MatchingEngine | None = None


@dataclass
class CrawlReport:
    sources: int = 0
    pages: int = 0
    new_items: int = 0
    matches: int = 0
    proposals: int = 0
    results: Counter[str] = field(default_factory=Counter)
    reasons: dict[int, str] = field(default_factory=dict)


@dataclass
class _Work:
    spec: SourceSpec | None
    error: CrawlStop | None = None


@dataclass
class _Msg:
    source_id: int
    page: Page | None = None
    media: dict[str, bytes | None] = field(default_factory=dict)
    stop: CrawlStop | None = None
    requests: int = 0
    retry_after: float | None = None
    final: bool = False


def _spec(session: Session, src: Source, secret_key: str | None) -> _Work:
    headers: dict[str, str] = {}
    if src.server_id is not None:
        from takedown.monitoring.service import server_headers

        server = repository.server_by_id(session, src.server_id)
        if server is None:
            return _Work(None, CrawlStop(CrawlResult.ERROR.value, "its server was deleted"))
        try:
            headers = server_headers(server, secret_key)
        except TakedownError as exc:
            return _Work(None, CrawlStop(CrawlResult.ERROR.value, str(exc)))
    spec = SourceSpec(
        id=src.id,
        kind=src.kind,
        url=src.url,
        cursor=src.cursor,
        checkpoint=src.checkpoint,
        etag=src.etag,
        last_modified=src.last_modified,
        headers=headers,
    )
    return _Work(spec)


def _fetch_source(
    spec: SourceSpec,
    client: httpx.Client,
    budget: HostBudget,
    limits: Limits,
    out: queue.Queue[_Msg],
    cancel: threading.Event,
) -> None:
    """Run one source's connector in a worker thread; every outcome ends with a final message."""
    fetch = Fetcher(client, budget, limits)
    pages = 0
    stop: CrawlStop | None = None
    try:
        connector = build(spec.kind)
        for page in connector.pages(spec, fetch, limits):
            pages += 1
            media = _fetch_media(page, fetch, limits)
            out.put(_Msg(spec.id, page=page, media=media, requests=fetch.requests))
            if page.done or cancel.is_set():
                break
            if pages >= limits.max_pages:
                stop = CrawlStop(
                    CrawlResult.PARTIAL.value,
                    f"page limit reached ({limits.max_pages} pages); resumes from checkpoint",
                )
                break
    except CrawlStop as exc:
        stop = exc
    except TakedownError as exc:
        stop = CrawlStop(CrawlResult.ERROR.value, str(exc))
    except Exception as exc:  # a connector bug ends this source only, with a reason
        log.exception("monitoring: source %s crawl failed", spec.id)
        stop = CrawlStop(CrawlResult.ERROR.value, f"internal error: {type(exc).__name__}")
    out.put(
        _Msg(spec.id, stop=stop, requests=fetch.requests, retry_after=fetch.retry_after, final=True)
    )


def _fetch_media(page: Page, fetch: Fetcher, limits: Limits) -> dict[str, bytes | None]:
    got: dict[str, bytes | None] = {}
    for post in page.posts:
        for url in post.media:
            if url in got or len(got) >= limits.media_per_crawl:
                continue
            try:
                resp = fetch.get(
                    url, max_bytes=limits.max_media_bytes, onion_only=fetch_is_onion(url)
                )
            except CrawlStop as exc:
                if exc.result == CrawlResult.PARTIAL.value:
                    raise
                got[url] = None
                continue
            got[url] = resp.body if resp.status == 200 else None
    return got


def _interleaved(works: dict[int, _Work], hosts: dict[int, str]) -> list[tuple[int, _Work]]:
    """Sources in round-robin order of their hosts.

    Why: a worker waiting for its host's next slot is a worker taken. Submitted host by
    host, the first workers would all wait on one host while sources of idle hosts
    queue behind them; round-robin, every wave of workers spans the hosts.
    """
    by_host: dict[str, list[tuple[int, _Work]]] = {}
    for sid, work in works.items():
        by_host.setdefault(hosts.get(sid, ""), []).append((sid, work))
    out: list[tuple[int, _Work]] = []
    queues = sorted(by_host.values(), key=len, reverse=True)
    for i in range(max((len(q) for q in queues), default=0)):
        out.extend(q[i] for q in queues if i < len(q))
    return out


def fetch_is_onion(url: str) -> bool:
    from takedown.kit.backends import is_onion

    return is_onion(httpx.URL(url).host.lower())


class Crawler:
    def __init__(
        self,
        factory: sessionmaker[Session],
        client: httpx.Client,
        *,
        config: CrawlConfig | None = None,
        budget: HostBudget | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.factory = factory
        self.client = client
        self.config = config or CrawlConfig()
        self.budget = budget or shared_budget()
        self.clock = clock or SystemClock()

    def run(self, *, limit: int = 1000, source_ids: list[int] | None = None) -> CrawlReport:
        """Crawl up to ``limit`` due sources (or exactly ``source_ids``, due or not)."""
        cfg = self.config
        now = self.clock.now()
        lease = now + dt.timedelta(seconds=cfg.policy.lease_s)
        report = CrawlReport()
        works: dict[int, _Work] = {}
        hosts: dict[int, str] = {}
        crawls: dict[int, int] = {}
        with session_scope(self.factory) as session:
            for src in repository.claim_due(session, now, limit, lease, source_ids=source_ids):
                works[src.id] = _spec(session, src, cfg.secret_key)
                hosts[src.id] = src.host
                row = Crawl(source_id=src.id, started_at=now)
                session.add(row)
                session.flush()
                crawls[src.id] = row.id
        report.sources = len(works)
        if not works:
            return report
        out: queue.Queue[_Msg] = queue.Queue(maxsize=cfg.workers * 4)
        cancel = threading.Event()
        pending = 0
        with ThreadPoolExecutor(
            max_workers=max(1, cfg.workers), thread_name_prefix="monitoring"
        ) as pool:
            for sid, work in _interleaved(works, hosts):
                if work.spec is None:
                    out_msg = _Msg(sid, stop=work.error, final=True)
                    self._finish(out_msg, crawls[sid], report, {})
                    continue
                pending += 1
                pool.submit(
                    _fetch_source, work.spec, self.client, self.budget, cfg.limits, out, cancel
                )
            progress: dict[int, dict[str, Any]] = {}
            try:
                while pending:
                    msg = out.get()
                    if msg.final:
                        pending -= 1
                        failed = progress.get(msg.source_id, {}).get("record_error")
                        if failed:
                            msg.stop = CrawlStop(CrawlResult.ERROR.value, failed)
                        self._finish(msg, crawls[msg.source_id], report, progress)
                    elif not progress.get(msg.source_id, {}).get("record_error"):
                        try:
                            self._page(msg, crawls[msg.source_id], report, progress)
                        except Exception as exc:  # one source's bad page never ends the run
                            log.exception("monitoring: recording a page of %s", msg.source_id)
                            progress.setdefault(msg.source_id, {})["record_error"] = (
                                f"recording failed: {type(exc).__name__}"
                            )
            finally:
                cancel.set()
                while pending:  # let blocked workers end (their pages are not recorded)
                    if out.get().final:
                        pending -= 1
        return report

    def _page(
        self, msg: _Msg, crawl_id: int, report: CrawlReport, progress: dict[int, dict[str, Any]]
    ) -> None:
        assert msg.page is not None
        page = msg.page
        p = progress.setdefault(
            msg.source_id, {"pages": 0, "new": 0, "newest": None, "status": None, "note": ""}
        )
        with session_scope(self.factory) as session:
            src = repository.source_by_id(session, msg.source_id)
            if src is None:
                return
            now = self.clock.now()
            tally = PageRecorder(
                session, src, now=now, engine=self.config.engine, match=self.config.match
            ).record(page, msg.media)
            p["pages"] += 1
            p["new"] += tally.new_items
            p["status"] = page.status
            p["not_modified"] = page.not_modified
            if page.note:
                p["note"] = page.note
            if tally.newest_post and (p["newest"] is None or tally.newest_post > p["newest"]):
                p["newest"] = tally.newest_post
            report.pages += 1
            report.new_items += tally.new_items
            report.matches += tally.matches
            report.proposals += tally.proposals
            src.new_total += tally.new_items
            if page.done:
                src.cursor = page.cursor
                src.checkpoint = None
            else:
                src.checkpoint = page.checkpoint
            if page.etag is not None or page.last_modified is not None:
                src.etag, src.last_modified = page.etag, page.last_modified
            crawl = session.get(Crawl, crawl_id)
            if crawl is not None:
                crawl.pages = p["pages"]
                crawl.new_items = p["new"]
                crawl.requests = msg.requests

    def _finish(
        self, msg: _Msg, crawl_id: int, report: CrawlReport, progress: dict[int, dict[str, Any]]
    ) -> None:
        p = progress.get(msg.source_id, {})
        policy = self.config.policy
        with session_scope(self.factory) as session:
            src = repository.source_by_id(session, msg.source_id)
            if src is None:
                return
            now = self.clock.now()
            stop = msg.stop
            if stop is None:
                result = CrawlResult.NOT_MODIFIED if p.get("not_modified") else CrawlResult.OK
                reason = str(p.get("note") or "")
            else:
                result, reason = CrawlResult(stop.result), stop.reason
            new = int(p.get("new", 0))
            src.crawls += 1
            src.last_crawl_at = now
            src.last_result = result.value
            src.last_reason = reason[:2000]
            src.last_new = new
            if p.get("newest"):
                src.last_post_at = max(src.last_post_at or p["newest"], p["newest"])
            failed = result in (CrawlResult.ERROR, CrawlResult.GONE)
            src.failures = src.failures + 1 if failed else 0
            if not failed:
                src.interval_s = policy.next_interval(
                    src.interval_s, src.base_interval_s, new, src.kind
                )
            surge = self._surging(session, src, now)
            retry_after = msg.retry_after if stop is not None else None
            if result is CrawlResult.PARTIAL and stop is not None:
                # More is waiting: come back soon, not after a whole interval (but never
                # before a host's Retry-After).
                wait = max(float(min(src.interval_s, 60)), retry_after or 0.0)
                src.next_due_at = now + dt.timedelta(seconds=wait)
            else:
                src.next_due_at = policy.next_due(
                    now, src.interval_s, surge=surge, failures=src.failures, retry_after=retry_after
                )
            src.lease_until = None
            crawl = session.get(Crawl, crawl_id)
            if crawl is not None:
                crawl.finished_at = now
                crawl.result = result.value
                crawl.reason = reason[:2000]
                crawl.http_status = stop.status if stop is not None else p.get("status")
                crawl.requests = max(crawl.requests, msg.requests)
        report.results[result.value] += 1
        if reason:
            report.reasons[msg.source_id] = reason

    @staticmethod
    def _surging(session: Session, src: Source, now: dt.datetime) -> bool:
        """An open window of the operation the source was watched for is a surge."""
        if src.operation_id is None:
            return False
        return repository.operation_open(session, src.operation_id, now)


def crawl_due(
    factory: sessionmaker[Session],
    client: httpx.Client,
    *,
    limit: int = 1000,
    source_ids: list[int] | None = None,
    config: CrawlConfig | None = None,
    budget: HostBudget | None = None,
    clock: Clock | None = None,
) -> CrawlReport:
    return Crawler(factory, client, config=config, budget=budget, clock=clock).run(
        limit=limit, source_ids=source_ids
    )


ClientFactory = Callable[[], httpx.Client]
