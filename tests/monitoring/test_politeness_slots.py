"""A host never sees two of the crawler's requests at once: each request holds its host's
slot until its answer is read, and every redirect hop takes a slot of its own."""

from __future__ import annotations

import threading
import time
from collections import Counter

import httpx

from takedown.kit.politeness import HostBudget
from takedown.monitoring.base import Limits
from takedown.monitoring.fetch import Fetcher


def test_a_held_host_waits_for_the_answer_before_the_next_request() -> None:
    budget = HostBudget(0.0)  # unpaced: only the hold keeps the second request back
    got = threading.Event()

    def second() -> None:
        budget.acquire("t.me")
        got.set()

    with budget.slot("t.me"):
        t = threading.Thread(target=second)
        t.start()
        assert not got.wait(0.3)  # the first request is still in flight
        budget.acquire("x.com")  # another host is not held
    assert got.wait(5)
    t.join(5)
    assert budget.granted("t.me") == 2


def test_concurrent_fetches_of_one_host_never_overlap() -> None:
    lock = threading.Lock()
    in_flight: Counter[str] = Counter()
    overlaps: Counter[str] = Counter()

    def handler(req: httpx.Request) -> httpx.Response:
        host = req.url.host
        with lock:
            in_flight[host] += 1
            if in_flight[host] > 1:
                overlaps[host] += 1
        time.sleep(0.01)  # an answer slower than the (unpaced) budget's spacing
        with lock:
            in_flight[host] -= 1
        return httpx.Response(200, text="synthetic")

    budget = HostBudget(0.0)
    client = httpx.Client(transport=httpx.MockTransport(handler))

    def crawl(n: int) -> None:
        fetch = Fetcher(client, budget, Limits())
        for i in range(5):
            fetch.get(f"https://t.me/s/synthchan{n}?before={i}")

    threads = [threading.Thread(target=crawl, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert budget.granted("t.me") == 20
    assert overlaps["t.me"] == 0


def test_every_redirect_hop_takes_its_own_slot() -> None:
    def handler(req: httpx.Request) -> httpx.Response:
        if req.url.path == "/s/synthgone":
            return httpx.Response(302, headers={"Location": "https://t.me/synthgone"})
        return httpx.Response(200, text="channel not found")

    budget = HostBudget(0.0)
    fetch = Fetcher(httpx.Client(transport=httpx.MockTransport(handler)), budget, Limits())
    got = fetch.get("https://t.me/s/synthgone")
    assert got.status == 200 and got.url == "https://t.me/synthgone"
    assert budget.granted("t.me") == 2  # the hop was paced too, not sent inside one slot
    assert fetch.requests == 2
