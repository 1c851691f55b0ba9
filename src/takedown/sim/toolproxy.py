"""A CONNECT-only proxy to the testbed's port, for tools that cannot use a resolver map.

wget and LinkChecker resolve hostnames themselves; pointed at this proxy, every
CONNECT (whatever the host) reaches the simulator, which picks the platform by the
TLS server name and Host header, as with ``TAKEDOWN_RESOLVE``. Benchmarks use it to
run peer tools against the same pages.
"""

from __future__ import annotations

import asyncio
import threading


class ConnectProxy:
    """CONNECT-only proxy to the testbed's port (what a resolver map does, for wget)."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._writers: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        self._ready.wait(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", 0, backlog=1024)
        )
        self._server = server
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _handle(self, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        try:
            head = await r.readuntil(b"\r\n\r\n")
            if not head.startswith(b"CONNECT "):
                w.close()
                return
            ur, uw = await asyncio.open_connection("127.0.0.1", self.target_port)
            self._writers.update((w, uw))
            w.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await w.drain()

            async def pipe(a: asyncio.StreamReader, b: asyncio.StreamWriter) -> None:
                try:
                    while data := await a.read(65536):
                        b.write(data)
                        await b.drain()
                except (ConnectionError, asyncio.IncompleteReadError):
                    pass
                finally:
                    b.close()

            await asyncio.gather(pipe(r, uw), pipe(ur, w))
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            w.close()

    def close(self) -> None:
        """Close the listening socket and every open tunnel, then stop the loop."""

        async def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            for w in list(self._writers):
                w.close()
            self._writers.clear()

        if self._loop.is_running():
            asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
        self._loop.close()
