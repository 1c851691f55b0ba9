"""Request dispatch for the simulated platforms: virtual hosts, faults, and trust & safety intake.

Why here and not in each site: faults (429, 5xx, drops, slowness, latency)
and the referral intake behave the same on every platform and are
configured per platform in the scenario; the sites only render pages.
"""

from __future__ import annotations

import collections
import email
import email.policy
import json
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from takedown.sim import conditional, sites_other, sites_social
from takedown.sim.clock import SimClock
from takedown.sim.pages import Ctx, html_page, json_response, media_response, token_media
from takedown.sim.server import Request, Response
from takedown.sim.urls import locate
from takedown.sim.world import Item, World, draw, iso

SITES: dict[str, Callable[[Ctx], Response]] = {
    "microblog": sites_social.microblog,
    "video": sites_social.video,
    "telegram": sites_social.telegram,
    "rocketchat": sites_other.rocketchat,
    "filehost": sites_other.filehost,
    "paste": sites_other.paste,
    "website": sites_other.website,
    "onion_forum": sites_other.onion_forum,
}
URL_RE = re.compile(
    r"""(?:https?://|\b)(?:[a-z0-9-]+\.)+(?:[a-z]{2,}|onion)(?:/[^\s<>"']*)?""", re.I
)


@dataclass(slots=True)
class Fault:
    """A scripted answer for the next request(s) to a platform (set through the control API)."""

    status: int = 503
    count: int = 1
    retry_after: int | None = None
    drop: bool = False
    delay: float = 0.0


@dataclass(slots=True)
class _Bucket:
    tokens: float = 0.0
    last: float = 0.0


@dataclass(slots=True)
class HostLoad:
    """What one host saw: its requests, and those that arrived while another was in flight.

    Why the testbed counts it: politeness is the crawler's promise (one request at a
    time per host, spaced by its rate); the server is where a breach shows, whatever
    the client believes. A request is in flight from its arrival until its answer is
    sent (its delay: injected latency plus ``SimState.service_s``).
    """

    requests: int = 0
    concurrent: int = 0  # requests that arrived while another to this host was in flight
    max_in_flight: int = 0
    first: float = 0.0  # monotonic arrival of the first and last request
    last: float = 0.0
    min_gap: float | None = None  # smallest time between two arrivals
    ends: list[float] = field(default_factory=list)

    def arrive(self, t: float, delay: float) -> None:
        self.ends = [e for e in self.ends if e > t]
        if self.ends:
            self.concurrent += 1
        self.ends.append(t + delay)
        self.max_in_flight = max(self.max_in_flight, len(self.ends))
        if self.requests:
            gap = t - self.last
            self.min_gap = gap if self.min_gap is None else min(self.min_gap, gap)
        else:
            self.first = t
        self.requests += 1
        self.last = t

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "concurrent": self.concurrent,
            "max_in_flight": self.max_in_flight,
            "min_gap_s": self.min_gap,
        }


@dataclass
class SimState:
    """Mutable run state beside the world: faults, rate buckets, e-mails received."""

    faults: dict[str, collections.deque[Fault]] = field(default_factory=dict)
    buckets: dict[str, _Bucket] = field(default_factory=dict)
    inbox: list[dict[str, Any]] = field(default_factory=list)
    # What a careful receiver keeps: the acknowledgement each idempotency key (API header,
    # e-mail Message-ID) got, so a retry of the same referral gets the same answer.
    seen_keys: dict[str, str] = field(default_factory=dict)
    # Every referral POST received (repeats included), for tests that count deliveries.
    api_received: list[dict[str, Any]] = field(default_factory=list)
    requests: int = 0
    inject: bool = True  # behaviour (latency, random errors) on/off
    # Requests per host and politeness breaches seen (``HostLoad``); ``service_s`` is a
    # time every answer takes even with ``inject`` off, so requests have a duration.
    hosts: dict[str, HostLoad] = field(default_factory=dict)
    service_s: float = 0.0


#: The simulated host-state competent authorities (TCO Art. 4(1)): one mailbox per Member
#: State, ``tco-<cc>@authority.example``, that takes the copies of cross-border removal
#: orders (recorded in the inbox with ``authority``; no platform acts on them).
AUTHORITY_EMAIL = re.compile(r"tco-([a-z]{2})@authority\.example")


def authority_email(country: str) -> str:
    return f"tco-{country.lower()}@authority.example"


