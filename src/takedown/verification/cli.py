"""CLI ``takedown verify``: check what is due (progress bar, summary table), or given URLs."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

import httpx
import typer
from rich.console import Console
from rich.table import Table

from takedown.kit.output import OutputFormat


def register(app: typer.Typer) -> None:
    app.command("verify")(verify)


def verify(
    url: Annotated[list[str] | None, typer.Option("--url", help="check these URLs only")] = None,
    limit: Annotated[int, typer.Option(help="most items to check")] = 100_000,
    global_limit: Annotated[int, typer.Option(help="concurrent requests")] = 256,
    per_host: Annotated[int, typer.Option(help="concurrent requests per host")] = 16,
    per_host_rate: Annotated[float, typer.Option(help="requests/s per host; 0 = no pacing")] = 0.0,
    timeout: Annotated[float, typer.Option(help="seconds per request")] = 20.0,
    rocketchat_auth: Annotated[
        list[str] | None, typer.Option(help="host=USER_ID:TOKEN for a Rocket.Chat server")
    ] = None,
    fmt: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.TABLE,
    progress: Annotated[bool, typer.Option(help="show a progress bar")] = True,
) -> None:
    """Check every item whose next check is due (or --url ...), and record the outcomes."""
    from takedown.db import session_scope
    from takedown.kit.cli import guarded, session_factory, settings
    from takedown.kit.http import make_client
    from takedown.kit.progress import rich_progress
    from takedown.verification import service
    from takedown.verification.detectors import parse_rocketchat_auth, registry_from_db
    from takedown.verification.engine import CheckResult, EngineConfig
    from takedown.verification.policy import policy_for

    @guarded
    def run() -> None:
        s = settings()
        cfg = EngineConfig(global_limit=global_limit, per_host_limit=per_host,
                           per_host_rate=per_host_rate)  # fmt: skip

        def client() -> httpx.AsyncClient:
            return make_client(
                **s.http_client_options(), timeout=timeout, per_host_limit=per_host,
                max_connections=per_host * 5,
            )  # fmt: skip

        factory = session_factory()
        with session_scope(factory) as session:
            registry = registry_from_db(session, parse_rocketchat_auth(rocketchat_auth or []))
        if url:

            async def adhoc() -> list[CheckResult]:
                async with client() as c:
                    return await service.check_urls(c, url, registry=registry, engine_config=cfg)

            results = asyncio.run(adhoc())
            rows = [{"url": r.url, "outcome": r.outcome.value, "status": r.status,
                     "reason": r.reason, "detector": r.detector} for r in results]  # fmt: skip
            if fmt is OutputFormat.JSON:
                typer.echo(json.dumps(rows, indent=2))
                return
            t = Table(title="checks (not stored)")
            for c in ("url", "outcome", "status", "reason"):
                t.add_column(c)
            for r in rows:
                t.add_row(str(r["url"]), str(r["outcome"]), str(r["status"]), str(r["reason"]))
            Console().print(t)
            return
        with rich_progress("verifying", enabled=progress and fmt is OutputFormat.TABLE) as sink:
            rep = service.verify_due(
                factory, client, registry=registry, engine_config=cfg, limit=limit,
                policy=policy_for(s.verification_confirm_seconds, s.verification_recheck_seconds),
                on_total=sink.set_total, on_result=lambda r: sink.advance(),
            )  # fmt: skip
        summary = {"run_id": rep.run_id, "due": rep.due, "checked": rep.checked,
                   "outcomes": rep.outcomes or {}, "removed_confirmed": rep.removed_confirmed,
                   "reappeared": rep.reappeared, "restricted": rep.restricted,
                   "still_online": rep.still_online}  # fmt: skip
        if fmt is OutputFormat.JSON:
            typer.echo(json.dumps(summary, indent=2))
            return
        t = Table(title=f"verification run {rep.run_id[:8]}")
        t.add_column("")
        t.add_column("count", justify="right")
        t.add_row("due", str(rep.due))
        t.add_row("checked", str(rep.checked))
        for k, v in sorted((rep.outcomes or {}).items()):
            t.add_row(f"  {k}", str(v))
        t.add_row("removals confirmed", str(rep.removed_confirmed))
        t.add_row("reappeared", str(rep.reappeared))
        t.add_row("newly restricted", str(rep.restricted))
        t.add_row("still online", str(rep.still_online))
        Console().print(t)

    run()
