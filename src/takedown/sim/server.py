"""A small, fast HTTP/1.1 server for the testbed (asyncio + httptools).

Why not uvicorn/starlette: the simulator must serve thousands of requests a
second on two cores while also injecting faults a framework hides (a dropped
connection, a response held back for seconds). Handlers here are plain
synchronous functions from ``Request`` to ``Response``; a response may carry
a delay or ask for the connection to be dropped. One port speaks both plain
HTTP and TLS: the first byte of a connection decides, and TLS connections
are piped to an internal TLS listener.
"""

from __future__ import annotations

import asyncio
import collections
import ssl
import typing
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any

import httptools

REASONS = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    204: "No Content",
    301: "Moved Permanently",
    302: "Found",
    303: "See Other",
    304: "Not Modified",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    410: "Gone",
    413: "Payload Too Large",
    421: "Misdirected Request",
    429: "Too Many Requests",
    451: "Unavailable For Legal Reasons",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass(slots=True)
class Request:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes
    listener: str = "platform"  # platform | onion | control
    _split: tuple[str, dict[str, str]] | None = None

    @property
    def host(self) -> str:
        h = self.headers.get("host", "")
        if h.startswith("["):
            return h.split("]")[0][1:].lower()
        return h.rsplit(":", 1)[0].lower() if ":" in h else h.lower()

    def _parts(self) -> tuple[str, dict[str, str]]:
        if self._split is None:
            path, _, q = self.target.partition("?")
            self._split = (
                urllib.parse.unquote(path) or "/",
                dict(urllib.parse.parse_qsl(q, keep_blank_values=True)),
            )
        return self._split

    @property
    def path(self) -> str:
        return self._parts()[0]

    @property
    def query(self) -> dict[str, str]:
        return self._parts()[1]


@dataclass(slots=True)
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)
    delay: float = 0.0  # seconds to hold the response back
    drop: bool = False  # abort the connection instead of answering

    def encode(self, keep_alive: bool, head: bool = False) -> bytes:
        lines = [
            f"HTTP/1.1 {self.status} {REASONS.get(self.status, 'Unknown')}",
            f"Content-Length: {len(self.body)}",
            f"Date: {_date()}",
            "Server: takedown-sim",
        ]
        if self.body or self.status not in (204, 304):
            lines.append(f"Content-Type: {self.content_type}")
        lines.extend(f"{k}: {v}" for k, v in self.headers)
        if not keep_alive:
            lines.append("Connection: close")
        head_bytes = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        return head_bytes if head else head_bytes + self.body


_date_cache: list[Any] = [0.0, ""]


def _date() -> str:
    loop_t = asyncio.get_running_loop().time() if _has_loop() else 0.0
    if loop_t - _date_cache[0] > 1.0 or not _date_cache[1]:
        _date_cache[0], _date_cache[1] = loop_t, formatdate(usegmt=True)
    return str(_date_cache[1])


def _has_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


Handler = Callable[[Request], Response]


class HttpProtocol(asyncio.Protocol):
    """One HTTP/1.1 connection; pipelined requests are answered in order."""

    def __init__(self, handler: Handler, listener: str) -> None:
        self.handler = handler
        self.listener = listener
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.queue: collections.deque[list[Any]] = collections.deque()
        self._url = b""
        self._headers: dict[str, str] = {}
        self._body: list[bytes] = []
        self._hname = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = typing.cast(asyncio.Transport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._reply_now(Response(400, b"upgrade not supported"), False)
        except httptools.HttpParserError:
            self._reply_now(Response(400, b"bad request", "text/plain"), False)

    # httptools callbacks
    def on_message_begin(self) -> None:
        self._url, self._headers, self._body = b"", {}, []

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        method = self.parser.get_method().decode("ascii")
        req = Request(
            method, self._url.decode("latin-1"), self._headers, b"".join(self._body), self.listener
        )
        keep_alive = self.parser.should_keep_alive()
        try:
            resp = self.handler(req)
        except Exception as exc:  # a handler bug must not kill the connection silently
            resp = Response(500, f"sim handler error: {exc!r}".encode(), "text/plain")
        slot: list[Any] = [None, keep_alive, method == "HEAD"]
        self.queue.append(slot)
        if resp.delay > 0:
            asyncio.get_running_loop().call_later(resp.delay, self._fill, slot, resp)
        else:
            self._fill(slot, resp)

    def _fill(self, slot: list[Any], resp: Response) -> None:
        slot[0] = resp
        while self.queue and self.queue[0][0] is not None and self.transport is not None:
            r, keep, head = self.queue.popleft()
            if r.drop:
                self.transport.abort()
                return
            self.transport.write(r.encode(keep, head))
            if not keep:
                self.transport.close()
                return

    def _reply_now(self, resp: Response, keep: bool) -> None:
        if self.transport is not None:
            self.transport.write(resp.encode(keep))
            self.transport.close()


class _Pipe(asyncio.Protocol):
    """Forwards bytes received to ``peer``."""

    def __init__(self, peer: asyncio.Transport | None = None) -> None:
        self.peer = peer
        self.transport: asyncio.Transport | None = None
        self.pending: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = typing.cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if self.peer is not None:
            self.peer.write(data)
        else:
            self.pending.append(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.peer is not None:
            self.peer.close()


class SniffProtocol(asyncio.Protocol):
    """Decides from the first byte: plain HTTP is served here, TLS is piped to ``tls_port``."""

    def __init__(self, handler: Handler, listener: str, tls_port: int | None) -> None:
        self.handler = handler
        self.listener = listener
        self.tls_port = tls_port
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = typing.cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        if data[:1] == b"\x16" and self.tls_port is not None:
            inbound = _Pipe()
            self.transport.set_protocol(inbound)
            inbound.transport = self.transport
            inbound.pending.append(data)
            self.transport.pause_reading()
            asyncio.get_running_loop().create_task(self._connect_tls(inbound))
            return
        proto = HttpProtocol(self.handler, self.listener)
        self.transport.set_protocol(proto)
        proto.connection_made(self.transport)
        proto.data_received(data)

    async def _connect_tls(self, inbound: _Pipe) -> None:
        assert inbound.transport is not None and self.tls_port is not None
        client = inbound.transport
        loop = asyncio.get_running_loop()
        try:
            out_t, _ = await loop.create_connection(
                lambda: _Pipe(client), "127.0.0.1", self.tls_port
            )
        except OSError:
            client.abort()
            return
        inbound.peer = out_t
        for chunk in inbound.pending:
            out_t.write(chunk)
        inbound.pending.clear()
        client.resume_reading()


async def serve(
    handler: Handler,
    host: str,
    port: int,
    listener: str,
    ssl_context: ssl.SSLContext | None = None,
) -> list[asyncio.Server]:
    """Start a listener; with ``ssl_context``, also an internal TLS listener behind the sniffer."""
    loop = asyncio.get_running_loop()
    servers: list[asyncio.Server] = []
    tls_port: int | None = None
    if ssl_context is not None:
        tls = await loop.create_server(
            lambda: HttpProtocol(handler, listener), "127.0.0.1", 0, ssl=ssl_context, backlog=1024
        )
        tls_port = tls.sockets[0].getsockname()[1]
        servers.append(tls)
    main = await loop.create_server(
        lambda: SniffProtocol(handler, listener, tls_port),
        host,
        port,
        backlog=2048,
        reuse_address=True,
    )
    servers.insert(0, main)
    return servers
