"""One HTTP exchange at a time, recorded byte for byte, with every limit enforced.

Why not ``client.get(follow_redirects=True)``: evidence needs each hop of a
redirect chain as its own request/response pair, the body as it came off the
wire (still gzip-encoded) for the WARC, and the decoded body for text and
media, each decoded under a size cap so a gzip bomb stops at the cap instead
of filling memory. The total deadline per page lives in the engine; here
httpx's per-read timeouts apply.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ssl
import zlib
from dataclasses import dataclass, field
from typing import Any

import httpx

from takedown.kit.errors import TakedownError

ACCEPT_ENCODING = "gzip, deflate"


class CaptureFailed(TakedownError):
    """A capture could not be completed; ``code`` names the failure for reports."""

    status = 422
    title = "Capture failed"
    type_slug = "capture-failed"

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail, code=code)
        self.code = code


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int = 20 * 1024 * 1024  # on the wire, per response
    max_decoded_bytes: int = 40 * 1024 * 1024  # after Content-Encoding, per response
    max_redirects: int = 10
    page_deadline: float = 60.0  # seconds for the whole capture of one page, media included
    read_timeout: float = 15.0
    max_media: int = 20
    max_media_bytes: int = 50 * 1024 * 1024


@dataclass
class Exchange:
    """One request and its response, as sent and as received."""

    url: str
    method: str
    request_headers: list[tuple[str, str]]
    started_at: dt.datetime
    http_version: str = "HTTP/1.1"
    status: int = 0
    reason: str = ""
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    raw_body: bytes = b""
    body: bytes = b""
    decoded: bool = True
    peer_address: str | None = None
    tls: dict[str, Any] | None = None

    @property
    def content_type(self) -> str:
        for k, v in self.response_headers:
            if k.lower() == "content-type":
                return v
        return ""

    def header(self, name: str) -> str | None:
        for k, v in self.response_headers:
            if k.lower() == name.lower():
                return v
        return None


def _inflate(data: bytes, wbits: int, limit: int, url: str) -> bytes:
    d = zlib.decompressobj(wbits)
    out = bytearray()
    buf = data
    try:
        while buf:
            out += d.decompress(buf, limit + 1 - len(out))
            if len(out) > limit:
                raise CaptureFailed(
                    "decompression_bomb",
                    f"{url}: body expands past {limit} bytes when decompressed "
                    f"({len(data)} bytes on the wire): refused as a decompression bomb",
                )
            buf = d.unconsumed_tail
            if d.eof:
                break
        out += d.flush()
    except zlib.error as exc:
        raise CaptureFailed("bad_encoding", f"{url}: corrupt compressed body ({exc})") from exc
    if len(out) > limit:
        raise CaptureFailed("decompression_bomb", f"{url}: decompressed body exceeds {limit} bytes")
    return bytes(out)


def decode_body(raw: bytes, encoding: str | None, limit: int, url: str) -> tuple[bytes, bool]:
    """Undo Content-Encoding under ``limit``; (body, decoded?) — unknown codings stay raw."""
    codings = [c.strip().lower() for c in (encoding or "").split(",") if c.strip()]
    body = raw
    for coding in reversed(codings):
        if coding in ("identity", ""):
            continue
        if coding in ("gzip", "x-gzip"):
            body = _inflate(body, 16 + zlib.MAX_WBITS, limit, url)
        elif coding == "deflate":
            try:
                body = _inflate(body, zlib.MAX_WBITS, limit, url)
            except CaptureFailed as exc:
                if exc.code != "bad_encoding":
                    raise
                body = _inflate(body, -zlib.MAX_WBITS, limit, url)
        else:
            return raw, False
    if len(body) > limit:
        raise CaptureFailed("too_large", f"{url}: body larger than {limit} bytes")
    return body, True


def tls_facts(ssl_object: Any) -> dict[str, Any] | None:
    """The server certificate as PEM plus readable fields, from the live TLS connection."""
    if ssl_object is None:
        return None
    facts: dict[str, Any] = {}
    try:
        der = ssl_object.getpeercert(binary_form=True)
    except (ValueError, ssl.SSLError):
        der = None
    if der:
        facts["pem"] = ssl.DER_cert_to_PEM_cert(der)
        facts["sha256_fingerprint"] = hashlib.sha256(der).hexdigest()
    try:
        parsed = ssl_object.getpeercert() or {}
    except (ValueError, ssl.SSLError):
        parsed = {}
    for key in ("subject", "issuer", "notBefore", "notAfter", "serialNumber", "subjectAltName"):
        if key in parsed:
            facts[key] = parsed[key]
    try:
        facts["tls_version"] = ssl_object.version()
        cipher = ssl_object.cipher()
        facts["cipher"] = cipher[0] if cipher else None
    except (AttributeError, ValueError):
        pass
    return facts or None


async def fetch_exchange(
    client: httpx.AsyncClient,
    url: str,
    limits: Limits,
    *,
    max_body: int | None = None,
    now: dt.datetime,
    connection_facts: bool = True,
) -> Exchange:
    """GET ``url`` once (no redirect following) and record the exchange."""
    cap = max_body or limits.max_body_bytes
    request = client.build_request(
        "GET", url, headers={"Accept-Encoding": ACCEPT_ENCODING}, timeout=limits.read_timeout
    )
    ex = Exchange(
        url=str(request.url),
        method="GET",
        request_headers=[
            (k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw
        ],
        started_at=now,
    )
    response = await client.send(request, stream=True, follow_redirects=False)
    try:
        ex.status = response.status_code
        ex.reason = response.reason_phrase
        ex.http_version = response.http_version or "HTTP/1.1"
        ex.response_headers = [
            (k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers.raw
        ]
        stream = response.extensions.get("network_stream") if connection_facts else None
        if stream is not None:
            ex.tls = tls_facts(stream.get_extra_info("ssl_object"))
            peer = stream.get_extra_info("server_addr")
            if isinstance(peer, tuple) and peer:
                ex.peer_address = str(peer[0])
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            raise CaptureFailed(
                "too_large", f"{ex.url}: declared body of {declared} bytes exceeds the {cap} limit"
            )
        buf = bytearray()
        async for chunk in response.aiter_raw():
            buf += chunk
            if len(buf) > cap:
                raise CaptureFailed("too_large", f"{ex.url}: body exceeds the {cap} byte limit")
        ex.raw_body = bytes(buf)
    finally:
        await response.aclose()
    ex.body, ex.decoded = decode_body(
        ex.raw_body, response.headers.get("content-encoding"), limits.max_decoded_bytes, ex.url
    )
    return ex
