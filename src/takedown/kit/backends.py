"""The guarded network backends: resolve, check, then connect (directly or via the proxy).

Why here, under httpcore's connection pools: the check must sit right before
``connect()``, on every connection (redirects open new ones), and apply to the
address actually connected to, never to a name someone else resolves later.
The resolver map (testbed) sends chosen names to chosen addresses and skips the
check; an ``.onion`` name is refused here (it goes only to the Tor proxy, which
resolves it: it is never looked up on this machine).
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import typing
from collections.abc import Iterable, Mapping

import httpcore

from takedown.kit.proxy import ProxyConfig, aopen_tunnel, open_tunnel
from takedown.kit.ssrf import (
    BlockedDestination,
    IPNetwork,
    check_address,
    lookup_resolve,
    parse_allow,
)

SOCKET_OPTION = typing.Any


class Guard:
    """Resolution + SSRF policy shared by the sync and async backends."""

    def __init__(self, resolve: Mapping[str, str], allow: Iterable[str]) -> None:
        self.resolve = {k.lower(): v for k, v in resolve.items()}
        nets, names = parse_allow(allow)
        self.allow_nets: list[IPNetwork] = nets
        self.allow_names: set[str] = names

    def mapped(self, host: str, port: int) -> tuple[str, int] | None:
        hit = lookup_resolve(self.resolve, host)
        if hit is None:
            return None
        ip, mport = hit
        return ip, mport if mport is not None else port

    def pick(self, host: str, infos: list[tuple[typing.Any, ...]]) -> str:
        addrs = [str(info[4][0]) for info in infos]
        if not addrs:
            raise BlockedDestination(f"{host}: name did not resolve")
        for a in addrs:  # every answer must be acceptable: no mixed public/private tricks
            check_address(host, a, self.allow_nets, self.allow_names)
        return addrs[0]

    def unresolved(self, host: str, exc: BaseException, *, proxied: bool) -> Exception:
        if proxied:  # the proxy might resolve it, to anything: what we cannot check, we refuse
            return BlockedDestination(
                f"{host}: does not resolve here, so the SSRF guard cannot check it; "
                "the HTTP proxy is only ever given addresses checked here",
                host=host,
            )
        return httpcore.ConnectError(f"cannot resolve {host}: {exc}")

    def checked_sync(self, host: str, port: int, *, proxied: bool) -> str:
        """Resolve ``host`` here and return an address that passed the check."""
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise self.unresolved(host, exc, proxied=proxied) from exc
        return self.pick(host, list(infos))

    async def checked(
        self, host: str, port: int, *, proxied: bool, timeout: float | None = None
    ) -> str:
        loop = asyncio.get_running_loop()
        try:
            infos = await asyncio.wait_for(
                loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), timeout
            )
        except (OSError, TimeoutError) as exc:
            raise self.unresolved(host, exc, proxied=proxied) from exc
        return self.pick(host, list(infos))


def is_onion(host: str) -> bool:
    return host.lower().rstrip(".").endswith(".onion")


class GuardedAsyncBackend(httpcore.AsyncNetworkBackend):
    """Resolve, check, then connect: directly, or through the HTTP proxy by address."""

    def __init__(
        self,
        guard: Guard,
        proxy: ProxyConfig | None = None,
        proxy_ssl: ssl.SSLContext | None = None,
    ) -> None:
        self._guard = guard
        self._proxy = proxy
        self._proxy_ssl = proxy_ssl
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        if is_onion(host):
            raise BlockedDestination(f"{host}: .onion hosts are reached only through the Tor proxy")
        target = self._guard.mapped(host, port)
        if target is None:
            proxied = self._proxy is not None
            ip = await self._guard.checked(host, port, proxied=proxied, timeout=timeout)
            if self._proxy is not None:
                return await aopen_tunnel(
                    self._inner, self._proxy, ip, port, timeout=timeout, proxy_ssl=self._proxy_ssl
                )
            target = (ip, port)
        return await self._inner.connect_tcp(
            target[0], target[1], timeout, local_address, socket_options
        )

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise BlockedDestination("unix sockets are not an outbound destination")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedSyncBackend(httpcore.NetworkBackend):
    def __init__(
        self,
        guard: Guard,
        proxy: ProxyConfig | None = None,
        proxy_ssl: ssl.SSLContext | None = None,
    ) -> None:
        self._guard = guard
        self._proxy = proxy
        self._proxy_ssl = proxy_ssl
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        if is_onion(host):
            raise BlockedDestination(f"{host}: .onion hosts are reached only through the Tor proxy")
        target = self._guard.mapped(host, port)
        if target is None:
            ip = self._guard.checked_sync(host, port, proxied=self._proxy is not None)
            if self._proxy is not None:
                return open_tunnel(
                    self._inner, self._proxy, ip, port, timeout=timeout, proxy_ssl=self._proxy_ssl
                )
            target = (ip, port)
        return self._inner.connect_tcp(target[0], target[1], timeout, local_address, socket_options)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        raise BlockedDestination("unix sockets are not an outbound destination")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)
