"""A tiny hostile web server on loopback, for the bad-input tests.

It is reached as ``hostile.test`` through the resolver map (an explicit
operator choice, like the testbed); its raw ``127.0.0.1`` address stays
refused by the SSRF guard, which is what the private-address case checks.
"""

from __future__ import annotations

import functools
import gzip
import io
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from PIL import Image

HOST = "hostile.test"


@functools.cache
def bomb_bytes() -> bytes:
    return gzip.compress(b"\0" * (64 * 1024 * 1024), compresslevel=6)


def png_bytes(colour: tuple[int, int, int] = (200, 30, 30), size: int = 64) -> bytes:
    img = Image.new("RGB", (size, size), colour)
    for x in range(size):
        img.putpixel((x, x), (255, 255, 255))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


PAGE = b"""<!doctype html><html><head><title>Synthetic outlet page</title>
<style>body { color: red }</style><script>document.write("SCRIPT-TEXT-MUST-NOT-APPEAR")</script>
</head><body><h1>Synthetic statement 42</h1><p>Invented text for tests, no real content.</p>
<img src="/img.png"><video poster="/missing.jpg"></video>
<noscript>NOSCRIPT-HIDDEN</noscript></body></html>"""


#: (Host header, path) of every request served: lets tests prove what was never asked for.
REQUESTS: list[tuple[str, str]] = []


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "hostile/1.0"

    def log_message(self, format: str, *args: object) -> None:
        return

    def _send(
        self, status: int, body: bytes, ctype: str, extra: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        port = self.server.server_address[1]
        path = self.path.split("?", 1)[0]
        REQUESTS.append((self.headers.get("Host", ""), path))
        if path == "/page":
            body = gzip.compress(PAGE)
            self._send(200, body, "text/html; charset=utf-8", {"Content-Encoding": "gzip"})
        elif path == "/img.png":
            self._send(200, png_bytes(), "image/png")
        elif path == "/redirect":
            self._send(302, b"", "text/plain", {"Location": "/page"})
        elif path == "/loop":
            n = int(self.path.partition("n=")[2] or 0)
            self._send(302, b"", "text/plain", {"Location": f"/loop?n={n + 1}"})
        elif path == "/huge":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()  # no length: streams until the client gives up
            chunk = b"<p>" + b"A" * 65536 + b"</p>"
            try:
                for _ in range(400):
                    self.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.close_connection = True
        elif path == "/huge-declared":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(10**10))
            self.end_headers()
            self.wfile.write(b"x" * 10)
            self.close_connection = True
        elif path == "/slow":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            try:
                for _ in range(200):
                    self.wfile.write(b"<")
                    self.wfile.flush()
                    time.sleep(0.2)
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.close_connection = True
        elif path == "/bomb":
            body = bomb_bytes()
            self._send(200, body, "text/html", {"Content-Encoding": "gzip"})
        elif path == "/wrongtype":
            self._send(200, PAGE, "image/png")
        elif path == "/disguised":
            self._send(200, b"\x7fELF\x02\x01\x01" + bytes(range(256)) * 8, "text/html")
        elif path == "/to-private":
            self._send(302, b"", "text/plain", {"Location": f"http://127.0.0.1:{port}/page"})
        elif path == "/leaky":
            body = (
                f'<html><body><p>Synthetic page</p><img src="http://127.0.0.1:{port}/secret.png">'
                f'<img src="/img.png"></body></html>'
            ).encode()
            self._send(200, body, "text/html")
        elif path == "/secret.png":
            self._send(200, png_bytes((0, 0, 255)), "image/png")
        elif path == "/viewer":
            body = (
                b"<html><head><style>h1{color:red;background:url(/bg.png)}</style>"
                b'<link rel="preconnect" href="http://hostile.test/"></head><body>'
                b"<h1>Synthetic viewer page</h1>"
                b'<img id="held" src="/img.png"><img id="moved" src="/img-moved">'
                b'<img id="gone" src="/no-such.png"><iframe src="http://hostile.test/frame"></iframe>'
                b'<a href="http://hostile.test/out" ping="/ping">a link</a></body></html>'
            )
            self._send(200, body, "text/html")
        elif path == "/img-moved":
            self._send(302, b"", "text/plain", {"Location": "/img.png"})
        elif path == "/gone":
            self._send(404, b"<html><body>This post was removed.</body></html>", "text/html")
        else:
            self._send(404, b"not here", "text/plain")


@contextmanager
def hostile_server() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        bomb_bytes()
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
