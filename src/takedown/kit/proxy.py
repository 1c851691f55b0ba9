"""Requests through an HTTP proxy, sent to the address the SSRF guard checked.

Why: a proxy handed a *name* resolves it itself, and the guard's check is then
worth nothing. The proxy may see intranet names our resolver does not
(``http://intranet-only.corp/admin`` went straight through when it did not
resolve here), or get a different answer than ours a moment later (DNS
rebinding between our check and its lookup). So ``kit.http`` resolves and
checks first, refuses a name that does not resolve here, and tells the proxy
only the checked address:

- ``https``: our network backend opens ``CONNECT <ip>:<port>`` through the
  proxy; TLS then runs end to end inside the tunnel, with the original name as
  SNI and for the certificate check (the proxy can neither read nor redirect it).
- ``http``: the request is forwarded in absolute form as
  ``GET http://<ip>:<port>/path`` with the original ``Host`` header.

The proxy itself is the operator's choice and may sit on a private address: it
is connected to directly, not through the guard.
"""

from __future__ import annotations

import base64
import ssl
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import httpcore
import httpx

#: A proxy's answer to CONNECT is a status line and a few headers; more is not an answer.
MAX_CONNECT_REPLY = 16 * 1024


@dataclass(frozen=True)
class ProxyConfig:
    url: str
    scheme: str
    host: str
    port: int
    authorization: str | None = None

    @classmethod
    def parse(cls, url: str) -> ProxyConfig:
        parts = urlsplit(url)
        scheme = (parts.scheme or "").lower()
        if scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                f"HTTP proxy {url!r}: only http:// or https:// proxies are supported "
                "(.onion hosts go through the Tor SOCKS proxy setting)"
            )
        auth = None
        if parts.username is not None:
            raw = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
            auth = "Basic " + base64.b64encode(raw).decode("ascii")
        port = parts.port or (443 if scheme == "https" else 80)
        return cls(url, scheme, parts.hostname, port, auth)


def authority(ip: str, port: int) -> str:
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def connect_request(proxy: ProxyConfig, ip: str, port: int) -> bytes:
    target = authority(ip, port)
    lines = [f"CONNECT {target} HTTP/1.1", f"Host: {target}"]
    if proxy.authorization:
        lines.append(f"Proxy-Authorization: {proxy.authorization}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


def _check_reply(buf: bytes, target: str) -> None:
    head, _, rest = buf.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].startswith("2"):
        raise httpcore.ProxyError(f"the proxy refused CONNECT {target}: {status_line!r}")
    if rest:
        raise httpcore.ProxyError(f"the proxy sent data before the tunnel to {target} was used")


def _proxy_tls(ctx: ssl.SSLContext | None) -> ssl.SSLContext:
    return ctx if ctx is not None else httpx.create_ssl_context()


def open_tunnel(
    inner: httpcore.NetworkBackend,
    proxy: ProxyConfig,
    ip: str,
    port: int,
    *,
    timeout: float | None,
    proxy_ssl: ssl.SSLContext | None = None,
) -> httpcore.NetworkStream:
    """A stream to ``ip:port`` through the proxy (``CONNECT`` by address, never by name)."""
    target = authority(ip, port)
    stream = inner.connect_tcp(proxy.host, proxy.port, timeout)
    try:
        if proxy.scheme == "https":
            stream = stream.start_tls(_proxy_tls(proxy_ssl), proxy.host, timeout)
        stream.write(connect_request(proxy, ip, port), timeout)
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = stream.read(4096, timeout)
            if not chunk:
                raise httpcore.ProxyError(f"the proxy closed the connection on CONNECT {target}")
            buf += chunk
            if len(buf) > MAX_CONNECT_REPLY:
                raise httpcore.ProxyError(f"the proxy's answer to CONNECT {target} is too long")
        _check_reply(buf, target)
    except BaseException:
        stream.close()
        raise
    return stream


async def aopen_tunnel(
    inner: httpcore.AsyncNetworkBackend,
    proxy: ProxyConfig,
    ip: str,
    port: int,
    *,
    timeout: float | None,
    proxy_ssl: ssl.SSLContext | None = None,
) -> httpcore.AsyncNetworkStream:
    """Async twin of :func:`open_tunnel`."""
    target = authority(ip, port)
    stream = await inner.connect_tcp(proxy.host, proxy.port, timeout)
    try:
        if proxy.scheme == "https":
            stream = await stream.start_tls(_proxy_tls(proxy_ssl), proxy.host, timeout)
        await stream.write(connect_request(proxy, ip, port), timeout)
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = await stream.read(4096, timeout)
            if not chunk:
                raise httpcore.ProxyError(f"the proxy closed the connection on CONNECT {target}")
            buf += chunk
            if len(buf) > MAX_CONNECT_REPLY:
                raise httpcore.ProxyError(f"the proxy's answer to CONNECT {target} is too long")
        _check_reply(buf, target)
    except BaseException:
        await stream.aclose()
        raise
    return stream


def pinned(request: httpx.Request, ip: str) -> httpx.Request:
    """The same request addressed to the checked IP; ``Host`` keeps the original name."""
    headers = request.headers.copy()
    if "host" not in headers:
        headers["Host"] = request.url.netloc.decode("ascii")
    return httpx.Request(
        request.method,
        request.url.copy_with(host=ip),
        headers=headers,
        stream=request.stream,
        extensions=request.extensions,
    )
