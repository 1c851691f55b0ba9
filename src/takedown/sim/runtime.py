"""Start and stop every listener of one simulator on the current event loop.

Listeners: the platform port (plain HTTP and TLS on one port), the onion
listener (reachable only through the SOCKS5 proxy), the SOCKS5 proxy, the
SMTP inbox and the control API.
"""

from __future__ import annotations

import asyncio
import ssl
import tempfile
from pathlib import Path
from typing import Any

from takedown.kit.ssrf import format_resolve
from takedown.sim import control
from takedown.sim.app import SimApp, SmtpHandler, authority_email
from takedown.sim.clock import SimClock
from takedown.sim.scenario import Scenario
from takedown.sim.server import serve
from takedown.sim.socks import serve_socks
from takedown.sim.world import World


class Sim:
    def __init__(
        self,
        scenario: Scenario,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        control_port: int = 0,
        socks_port: int = 0,
        smtp_port: int = 0,
        tls: bool = True,
        inject: bool = True,
        speed: float | None = None,
        ca_dir: str | Path | None = None,
        world: World | None = None,
    ) -> None:
        self.world = world or World(scenario)
        self.scenario = self.world.sc
        self.clock = SimClock(scenario.start, scenario.speed if speed is None else speed)
        self.app = SimApp(self.world, self.clock, inject=inject)
        self.host = host
        self.port, self.control_port, self.socks_port, self.smtp_port = (
            port,
            control_port,
            socks_port,
            smtp_port,
        )
        self.onion_port = 0
        self.tls = tls
        self.ca_path: str | None = None
        self._ca_dir = ca_dir
        self._servers: list[asyncio.Server] = []

    def _tls_context(self) -> ssl.SSLContext:
        import trustme

        ca = trustme.CA(organization_name="takedown sim test CA")
        names = sorted(self.world.hosts) + sorted("www." + h for h in self.world.site_by_host)
        cert = ca.issue_cert(*names)
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.set_alpn_protocols(["http/1.1"])
        cert.configure_cert(ctx)
        d = Path(self._ca_dir) if self._ca_dir else Path(tempfile.mkdtemp(prefix="takedown-sim-"))
        d.mkdir(parents=True, exist_ok=True)
        path = d / "sim-ca.pem"
        ca.cert_pem.write_to_path(str(path))
        self.ca_path = str(path)
        return ctx

    async def start(self) -> None:
        ctx = self._tls_context() if self.tls else None
        handler = self.app.handle
        main = await serve(handler, self.host, self.port, "platform", ctx)
        self.port = main[0].sockets[0].getsockname()[1]
        onion = await serve(handler, "127.0.0.1", 0, "onion", ctx)
        self.onion_port = onion[0].sockets[0].getsockname()[1]
        ctl = await serve(
            lambda req: control.handle(self, req), self.host, self.control_port, "control"
        )
        self.control_port = ctl[0].sockets[0].getsockname()[1]
        socks = await serve_socks(
            self.host,
            self.socks_port,
            lambda n: n in self.world.onion_hosts,
            lambda: ("127.0.0.1", self.onion_port),
        )
        self.socks_port = socks.sockets[0].getsockname()[1]
        from aiosmtpd.smtp import SMTP

        loop = asyncio.get_running_loop()
        smtp = await loop.create_server(
            lambda: SMTP(
                SmtpHandler(self.app), hostname="sim.invalid", ident="takedown-sim", loop=loop
            ),
            self.host,
            self.smtp_port,
        )
        self.smtp_port = smtp.sockets[0].getsockname()[1]
        self._servers = [*main, *onion, *ctl, socks, smtp]
        self.clock.restart()  # scenario time starts when the listeners are up

    async def stop(self) -> None:
        for s in self._servers:
            s.close()
        for s in self._servers:
            s.close_clients() if hasattr(s, "close_clients") else None
        await asyncio.gather(
            *(asyncio.wait_for(s.wait_closed(), 2) for s in self._servers), return_exceptions=True
        )
        self._servers = []

    @property
    def resolve(self) -> dict[str, str]:
        """Hostname -> loopback address of every simulated host (not ``.onion``: SOCKS only)."""
        target = f"{self.host}:{self.port}"
        out: dict[str, str] = {}
        for h in self.world.hosts:
            if h.endswith(".onion"):
                continue
            if h.endswith(".example"):
                out["*.example"] = target
            else:
                out[h] = target
        return out

    @property
    def control_url(self) -> str:
        return f"http://{self.host}:{self.control_port}/_sim"

    def info(self) -> dict[str, Any]:
        rc = {
            p.id: {
                "host": p.hosts[0],
                "user": p.auth.user,
                "password": p.auth.password,
                "user_id": p.auth.user_id,
                "token": p.auth.token,
            }
            for p in self.world.platforms.values()
            if p.type == "rocketchat"
        }
        return {
            "resolve": self.resolve,
            "TAKEDOWN_RESOLVE": format_resolve(self.resolve),
            "TAKEDOWN_TOR_PROXY": f"socks5://{self.host}:{self.socks_port}",
            "TAKEDOWN_SMTP_URL": f"smtp://{self.host}:{self.smtp_port}",
            "control_url": self.control_url,
            "ca_path": self.ca_path,
            "port": self.port,
            "socks_port": self.socks_port,
            "smtp_port": self.smtp_port,
            "onion_hosts": sorted(self.world.onion_hosts),
            "rocketchat": rc,
            # Art. 4(1) copies of cross-border removal orders: one mailbox per Member State
            "authority_email": authority_email("IE"),
            "intake": {
                p.id: {"api": f"https://{p.tns.host}/api/v1/referrals", "email": p.tns.email}
                for p in self.world.platforms.values()
                if p.tns.host
            },
        }
