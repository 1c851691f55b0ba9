"""The SSRF guard with ``TAKEDOWN_HTTP_PROXY`` set (issue 19, point 9).

A name that did not resolve here used to go to the proxy as is, and the proxy
resolved it (``takedown verify --url http://intranet-only.corp/admin`` reached
it). Now every name is resolved and checked here, refused if it does not
resolve, and the proxy is only told the checked address: ``CONNECT <ip>:443``
for https (TLS still verified against the name, through the tunnel), or an
absolute-form ``GET http://<ip>/...`` with the original ``Host`` for http.

No test sends anything beyond loopback: the fake proxy answers everything
itself (it also plays the origin inside the CONNECT tunnel), and the public
addresses below only ever appear as text in a CONNECT line or a URL.
"""

from __future__ import annotations

import asyncio
import os
import socket
import socketserver
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme

from takedown.kit.http import BlockedDestination, make_client, make_sync_client
from takedown.kit.proxy import ProxyConfig
from takedown.sim.socks import serve_socks
from tests.kit.test_http import EchoServer

PUBLIC_IP = "93.184.215.14"  # only ever a string in a CONNECT line: never connected to
PUBLIC_IP6 = "2606:4700::1111"
_real_getaddrinfo = socket.getaddrinfo


def _info(ip: str, port: int) -> tuple[Any, ...]:
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    return (family, socket.SOCK_STREAM, 6, "", (ip, port))


class Resolver:
    """Stands in for DNS: a public name, a mixed answer, a rebinding name, an intranet name."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self._rebind_calls = 0

    def __call__(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        name = host.decode() if isinstance(host, bytes) else str(host)
        self.asked.append(name)
        p = int(port or 0)
        if name == "public.example":
            return [_info(PUBLIC_IP, p)]
        if name == "mixed.example":
            return [_info(PUBLIC_IP, p), _info("10.0.0.7", p)]
        if name == "rebind.example":  # public when we check, loopback on any later lookup
            self._rebind_calls += 1
            return [_info(PUBLIC_IP if self._rebind_calls == 1 else "127.0.0.1", p)]
        if name.endswith((".corp", ".onion", ".invalid")):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return _real_getaddrinfo(host, port, *args, **kwargs)


@pytest.fixture
def resolver(monkeypatch: pytest.MonkeyPatch) -> Resolver:
    r = Resolver()
    monkeypatch.setattr(socket, "getaddrinfo", r)
    return r


class FakeProxy(socketserver.ThreadingTCPServer):
    """An HTTP proxy on loopback that records what it is asked and never goes further."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, tls: ssl.SSLContext) -> None:
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        self.tls = tls
        self.seen: list[tuple[str, dict[str, str]]] = []  # (request line, headers)
        self.inner: list[tuple[str, dict[str, str], str | None]] = []  # inside tunnels (+SNI)
        self.refuse_connect = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    @property
    def lines(self) -> list[str]:
        return [line for line, _ in self.seen]


def _read_head(f: Any) -> tuple[str, dict[str, str]]:
    line = f.readline(8192).decode("latin-1").rstrip("\r\n")
    headers: dict[str, str] = {}
    while True:
        h = f.readline(8192).decode("latin-1").rstrip("\r\n")
        if not h:
            return line, headers
        k, _, v = h.partition(":")
        headers[k.strip().lower()] = v.strip()


def _answer(w: Any, status: str, body: bytes, extra: str = "") -> None:
    head = f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n"
    w.write(f"{head}{extra}\r\n".encode() + body)
    w.flush()


class _ProxyHandler(socketserver.StreamRequestHandler):
    server: FakeProxy

    def handle(self) -> None:
        line, headers = _read_head(self.rfile)
        if not line:
            return
        self.server.seen.append((line, headers))
        method, target, _ = [*line.split(" "), "", ""][:3]
        if method != "CONNECT":
            if target.endswith("/redirect"):
                _answer(self.wfile, "302 Found", b"", "Location: http://intranet-only.corp/x\r\n")
                return
            host = headers.get("host", "")
            _answer(self.wfile, "200 OK", f"forwarded {target} host={host}".encode())
            return
        if self.server.refuse_connect or not target.startswith(f"{PUBLIC_IP}:"):
            _answer(self.wfile, "403 Forbidden", b"no")
            return
        self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        self.wfile.flush()
        sni: list[str | None] = [None]

        def on_sni(obj: ssl.SSLObject, name: str | None, ctx: ssl.SSLContext) -> None:
            sni[0] = name

        self.server.tls.sni_callback = on_sni  # type: ignore[assignment]
        with self.server.tls.wrap_socket(self.request, server_side=True) as tls:
            f = tls.makefile("rwb")
            inner_line, inner_headers = _read_head(f)
            self.server.inner.append((inner_line, inner_headers, sni[0]))
            body = f"tunnel to {target} host={inner_headers.get('host')} sni={sni[0]}".encode()
            _answer(f, "200 OK", body)
            f.close()


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def proxy(ca: trustme.CA) -> Iterator[FakeProxy]:
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("public.example", "rebind.example").configure_cert(tls)
    srv = FakeProxy(tls)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def _trust(ca: trustme.CA) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)
    return ctx


