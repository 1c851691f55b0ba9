"""A minimal SOCKS5 proxy that plays "Tor" for the testbed.

Why: .onion sites must be reachable only through a SOCKS5 proxy with the
hostname resolved by the proxy (as Tor does), so the client code path used in
production (httpx-socks, rdns) is the one tested. It accepts CONNECT to the
scenario's .onion names only and forwards them to the sim's onion listener.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import Callable

_OK, _NOT_ALLOWED, _HOST_UNREACHABLE, _CMD_UNSUPPORTED, _ATYP_UNSUPPORTED = 0, 2, 4, 7, 8


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


def _reply(code: int) -> bytes:
    return struct.pack("!BBBB4sH", 5, code, 0, 1, b"\0\0\0\0", 0)


async def serve_socks(
    host: str, port: int, allowed: Callable[[str], bool], target: Callable[[], tuple[str, int]]
) -> asyncio.Server:
    """Start the proxy; ``allowed(name)`` decides, ``target()`` is where allowed names go."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            ver, nmethods = await reader.readexactly(2)
            methods = await reader.readexactly(nmethods)
            if ver != 5 or 0 not in methods:
                writer.write(b"\x05\xff")
                return
            writer.write(b"\x05\x00")
            ver, cmd, _, atyp = await reader.readexactly(4)
            if atyp == 3:
                (n,) = await reader.readexactly(1)
                name = (await reader.readexactly(n)).decode("idna").lower()
            elif atyp == 1:
                await reader.readexactly(4)
                name = ""
            elif atyp == 4:
                await reader.readexactly(16)
                name = ""
            else:
                writer.write(_reply(_ATYP_UNSUPPORTED))
                return
            await reader.readexactly(2)  # port: every onion service is served by the sim listener
            if cmd != 1:
                writer.write(_reply(_CMD_UNSUPPORTED))
                return
            if not name:
                writer.write(_reply(_NOT_ALLOWED))
                return
            if not name.endswith(".onion") or not allowed(name):
                writer.write(_reply(_HOST_UNREACHABLE))
                return
            th, tp = target()
            try:
                up_r, up_w = await asyncio.open_connection(th, tp)
            except OSError:
                writer.write(_reply(_HOST_UNREACHABLE))
                return
            writer.write(_reply(_OK))
            await writer.drain()
            await asyncio.gather(_pipe(reader, up_w), _pipe(up_r, writer))
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    return await asyncio.start_server(handle, host, port)
