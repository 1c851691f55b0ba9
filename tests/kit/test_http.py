"""The guarded HTTP client: SSRF guard, resolver map, limits, Tor routing."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import httpx
import pytest

from takedown.kit.errors import Forbidden, PayloadTooLarge
from takedown.kit.http import (
    BlockedDestination,
    fetch_limited,
    make_client,
    make_sync_client,
    read_limited_sync,
)
from takedown.kit.ssrf import check_address, lookup_resolve, parse_resolve
from takedown.sim.server import Request, Response, serve


class EchoServer:
    """A loopback server whose handler the test chooses; runs in its own thread."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.redirect_to: str | None = None
        self.port = 0
        self.loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def handle(self, req: Request) -> Response:
        self.requests.append(req)
        if req.path == "/redirect" and self.redirect_to:
            return Response(302, b"", headers=[("Location", self.redirect_to)])
        if req.path == "/big":
            return Response(200, b"x" * 10_000, "application/octet-stream")
        return Response(200, f"host={req.host}".encode(), "text/plain")

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        servers = self.loop.run_until_complete(serve(self.handle, "127.0.0.1", 0, "platform"))
        self.port = servers[0].sockets[0].getsockname()[1]
        self._started.set()
        self.loop.run_forever()
        for s in servers:
            s.close()
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        self.loop.close()

    def __enter__(self) -> EchoServer:
        self._thread.start()
        self._started.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)


@pytest.fixture
def echo() -> Iterator[EchoServer]:
    with EchoServer() as srv:
        yield srv


BLOCKED_URLS = [
    "http://127.0.0.1/",
    "http://localhost/",
    "http://10.1.2.3/",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/",
    "http://0.0.0.0/",
    "http://224.0.0.1/",
    "http://240.0.0.1/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[fe80::1]/",
    "http://[fc00::1]/",
    "http://[ff02::1]/",
    "http://2130706433/",  # decimal 127.0.0.1
    "http://0x7f000001/",  # hex 127.0.0.1
    "http://127.1/",  # short form
]


@pytest.mark.parametrize("url", BLOCKED_URLS)
def test_private_destinations_are_blocked(url: str) -> None:
    async def go() -> None:
        async with make_client() as c:
            with pytest.raises(BlockedDestination) as err:
                await c.get(url)
            assert "not a public address" in err.value.detail
            assert isinstance(err.value, Forbidden)
            assert err.value.status == 403

    asyncio.run(go())


def test_octal_ip_form_is_refused() -> None:
    async def go() -> None:
        async with make_client() as c:
            with pytest.raises((BlockedDestination, httpx.InvalidURL)):
                await c.get("http://0177.0.0.1/")

    asyncio.run(go())


def test_sync_client_blocks_too() -> None:
    with make_sync_client() as c, pytest.raises(BlockedDestination):
        c.get("http://127.0.0.1:9/")


def test_check_address_public_and_allow_list() -> None:
    check_address("example.org", "93.184.215.14")
    check_address("example.org", "2606:2800:21f:cb07:6820:80da:af6b:8b2c")
    with pytest.raises(BlockedDestination):
        check_address("intranet", "10.0.0.5")
    import ipaddress

    check_address("intranet", "10.0.0.5", [ipaddress.ip_network("10.0.0.0/8")])
    check_address("intranet", "10.0.0.5", allow_names=["intranet"])
    with pytest.raises(BlockedDestination):
        check_address("intranet", "::ffff:10.0.0.5")
    check_address("intranet", "::ffff:10.0.0.5", [ipaddress.ip_network("10.0.0.0/8")])


def test_allow_listed_loopback_is_reachable(echo: EchoServer) -> None:
    async def go() -> None:
        async with make_client(ssrf_allow=["127.0.0.0/8"]) as c:
            r = await c.get(f"http://127.0.0.1:{echo.port}/")
            assert r.status_code == 200

    asyncio.run(go())


def test_resolver_map_keeps_host_header(echo: EchoServer) -> None:
    async def go() -> None:
        resolve = {
            "platform.test": f"127.0.0.1:{echo.port}",
            "*.wild.test": f"127.0.0.1:{echo.port}",
        }
        async with make_client(resolve=resolve) as c:
            r = await c.get("http://platform.test/page")
            assert r.text == "host=platform.test"
            r = await c.get("http://deep.sub.wild.test/")
            assert r.text == "host=deep.sub.wild.test"
            r = await c.get("http://wild.test/")  # "*." covers the apex too, as in Settings
            assert r.text == "host=wild.test"

    asyncio.run(go())


def test_redirect_to_private_address_is_blocked(echo: EchoServer) -> None:
    echo.redirect_to = f"http://127.0.0.1:{echo.port}/secret"

    async def go() -> None:
        async with make_client(resolve={"public.test": f"127.0.0.1:{echo.port}"}) as c:
            with pytest.raises(BlockedDestination):
                await c.get("http://public.test/redirect")

    asyncio.run(go())
    assert [r.path for r in echo.requests] == ["/redirect"]


def test_onion_without_tor_proxy_is_refused() -> None:
    async def go() -> None:
        async with make_client() as c:
            with pytest.raises(BlockedDestination, match="Tor"):
                await c.get("http://" + "a" * 56 + ".onion/")

    asyncio.run(go())


def test_size_limit(echo: EchoServer) -> None:
    async def go() -> None:
        async with make_client(resolve={"big.test": f"127.0.0.1:{echo.port}"}) as c:
            with pytest.raises(PayloadTooLarge):
                await fetch_limited(c, "http://big.test/big", max_bytes=1000)
            resp, body = await fetch_limited(c, "http://big.test/big", max_bytes=20_000)
            assert resp.status_code == 200 and len(body) == 10_000

    asyncio.run(go())
    with (
        make_sync_client(resolve={"big.test": f"127.0.0.1:{echo.port}"}) as c,
        c.stream("GET", "http://big.test/big") as r,
        pytest.raises(PayloadTooLarge),
    ):
        read_limited_sync(r, 100)


def test_per_host_limit_holds_until_body_closed(echo: EchoServer) -> None:
    async def go() -> None:
        async with make_client(
            resolve={"slow.test": f"127.0.0.1:{echo.port}"}, per_host_limit=1
        ) as c:
            first = await c.send(c.build_request("GET", "http://slow.test/a"), stream=True)
            second = asyncio.create_task(c.get("http://slow.test/b"))
            for _ in range(50):
                await asyncio.sleep(0)
            assert not second.done()  # waiting for the one slot of slow.test
            await first.aclose()
            r = await second
            assert r.status_code == 200

    asyncio.run(go())


def test_parse_resolve() -> None:
    m = parse_resolve("x.com=127.0.0.1:8800, *.example=127.0.0.1:8800\nt.me=[::1]:9")
    assert m == {"x.com": "127.0.0.1:8800", "*.example": "127.0.0.1:8800", "t.me": "[::1]:9"}
    assert lookup_resolve(m, "X.com") == ("127.0.0.1", 8800)
    assert lookup_resolve(m, "files.dropvault.example") == ("127.0.0.1", 8800)
    assert lookup_resolve(m, "t.me") == ("::1", 9)
    assert lookup_resolve(m, "example") == ("127.0.0.1", 8800)
    assert lookup_resolve(m, "example.org") is None
    with pytest.raises(ValueError):
        parse_resolve("garbage")