def _get(url: str, *, sync: bool, **opts: Any) -> httpx.Response:
    if sync:
        with make_sync_client(**opts) as c:
            return c.get(url)

    async def go() -> httpx.Response:
        async with make_client(**opts) as c:
            r = await c.get(url)
            return r

    return asyncio.run(go())


BOTH = pytest.mark.parametrize("sync", [False, True], ids=["async", "sync"])
REFUSED = [
    "http://intranet-only.corp/admin",  # does not resolve here: the proxy would resolve it
    "https://intranet-only.corp/admin",
    "http://127.0.0.1/",
    "http://localhost:8080/",
    "http://[::1]/",
    "http://10.0.0.1/",
    "http://0x7f000001/",  # hex loopback
    "http://2130706433/",  # decimal loopback
    "https://169.254.169.254/latest/meta-data/",
    "http://mixed.example/",  # one public and one private answer
]


@BOTH
@pytest.mark.parametrize("url", REFUSED)
def test_what_the_guard_cannot_pass_never_reaches_the_proxy(
    url: str, sync: bool, proxy: FakeProxy, resolver: Resolver
) -> None:
    with pytest.raises(BlockedDestination) as err:
        _get(url, sync=sync, proxy=proxy.url)
    assert err.value.status == 403
    assert proxy.seen == []


@BOTH
@pytest.mark.parametrize("url", REFUSED)
def test_without_a_proxy_the_same_forms_are_refused(
    url: str, sync: bool, resolver: Resolver
) -> None:
    unresolvable = ".corp/" in url
    with pytest.raises(httpx.ConnectError if unresolvable else BlockedDestination):
        _get(url, sync=sync)


@BOTH
def test_plain_http_goes_to_the_proxy_by_checked_address_with_the_name_as_host(
    sync: bool, proxy: FakeProxy, resolver: Resolver
) -> None:
    r = _get("http://public.example/path?q=1", sync=sync, proxy=proxy.url)
    assert r.status_code == 200
    assert r.text == f"forwarded http://{PUBLIC_IP}/path?q=1 host=public.example"
    assert str(r.request.url) == "http://public.example/path?q=1"  # the caller's view is intact
    assert proxy.lines == [f"GET http://{PUBLIC_IP}/path?q=1 HTTP/1.1"]


@BOTH
def test_https_tunnels_to_the_checked_address_and_verifies_the_name(
    sync: bool, proxy: FakeProxy, resolver: Resolver, ca: trustme.CA
) -> None:
    r = _get("https://public.example/x", sync=sync, proxy=proxy.url, verify=_trust(ca))
    assert r.status_code == 200
    assert r.text == f"tunnel to {PUBLIC_IP}:443 host=public.example sni=public.example"
    assert proxy.lines == [f"CONNECT {PUBLIC_IP}:443 HTTP/1.1"]


@BOTH
def test_a_rebinding_name_is_looked_up_once_and_the_proxy_never_sees_it(
    sync: bool, proxy: FakeProxy, resolver: Resolver, ca: trustme.CA
) -> None:
    r = _get("https://rebind.example/", sync=sync, proxy=proxy.url, verify=_trust(ca))
    assert r.status_code == 200 and "host=rebind.example sni=rebind.example" in r.text
    assert proxy.lines == [f"CONNECT {PUBLIC_IP}:443 HTTP/1.1"]
    assert resolver.asked.count("rebind.example") == 1


@BOTH
def test_a_name_that_now_points_inside_is_refused_before_the_proxy(
    sync: bool, proxy: FakeProxy, resolver: Resolver
) -> None:
    resolver("rebind.example", 80)  # the first (public) answer is used up
    with pytest.raises(BlockedDestination):
        _get("http://rebind.example/", sync=sync, proxy=proxy.url)
    assert proxy.seen == []


@BOTH
def test_ip_literals_are_checked_and_passed_on_as_they_are(
    sync: bool, proxy: FakeProxy, resolver: Resolver
) -> None:
    r = _get(f"http://{PUBLIC_IP}:8080/a", sync=sync, proxy=proxy.url)
    assert r.text == f"forwarded http://{PUBLIC_IP}:8080/a host={PUBLIC_IP}:8080"
    with pytest.raises(httpx.ProxyError):  # the fake proxy only tunnels to PUBLIC_IP
        _get(f"https://[{PUBLIC_IP6}]/", sync=sync, proxy=proxy.url)
    assert proxy.lines[-1] == f"CONNECT [{PUBLIC_IP6}]:443 HTTP/1.1"