class SimApp:
    def __init__(self, world: World, clock: SimClock, *, inject: bool = True) -> None:
        self.world = world
        self.clock = clock
        self.state = SimState(inject=inject)
        self.rand = random.Random(f"behaviour:{world.seed}")
        # Rendered pages by (host, target), valid while world.version is unchanged: every
        # change a page can show (removal, appearance, re-creation) bumps the version.
        self._cache: dict[tuple[str, str], tuple[int, bytes, str, list[tuple[str, str]]]] = {}
        self._cache_version = -1
        self.email_to_platform = {
            p.tns.email.lower(): p.id for p in world.platforms.values() if p.tns.email
        }

    # --- platform traffic --------------------------------------------------------------

    def handle(self, req: Request) -> Response:
        resp = self._handle(req)
        resp.delay += self.state.service_s
        load = self.state.hosts.get(req.host)
        if load is None:
            load = self.state.hosts[req.host] = HostLoad()
        load.arrive(time.monotonic(), resp.delay)
        return resp

    def host_load(self) -> dict[str, dict[str, Any]]:
        return {h: v.as_dict() for h, v in sorted(self.state.hosts.items())}

    def _handle(self, req: Request) -> Response:
        self.state.requests += 1
        host = req.host
        w = self.world
        pid = w.hosts.get(host) or w.hosts.get(host.removeprefix("www."))
        is_onion = host.endswith(".onion")
        if pid is None or is_onion != (req.listener == "onion"):
            return Response(
                421, b"misdirected request: unknown host on this listener", "text/plain"
            )
        now = self.clock.ts()
        w.tick(now)
        p = w.platforms[pid]
        if p.tns.host and host == p.tns.host:
            return self.intake(req, pid, now)
        fault = self._fault(pid)
        if fault is not None:
            return fault
        b = p.behaviour
        delay = 0.0
        if self.state.inject:
            limited = self._rate_limit(pid)
            if limited is not None:
                return limited
            r = self.rand.random()
            if b.drop_rate and r < b.drop_rate:
                return Response(drop=True)
            acc = b.drop_rate
            for status, rate in sorted(b.error_rate.items()):
                acc += rate
                if r < acc:
                    return html_page(
                        f"{status} error",
                        f"<h1>Something went wrong ({status})</h1>",
                        status=status,
                        headers=[("Retry-After", "1")] if status == 503 else [],
                    )
            if b.slow_rate and self.rand.random() < b.slow_rate:
                delay += b.slow_ms / 1000
            if b.latency_ms.median > 0:
                delay += draw(self.rand, b.latency_ms, 1) / 1000
        cacheable = req.method in ("GET", "HEAD") and not req.path.startswith("/api/")
        if self._cache_version != w.version:
            self._cache.clear()
            self._cache_version = w.version
        key = (host, req.target)
        hit = self._cache.get(key) if cacheable else None
        if hit is not None:
            hit_resp = Response(hit[0], hit[1], hit[2], list(hit[3]), delay=delay)
            return conditional.apply(p.type, req, hit_resp)
        ctx = Ctx(w, p, req, now)
        if host in p.media_hosts and not req.path.startswith("/vi/"):
            found = token_media(w, req.path)
            resp = media_response(*found) if found else Response(404, b"Not Found", "text/plain")
        else:
            resp = SITES[p.type](ctx)
        if cacheable and not resp.drop and len(self._cache) < 50_000:
            self._cache[key] = (resp.status, resp.body, resp.content_type, list(resp.headers))
        resp.delay += delay
        return conditional.apply(p.type, req, resp)

    def _fault(self, pid: str) -> Response | None:
        q = self.state.faults.get(pid)
        if not q:
            return None
        f = q[0]
        f.count -= 1
        if f.count <= 0:
            q.popleft()
        if f.drop:
            return Response(drop=True)
        hdrs = [("Retry-After", str(f.retry_after))] if f.retry_after is not None else []
        resp = html_page(f"{f.status}", f"<h1>Error {f.status}</h1>", status=f.status, headers=hdrs)
        resp.delay = f.delay
        return resp

    def _rate_limit(self, pid: str) -> Response | None:
        b = self.world.platforms[pid].behaviour
        if b.rate_limit_per_second <= 0:
            return None
        bucket = self.state.buckets.setdefault(
            pid, _Bucket(max(1.0, b.rate_limit_per_second), time.monotonic())
        )
        t = time.monotonic()
        burst = max(1.0, b.rate_limit_per_second)  # a token bucket of one second's worth
        bucket.tokens = min(burst, bucket.tokens + (t - bucket.last) * b.rate_limit_per_second)
        bucket.last = t
        if bucket.tokens < 1:
            return json_response(
                {"errors": [{"code": 88, "message": "Rate limit exceeded"}]},
                429,
                [("Retry-After", str(b.retry_after))],
            )
        bucket.tokens -= 1
        return None

    # --- trust & safety intake ---------------------------------------------------------

    def _resolve_urls(self, pid: str, urls: list[str]) -> list[tuple[str, Item | None]]:
        out: list[tuple[str, Item | None]] = []
        for u in urls:
            upid, it = locate(self.world, u if "://" in u else "https://" + u)
            out.append((u, it if upid == pid else None))
        return out

    def intake(self, req: Request, pid: str, now: int) -> Response:
        p = self.world.platforms[pid]
        path = req.path.rstrip("/")
        if path == "/api/v1/referrals" and req.method == "POST":
            try:
                data = json.loads(req.body or b"{}")
                urls = [str(u) for u in data["urls"]]
            except (ValueError, KeyError, TypeError):
                return json_response({"error": "body must be JSON with a list 'urls'"}, 400)
            kind = str(data.get("kind", "tos"))
            key = req.headers.get("idempotency-key", "")
            self.state.api_received.append(
                {"platform": pid, "reference": str(data.get("reference", "")), "key": key,
                 "repeat": bool(key) and key in self.state.seen_keys}
            )  # fmt: skip
            if key and key in self.state.seen_keys:
                return json_response(self._ack(self.state.seen_keys[key], now), 200)
            ref = self.world.refer(
                pid,
                self._resolve_urls(pid, urls),
                now,
                "api",
                kind,
                str(data.get("reference", "")),
                str(data.get("agency", "")),
            )
            if key:
                self.state.seen_keys[key] = ref.ack
            return json_response(self._ack(ref.ack, now), 202)
        if path.startswith("/api/v1/referrals/") and req.method == "GET":
            ack = path.rsplit("/", 1)[1]
            if (
                ack not in self.world.referral_by_ack
                or self.world.referral_by_ack[ack].platform != pid
            ):
                return json_response({"error": "unknown acknowledgement id"}, 404)
            return json_response(self._ack(ack, now))
        return html_page(
            f"{p.name or p.id} - Law enforcement referrals",
            "<h1>Referral intake</h1><p>POST JSON to /api/v1/referrals or e-mail "
            f"{p.tns.email}</p>",
        )

    def _ack(self, ack: str, now: int) -> dict[str, Any]:
        ref = self.world.referral_by_ack[ack]
        items = []
        for o in ref.outcomes:
            it = self.world.items.get(o.item_id or "")
            removed = it is not None and it.removed_at is not None and it.removed_at <= now
            items.append(
                {
                    "url": o.url,
                    "status": "removed" if removed else o.status,
                    "reason": o.reason,
                    "removed_at": iso(it.removed_at) if it is not None and removed else None,
                }
            )
        return {
            "acknowledgement_id": ack,
            "received_at": iso(ref.received_at),
            "kind": ref.kind,
            "items": items,
        }

    def receive_email(self, mail_from: str, rcpts: list[str], data: bytes) -> tuple[bool, str]:
        msg = email.message_from_bytes(data, policy=email.policy.default)
        texts: list[str] = []
        for part in msg.walk():
            if part.get_content_maintype() == "text":
                try:
                    texts.append(str(part.get_content()))
                except (LookupError, UnicodeError):
                    continue
        body = "\n".join(texts)
        urls = list(dict.fromkeys(m.group(0).rstrip(".,;)") for m in URL_RE.finditer(body)))
        subject = str(msg.get("Subject", ""))
        kind = "removal_order" if "removal order" in (subject + body).lower() else "tos"
        acks = []
        now = self.clock.ts()
        message_id = str(msg.get("Message-ID", "")).strip()
        repeat = bool(message_id) and message_id in self.state.seen_keys
        if repeat:
            acks = self.state.seen_keys[message_id].split(",")
        authority = [
            m.group(1).upper() for r in rcpts if (m := AUTHORITY_EMAIL.fullmatch(r.lower()))
        ]
        for rcpt in [] if repeat else rcpts:
            pid = self.email_to_platform.get(rcpt.lower())
            if pid is None:
                continue
            ref = self.world.refer(
                pid, self._resolve_urls(pid, urls), now, "email", kind, subject, mail_from
            )
            acks.append(ref.ack)
        self.state.inbox.append(
            {
                "from": mail_from,
                "to": rcpts,
                "subject": subject,
                "urls": urls,
                "acks": acks,
                "received_at": iso(now),
                "message_id": message_id,
                "repeat": repeat,
                "authority": authority[0] if authority else None,
            }
        )
        if acks and message_id and not repeat:
            self.state.seen_keys[message_id] = ",".join(acks)
        return bool(acks) or bool(authority), ",".join(acks)


class SmtpHandler:
    """aiosmtpd handler: the platforms' abuse/referral inboxes."""

    def __init__(self, app: SimApp) -> None:
        self.app = app

    async def handle_RCPT(  # noqa: N802 (aiosmtpd hook name)
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        low = address.lower()
        if low not in self.app.email_to_platform and not AUTHORITY_EMAIL.fullmatch(low):
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8", "replace")
        ok, acks = self.app.receive_email(str(envelope.mail_from), list(envelope.rcpt_tos), content)
        if ok and not acks:  # an authority's copy: accepted, no platform acknowledgement
            return "250 Message accepted"
        return (
            f"250 Message accepted; acknowledgement {acks}" if ok else "554 no referral recipient"
        )
