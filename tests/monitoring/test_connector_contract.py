"""The contract every source connector keeps (built-ins and plug-ins alike).

A connector is named after its kind, normalises its own URLs idempotently and refuses
others with a reason, ends every failure as a ``CrawlStop`` (never another exception),
yields pages whose last one is ``done``, and spends no request outside its ``Fetcher``.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import pytest

from takedown.kit.errors import InvalidInput
from takedown.kit.politeness import HostBudget
from takedown.monitoring.base import CrawlStop, Limits, Page, SourceConnector, SourceSpec
from takedown.monitoring.fetch import Fetcher
from takedown.monitoring.registry import build, connectors
from tests.monitoring.mockweb import tg_page

ONION = "http://kbejtd4ax5bbczpra2is3hgl3msz23thl7bceug2atqn5iwviylvkoqd.onion/"
AUTH = {"X-Auth-Token": "t", "X-User-Id": "u"}


def _rc(req: httpx.Request) -> httpx.Response:
    if req.url.path.endswith(".info"):
        return httpx.Response(200, json={"channel": {"_id": "ROOMID"}, "success": True})
    msgs = [
        {
            "_id": f"msgid0000{i}",
            "msg": f"synthetic {i}",
            "ts": f"2026-12-06T10:0{i}:00.000Z",
            "urls": [{"url": "https://t.me/synthlinked"}],
        }
        for i in range(3)
    ]
    return httpx.Response(200, json={"messages": msgs, "total": 3, "success": True})


def _account(req: httpx.Request) -> httpx.Response:
    return httpx.Response(
        200,
        html='<a href="/synth_acc/status/1234567">p</a>'
        '<a href="https://x.com/synth_acc/status/1234568">q</a>',
    )


def _site(req: httpx.Request) -> httpx.Response:
    return httpx.Response(
        200,
        html='<title>Synthetic</title><a href="/a.html">a</a>'
        '<a href="https://elsewhere.example/">out</a>',
        headers={"etag": '"e1"'},
    )


@dataclass(frozen=True)
class Case:
    url: str
    foreign: str  # a URL of another kind: refused with a reason
    healthy: Callable[[httpx.Request], httpx.Response]
    headers: dict[str, str]


CASES: dict[str, Case] = {
    "telegram": Case(
        "https://t.me/synthcontract",
        "https://x.com/synth_acc",
        lambda r: httpx.Response(
            200, html=tg_page("synthcontract", [1, 2], more=False), headers={"etag": '"t1"'}
        ),
        {},
    ),
    "rocketchat": Case(
        "https://chat.synthetic.example/channel/room1", "https://t.me/synthx", _rc, AUTH
    ),
    "account": Case("https://x.com/synth_acc", "https://t.me/synthcontract", _account, {}),
    "website": Case("https://synthetic-news.example/", ONION, _site, {}),
    "onion": Case(ONION, "https://synthetic-news.example/", _site, {}),
}


def _run(
    c: SourceConnector,
    spec: SourceSpec,
    handler: Callable[[httpx.Request], httpx.Response],
    limits: Limits | None = None,
) -> tuple[list[Page], Fetcher]:
    limits = limits or Limits()
    client = httpx.Client(transport=httpx.MockTransport(handler))
    fetch = Fetcher(client, HostBudget(), limits)
    return list(c.pages(spec, fetch, limits)), fetch


@pytest.fixture(params=sorted(connectors.names()))
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_every_registered_connector_has_a_contract_case(kind: str) -> None:
    assert kind in CASES, f"add a contract case for connector {kind!r}"


def test_named_after_its_kind_and_implements_the_interface(kind: str) -> None:
    c = build(kind)
    assert isinstance(c, SourceConnector) and c.name == kind == c.kind


def test_normalize_is_idempotent_and_refuses_other_kinds(kind: str) -> None:
    c, case = build(kind), CASES[kind]
    once = c.normalize(case.url)
    assert c.normalize(once) == once
    with pytest.raises(InvalidInput) as exc:
        c.normalize(case.foreign)
    assert exc.value.detail


def test_a_healthy_source_yields_pages_ending_done(kind: str) -> None:
    c, case = build(kind), CASES[kind]
    spec = SourceSpec(id=1, kind=kind, url=c.normalize(case.url), headers=case.headers)
    pages, fetch = _run(c, spec, case.healthy)
    assert pages and pages[-1].done
    posts = [p for page in pages for p in page.posts]
    assert posts and all(p.url.startswith(("http://", "https://")) for p in posts)
    assert fetch.requests >= 1


@pytest.mark.parametrize("status", [404, 500, 403])
def test_failures_end_as_crawlstop_with_a_reason(kind: str, status: int) -> None:
    c, case = build(kind), CASES[kind]
    spec = SourceSpec(id=1, kind=kind, url=c.normalize(case.url), headers=case.headers)
    with pytest.raises(CrawlStop) as exc:
        _run(c, spec, lambda r: httpx.Response(status, text="no"))
    assert exc.value.result in ("gone", "error") and exc.value.reason


def test_garbage_answers_never_escape_as_other_exceptions(kind: str) -> None:
    c, case = build(kind), CASES[kind]
    spec = SourceSpec(id=1, kind=kind, url=c.normalize(case.url), headers=case.headers)
    for body in (b"", b"\x00\xff" * 100, json.dumps({"messages": "nope"}).encode()):
        with contextlib.suppress(CrawlStop):
            _run(c, spec, lambda r, b=body: httpx.Response(200, content=b))  # type: ignore[misc]


def test_the_request_limit_is_kept(kind: str) -> None:
    c, case = build(kind), CASES[kind]
    spec = SourceSpec(id=1, kind=kind, url=c.normalize(case.url), headers=case.headers)
    limits = Limits(max_requests=1)
    try:
        _, fetch = _run(c, spec, case.healthy, limits)
        assert fetch.requests <= 1
    except CrawlStop as exc:
        assert exc.result == "partial" and "request limit" in exc.reason