@BOTH
def test_a_redirect_to_an_unresolvable_name_is_refused(
    sync: bool, proxy: FakeProxy, resolver: Resolver
) -> None:
    with pytest.raises(BlockedDestination, match="does not resolve here"):
        _get("http://public.example/redirect", sync=sync, proxy=proxy.url)
    assert proxy.lines == [f"GET http://{PUBLIC_IP}/redirect HTTP/1.1"]


@BOTH
def test_a_refused_connect_is_a_proxy_error_and_credentials_are_sent(
    sync: bool, proxy: FakeProxy, resolver: Resolver
) -> None:
    proxy.refuse_connect = True
    authed = proxy.url.replace("http://", "http://ops:s%3Acret@")
    with pytest.raises(httpx.ProxyError, match="refused CONNECT"):
        _get("https://public.example/", sync=sync, proxy=authed)
    [(line, headers)] = proxy.seen
    assert line == f"CONNECT {PUBLIC_IP}:443 HTTP/1.1"
    assert headers["proxy-authorization"] == "Basic b3BzOnM6Y3JldA=="  # ops:s:cret


@BOTH
def test_testbed_names_in_the_resolver_map_skip_the_proxy(
    sync: bool, proxy: FakeProxy, resolver: Resolver
) -> None:
    with EchoServer() as echo:
        r = _get(
            "http://platform.test/p",
            sync=sync,
            proxy=proxy.url,
            resolve={"platform.test": f"127.0.0.1:{echo.port}"},
        )
    assert r.text == "host=platform.test" and proxy.seen == []


class Tor:
    """The testbed's SOCKS5 proxy on a loop of its own, shut down cleanly (no stray streams)."""

    def __init__(self, echo_port: int) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._echo_port = echo_port
        self.url = ""

    def __enter__(self) -> Tor:
        self._thread.start()

        async def start() -> Any:
            return await serve_socks(
                "127.0.0.1",
                0,
                lambda name: name.endswith(".onion"),
                lambda: ("127.0.0.1", self._echo_port),
            )

        self.server = asyncio.run_coroutine_threadsafe(start(), self.loop).result(10)
        self.url = f"socks5://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"
        return self

    def __exit__(self, *exc: object) -> None:
        async def stop() -> None:
            self.server.close()
            await self.server.wait_closed()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


@BOTH
def test_onion_goes_only_to_tor_with_remote_dns_even_with_a_proxy(
    sync: bool, proxy: FakeProxy, resolver: Resolver
) -> None:
    onion = "http://" + "b" * 56 + ".onion/forum"
    with EchoServer() as echo, Tor(echo.port) as tor:
        r = _get(onion, sync=sync, proxy=proxy.url, tor_proxy=tor.url)
    assert r.status_code == 200 and r.text == f"host={'b' * 56}.onion"
    assert proxy.seen == []
    assert not [n for n in resolver.asked if n.endswith(".onion")]  # never resolved here
    with pytest.raises(BlockedDestination, match="Tor"):
        _get(onion, sync=sync, proxy=proxy.url)  # no Tor proxy: refused, not proxied
    assert proxy.seen == []


def test_proxy_urls_other_than_http_are_refused() -> None:
    assert ProxyConfig.parse("http://proxy.corp:3128").port == 3128
    assert ProxyConfig.parse("https://proxy.corp").port == 443
    for bad in ("socks5://127.0.0.1:9050", "proxy.corp:3128", "ftp://x"):
        with pytest.raises(ValueError, match="http:// or https://"):
            ProxyConfig.parse(bad)
    from pydantic import ValidationError

    from takedown.config import Settings

    assert Settings(http_proxy="http://proxy.corp:3128").http_proxy == "http://proxy.corp:3128"
    with pytest.raises(ValidationError, match="http:// or https://"):
        Settings(http_proxy="socks5://127.0.0.1:9050")


def test_the_reported_command_no_longer_reaches_the_proxy(proxy: FakeProxy, tmp_path: Path) -> None:
    """The issue's own reproduction: ``takedown verify --url`` with TAKEDOWN_HTTP_PROXY set."""
    takedown = Path(sys.executable).parent / "takedown"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAKEDOWN_")}
    env.update(TAKEDOWN_DATA_DIR=str(tmp_path), TAKEDOWN_HTTP_PROXY=proxy.url, NO_COLOR="1")
    subprocess.run([str(takedown), "db", "upgrade"], env=env, check=True, capture_output=True)
    r = subprocess.run(
        [str(takedown), "verify", "--url", "http://intranet-only.corp/admin", "--format", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proxy.seen == [], r.stdout + r.stderr
    assert "BlockedDestination" in r.stdout, r.stdout + r.stderr
