"""``takedown sim``: serve a scenario on loopback, or export its agencies' report files."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import time
from pathlib import Path
from typing import Annotated

import typer

from takedown.sim.reports import export_reports
from takedown.sim.runtime import Sim
from takedown.sim.scenario import load_scenario, resolve_scenario_path
from takedown.sim.world import World


def register(app: typer.Typer) -> None:
    app.command("sim")(sim_command)


def sim_command(
    scenario: Annotated[
        str, typer.Argument(help="scenario YAML path, or a name under scenarios/")
    ] = "small",
    port: Annotated[int, typer.Option(help="platform port (HTTP and HTTPS); 0 = any free")] = 8800,
    control_port: Annotated[int, typer.Option(help="control API port (/_sim/...)")] = 8801,
    socks_port: Annotated[int, typer.Option(help="SOCKS5 proxy for .onion hosts")] = 8802,
    smtp_port: Annotated[int, typer.Option(help="SMTP referral inbox")] = 8825,
    speed: Annotated[float | None, typer.Option(help="simulated seconds per real second")] = None,
    seed: Annotated[int | None, typer.Option(help="override the scenario's seed")] = None,
    export_reports_dir: Annotated[
        Path | None,
        typer.Option("--export-reports", help="write the agencies' report files here and exit"),
    ] = None,
    tls: Annotated[bool, typer.Option(help="serve HTTPS with a throw-away test CA")] = True,
    inject: Annotated[
        bool, typer.Option(help="latency and random faults from the scenario")
    ] = True,
    ca_dir: Annotated[Path, typer.Option(help="where to write sim-ca.pem")] = Path("var/sim"),
    json_out: Annotated[
        bool, typer.Option("--json", help="print the addresses as one JSON line")
    ] = False,
    chain_port: Annotated[
        int,
        typer.Option(help="Esplora-compatible chain API, when the scenario has market listings"),
    ] = 8803,
    chain_rate: Annotated[float, typer.Option(help="its rate limit, requests/s (0 = none)")] = 10,
) -> None:
    """Run the testbed: simulated platforms on loopback, from a seeded scenario."""
    try:
        sc = load_scenario(resolve_scenario_path(scenario), seed)
    except (FileNotFoundError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    t0 = time.perf_counter()
    world = World(sc)
    gen = time.perf_counter() - t0
    if export_reports_dir is not None:
        counts = export_reports(world, export_reports_dir)
        for name, n in counts.items():
            typer.echo(f"{n:7d}  {export_reports_dir / name}")
        typer.echo(
            f"{sum(counts.values())} lines in {len(counts)} files; truth in "
            f"{export_reports_dir / 'ground-truth-reports.jsonl'}"
        )
        return
    sim = Sim(
        sc,
        port=port,
        control_port=control_port,
        socks_port=socks_port,
        smtp_port=smtp_port,
        tls=tls,
        inject=inject,
        speed=speed,
        ca_dir=ca_dir,
        world=world,
    )
    with contextlib.ExitStack() as stack:
        if world.listings:
            from takedown.sim.chain import SimChain, serve_chain, write_files
            from takedown.sim.listings import posted_addresses

            chain = SimChain(world.seed, world.start - 30 * 86_400, posted_addresses(world))
            srv = stack.enter_context(serve_chain(chain, rate_limit=chain_rate, port=chain_port))
            truth, labels = write_files(chain, ca_dir)
            if not json_out:
                typer.echo(f"TAKEDOWN_COINS_ESPLORA_URL={srv.base_url}")
                typer.echo(
                    f"chain: truth in {truth}; labels: takedown coins labels import {labels}"
                )
        asyncio.run(_serve(sim, gen, json_out))


async def _serve(sim: Sim, gen_seconds: float, json_out: bool) -> None:
    await sim.start()
    info = sim.info()
    if json_out:
        typer.echo(json.dumps(info))
    else:
        w = sim.world
        typer.echo(
            f"scenario {w.sc.name!r} seed {w.seed}: {len(w.items)} items, {len(w.media)} media "
            f"(generated in {gen_seconds:.1f}s); clock {sim.clock.now():%Y-%m-%d %H:%M:%S}Z "
            f"at speed {sim.clock.speed:g}"
        )
        typer.echo(f"TAKEDOWN_RESOLVE={info['TAKEDOWN_RESOLVE']}")
        typer.echo(f"TAKEDOWN_TOR_PROXY={info['TAKEDOWN_TOR_PROXY']}")
        typer.echo(f"TAKEDOWN_SMTP_URL={info['TAKEDOWN_SMTP_URL']}")
        typer.echo(f"TAKEDOWN_CA_BUNDLE={info['ca_path']}")
        typer.echo("TAKEDOWN_SSRF_ALLOW=127.0.0.1")
        typer.echo(
            f"control API: {info['control_url']}/clock  "
            f"(ground truth: {info['control_url']}/ground-truth)"
        )
        for pid, rc in info["rocketchat"].items():
            typer.echo(
                f"rocket.chat {pid}: https://{rc['host']} "
                f"X-User-Id={rc['user_id']} X-Auth-Token={rc['token']}"
            )
        for onion in info["onion_hosts"]:
            typer.echo(f"onion: http://{onion}/ (through the SOCKS5 proxy only)")
        # Where each simulated platform takes referrals: set these on the platform records
        # (Administration -> Platforms), or the orders go nowhere the testbed sees.
        for pid, desk in sorted(info["intake"].items()):
            typer.echo(
                f"platform {pid}: TCO contact point {desk['email'] or '-'}, API endpoint "
                f"{desk['api']}"
            )
        # The host state's competent authority (TCO Art. 4(1)): the copy of a cross-border
        # removal order goes there once it is the registry's confirmed contact point.
        typer.echo(
            f"host-state authority (Art. 4 copies): {info['authority_email']} (any "
            "tco-<cc>@authority.example works); set it with: takedown authority set IE "
            f"--contact {info['authority_email']} --confirmed"
        )
        if sim.clock.speed == 0:
            typer.echo(
                "the clock is stopped (speed 0): the platforms act only when it moves; "
                "run with --speed 60 (a simulated minute per real second), or POST "
                f"{info['control_url']}/clock/advance"
            )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await sim.stop()
