"""The guarded outbound HTTP client. Every capability that fetches a URL uses it.

Why: the platform fetches URLs that analysts and partners hand it, so an
attacker could point it at internal services. Every connection therefore goes
through a network backend that resolves the name, refuses non-public
addresses (``kit.ssrf``) and only then connects; redirects open new
connections and are checked the same way. The testbed's resolver map sends
chosen hostnames to loopback while the URL, Host header and TLS SNI keep the
original name, so connectors run unchanged against ``takedown.sim``.
``.onion`` hosts go only through the Tor SOCKS5 proxy, with the hostname
resolved by the proxy (never here). Through an HTTP proxy, names are resolved
and checked here and the proxy is told only the checked address
(``kit.proxy``); a name that does not resolve here is refused, never left to
the proxy to resolve.

Pure parameters, no settings: the composition root maps ``Settings`` to
``make_client(...)`` arguments.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
import typing
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping

import httpcore
import httpx
from httpx._transports.default import (  # httpx has no public mapper; httpx-socks uses it too
    AsyncResponseStream,
    ResponseStream,
    map_httpcore_exceptions,
)

from takedown.kit.backends import Guard, GuardedAsyncBackend, GuardedSyncBackend, is_onion
from takedown.kit.errors import PayloadTooLarge
from takedown.kit.host_budget import HostBudget, take_slot, take_slot_async
from takedown.kit.proxy import ProxyConfig, pinned
from takedown.kit.ssrf import BlockedDestination, parse_resolve

__all__ = [
    "DEFAULT_USER_AGENT",
    "BlockedDestination",
    "GuardedAsyncTransport",
    "GuardedTransport",
    "fetch_limited",
    "make_client",
    "make_sync_client",
    "parse_resolve",
    "read_limited",
    "read_limited_sync",
]

DEFAULT_USER_AGENT = "takedown/0.1 (+https://takedown.invalid/bot)"


def _ssl_context(verify: str | bool | ssl.SSLContext) -> ssl.SSLContext:
    if isinstance(verify, ssl.SSLContext):
        return verify
    if isinstance(verify, str):
        return ssl.create_default_context(cafile=verify)
    return httpx.create_ssl_context(verify=verify)


def _core_request(request: httpx.Request) -> httpcore.Request:
    return httpcore.Request(
        method=request.method,
        url=httpcore.URL(
            scheme=request.url.raw_scheme,
            host=request.url.raw_host,
            port=request.url.port,
            target=request.url.raw_path,
        ),
        headers=request.headers.raw,
        content=typing.cast(typing.Any, request.stream),
        extensions=request.extensions,
    )


class _ReleasingAsyncStream(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream, release: typing.Callable[[], None]) -> None:
        self._inner = inner
        self._release: typing.Callable[[], None] | None = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            if self._release is not None:
                self._release()
                self._release = None


class GuardedAsyncTransport(httpx.AsyncBaseTransport):
    """Direct connections through the guard; HTTP proxy and Tor when configured.

    A per-host semaphore bounds concurrent requests to one host; it is held
    until the response body is closed.
    """

    def __init__(
        self,
        *,
        resolve: Mapping[str, str] | None = None,
        ssrf_allow: Iterable[str] = (),
        proxy: str | None = None,
        tor_proxy: str | None = None,
        verify: str | bool | ssl.SSLContext = True,
        http2: bool = True,
        per_host_limit: int = 8,
        max_connections: int = 100,
        host_budget: HostBudget | None = None,
    ) -> None:
        self._guard = Guard(resolve or {}, ssrf_allow)
        self._budget = host_budget
        ctx = _ssl_context(verify)
        proxy_cfg = ProxyConfig.parse(proxy) if proxy else None
        self._direct = httpcore.AsyncConnectionPool(
            ssl_context=ctx,
            max_connections=max_connections,
            # Keep every connection alive: a checker holding many per host would otherwise
            # pay a TLS handshake on almost every request.
            max_keepalive_connections=max_connections,
            http1=True,
            http2=http2,
            network_backend=GuardedAsyncBackend(self._guard, proxy_cfg, ctx),
        )
        self._proxy: httpx.AsyncBaseTransport | None = (
            httpx.AsyncHTTPTransport(proxy=proxy, verify=ctx, http2=http2) if proxy else None
        )
        self._tor: httpx.AsyncBaseTransport | None = None
        if tor_proxy:
            from httpx_socks import AsyncProxyTransport

            self._tor = AsyncProxyTransport.from_url(tor_proxy, rdns=True, verify=ctx)
        self._per_host_limit = per_host_limit
        self._sems: dict[str, asyncio.Semaphore] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host.lower()
        port = request.url.port or (443 if request.url.scheme == "https" else 80)
        sem = self._sems.get(host)
        if sem is None:
            sem = self._sems[host] = asyncio.Semaphore(self._per_host_limit)
        await sem.acquire()
        try:
            if self._budget is not None:  # the deployment-wide budget (kit.host_budget)
                await take_slot_async(self._budget, host)  # booked again if woken late
            if is_onion(host):
                if self._tor is None:
                    raise BlockedDestination(f"{host}: no Tor proxy configured for .onion hosts")
                resp = await self._tor.handle_async_request(request)
            elif (
                self._proxy is not None
                and request.url.scheme == "http"
                and self._guard.mapped(host, port) is None
            ):
                # Plain HTTP is forwarded by the proxy: address it to the checked IP. (HTTPS
                # goes through the pool below, whose backend tunnels to the checked IP.)
                ip = await self._guard.checked(host, port, proxied=True)
                resp = await self._proxy.handle_async_request(pinned(request, ip))
            else:
                with map_httpcore_exceptions():
                    core = await self._direct.handle_async_request(_core_request(request))
                resp = httpx.Response(
                    status_code=core.status,
                    headers=core.headers,
                    stream=AsyncResponseStream(typing.cast(typing.Any, core.stream)),
                    extensions=core.extensions,
                )
        except BaseException:
            sem.release()
            raise
        assert isinstance(resp.stream, httpx.AsyncByteStream)
        resp.stream = _ReleasingAsyncStream(resp.stream, sem.release)
        return resp

    async def aclose(self) -> None:
        await self._direct.aclose()
        if self._proxy is not None:
            await self._proxy.aclose()
        if self._tor is not None:
            await self._tor.aclose()


class _ReleasingSyncStream(httpx.SyncByteStream):
    def __init__(self, inner: httpx.SyncByteStream, release: typing.Callable[[], None]) -> None:
        self._inner = inner
        self._release: typing.Callable[[], None] | None = release

    def __iter__(self) -> Iterator[bytes]:
        yield from self._inner

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            if self._release is not None:
                self._release()
                self._release = None


class GuardedTransport(httpx.BaseTransport):
    """Synchronous twin of ``GuardedAsyncTransport`` (CLI tools, scripts)."""

    def __init__(
        self,
        *,
        resolve: Mapping[str, str] | None = None,
        ssrf_allow: Iterable[str] = (),
        proxy: str | None = None,
        tor_proxy: str | None = None,
        verify: str | bool | ssl.SSLContext = True,
        http2: bool = True,
        per_host_limit: int = 8,
        max_connections: int = 100,
        host_budget: HostBudget | None = None,
    ) -> None:
        self._guard = Guard(resolve or {}, ssrf_allow)
        self._budget = host_budget
        ctx = _ssl_context(verify)
        proxy_cfg = ProxyConfig.parse(proxy) if proxy else None
        self._direct = httpcore.ConnectionPool(
            ssl_context=ctx,
            max_connections=max_connections,
            http1=True,
            http2=http2,
            network_backend=GuardedSyncBackend(self._guard, proxy_cfg, ctx),
        )
        self._proxy: httpx.BaseTransport | None = (
            httpx.HTTPTransport(proxy=proxy, verify=ctx, http2=http2) if proxy else None
        )
        self._tor: httpx.BaseTransport | None = None
        if tor_proxy:
            from httpx_socks import SyncProxyTransport

            self._tor = SyncProxyTransport.from_url(tor_proxy, rdns=True, verify=ctx)
        self._per_host_limit = per_host_limit
        self._sems: dict[str, threading.Semaphore] = {}
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host.lower()
        port = request.url.port or (443 if request.url.scheme == "https" else 80)
        with self._lock:
            sem = self._sems.setdefault(host, threading.Semaphore(self._per_host_limit))
        sem.acquire()
        try:
            if self._budget is not None:
                take_slot(self._budget, host)
            if is_onion(host):
                if self._tor is None:
                    raise BlockedDestination(f"{host}: no Tor proxy configured for .onion hosts")
                resp = self._tor.handle_request(request)
            elif (
                self._proxy is not None
                and request.url.scheme == "http"
                and self._guard.mapped(host, port) is None
            ):
                ip = self._guard.checked_sync(host, port, proxied=True)
                resp = self._proxy.handle_request(pinned(request, ip))
            else:
                with map_httpcore_exceptions():
                    core = self._direct.handle_request(_core_request(request))
                resp = httpx.Response(
                    status_code=core.status,
                    headers=core.headers,
                    stream=ResponseStream(typing.cast(typing.Any, core.stream)),
                    extensions=core.extensions,
                )
        except BaseException:
            sem.release()
            raise
        assert isinstance(resp.stream, httpx.SyncByteStream)
        resp.stream = _ReleasingSyncStream(resp.stream, sem.release)
        return resp

    def close(self) -> None:
        self._direct.close()
        if self._proxy is not None:
            self._proxy.close()
        if self._tor is not None:
            self._tor.close()


def make_client(
    *,
    resolve: Mapping[str, str] | None = None,
    ssrf_allow: Iterable[str] = (),
    proxy: str | None = None,
    tor_proxy: str | None = None,
    timeout: float = 20.0,
    connect_timeout: float | None = 10.0,
    per_host_limit: int = 8,
    max_connections: int = 100,
    verify: str | bool | ssl.SSLContext = True,
    http2: bool = True,
    follow_redirects: bool = True,
    max_redirects: int = 10,
    user_agent: str = DEFAULT_USER_AGENT,
    headers: Mapping[str, str] | None = None,
    host_budget: HostBudget | None = None,
) -> httpx.AsyncClient:
    """Build the guarded ``httpx.AsyncClient``.

    ``resolve`` maps hostnames (``*.`` wildcards allowed) to ``ip[:port]``;
    mapped hosts skip the SSRF check because the operator chose them.
    ``ssrf_allow`` lists CIDRs, IPs or hostnames that may be private.
    ``verify`` is True, False, a CA bundle path (the testbed's CA) or an SSLContext.
    ``host_budget`` is the deployment-wide per-host rate (``kit.host_budget``), consulted
    before every request on top of this client's own per-host concurrency bound.
    """
    transport = GuardedAsyncTransport(
        resolve=resolve,
        ssrf_allow=ssrf_allow,
        proxy=proxy,
        tor_proxy=tor_proxy,
        verify=verify,
        http2=http2,
        per_host_limit=per_host_limit,
        max_connections=max_connections,
        host_budget=host_budget,
    )
    hdrs = {"User-Agent": user_agent, **(headers or {})}
    return httpx.AsyncClient(
        transport=transport,
        timeout=httpx.Timeout(timeout, connect=connect_timeout),
        follow_redirects=follow_redirects,
        max_redirects=max_redirects,
        headers=hdrs,
        trust_env=False,
    )


def make_sync_client(
    *,
    resolve: Mapping[str, str] | None = None,
    ssrf_allow: Iterable[str] = (),
    proxy: str | None = None,
    tor_proxy: str | None = None,
    timeout: float = 20.0,
    connect_timeout: float | None = 10.0,
    per_host_limit: int = 8,
    max_connections: int = 100,
    verify: str | bool | ssl.SSLContext = True,
    http2: bool = True,
    follow_redirects: bool = True,
    max_redirects: int = 10,
    user_agent: str = DEFAULT_USER_AGENT,
    headers: Mapping[str, str] | None = None,
    host_budget: HostBudget | None = None,
) -> httpx.Client:
    """Synchronous twin of :func:`make_client`."""
    transport = GuardedTransport(
        resolve=resolve,
        ssrf_allow=ssrf_allow,
        proxy=proxy,
        tor_proxy=tor_proxy,
        verify=verify,
        http2=http2,
        per_host_limit=per_host_limit,
        max_connections=max_connections,
        host_budget=host_budget,
    )
    hdrs = {"User-Agent": user_agent, **(headers or {})}
    return httpx.Client(
        transport=transport,
        timeout=httpx.Timeout(timeout, connect=connect_timeout),
        follow_redirects=follow_redirects,
        max_redirects=max_redirects,
        headers=hdrs,
        trust_env=False,
    )


def _too_large(url: httpx.URL, max_bytes: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"{url}: response larger than {max_bytes} bytes", max_bytes=max_bytes)


async def read_limited(response: httpx.Response, max_bytes: int) -> bytes:
    """Read a streamed response body, refusing more than ``max_bytes``."""
    declared = response.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        await response.aclose()
        raise _too_large(response.request.url, max_bytes)
    buf = bytearray()
    async for chunk in response.aiter_bytes():
        buf += chunk
        if len(buf) > max_bytes:
            await response.aclose()
            raise _too_large(response.request.url, max_bytes)
    return bytes(buf)


def read_limited_sync(response: httpx.Response, max_bytes: int) -> bytes:
    declared = response.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        response.close()
        raise _too_large(response.request.url, max_bytes)
    buf = bytearray()
    for chunk in response.iter_bytes():
        buf += chunk
        if len(buf) > max_bytes:
            response.close()
            raise _too_large(response.request.url, max_bytes)
    return bytes(buf)


async def fetch_limited(
    client: httpx.AsyncClient,
    url: str,
    *,
    max_bytes: int = 50 * 1024 * 1024,
    method: str = "GET",
    **kwargs: typing.Any,
) -> tuple[httpx.Response, bytes]:
    """Request ``url`` and return the response with its body read up to ``max_bytes``."""
    request = client.build_request(method, url, **kwargs)
    response = await client.send(request, stream=True)
    try:
        body = await read_limited(response, max_bytes)
    finally:
        await response.aclose()
    return response, body
