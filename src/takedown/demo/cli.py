"""CLI ``takedown demo``: a simulated action day end to end, then the dashboard served.

Progress bars and notes go to stderr, so ``--format json`` leaves stdout to the JSON
summary alone. The server runs without background jobs: the simulated platforms stop
with the run, and a checker left running would try the real hosts of the synthetic
addresses (x.com, t.me...). The demo reaches nothing but loopback.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from takedown.config import Settings
from takedown.demo.result import DemoResult
from takedown.kit.output import OutputFormat
from takedown.kit.progress import ProgressSink, rich_progress


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_command)


class RichObserver:
    """Bars and notes on a (stderr) console."""

    def __init__(self, console: Console) -> None:
        self.console = console

    @contextmanager
    def _phase(
        self, description: str, total: int | None, bytes_mode: bool
    ) -> Iterator[ProgressSink]:
        with rich_progress(description, total, bytes_mode=bytes_mode, console=self.console) as sink:
            yield sink

    def phase(
        self, description: str, total: int | None = None, *, bytes_mode: bool = False
    ) -> AbstractContextManager[ProgressSink]:
        return self._phase(description, total, bytes_mode)

    def note(self, message: str) -> None:
        self.console.print(f"[dim]{message}[/]", highlight=False, soft_wrap=True)


def demo_command(
    scenario: Annotated[
        str, typer.Option(help="testbed scenario: a name under scenarios/ or a YAML path")
    ] = "small",
    seed: Annotated[int | None, typer.Option(help="override the scenario's seed")] = None,
    hours: Annotated[
        float, typer.Option(help="how long the action day runs, in scenario hours")
    ] = 24.0,
    directory: Annotated[
        Path | None,
        typer.Option(
            "--dir",
            help="the demo's own directory (database, files, reports); default DATA_DIR/demo",
        ),
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(
            help="use this (empty) database instead of the demo's own SQLite file; "
            "TAKEDOWN_DATABASE_URL is ignored unless passed here"
        ),
    ] = None,
    reset: Annotated[
        bool, typer.Option(help="replace an earlier demo in --dir (--no-reset refuses instead)")
    ] = True,
    serve: Annotated[bool, typer.Option(help="serve the web app on the demo's database")] = True,
    host: Annotated[str | None, typer.Option(help="bind address (default 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="port (default 8080)")] = None,
    pdf: Annotated[bool, typer.Option(help="print the final report as PDF (chromium)")] = True,
    fmt: Annotated[
        OutputFormat, typer.Option("--format", help="summary as a table or json")
    ] = OutputFormat.TABLE,
) -> None:
    """A simulated action day, end to end (import, refer, verify, report), then its dashboard.

    Synthetic content only: the testbed's platforms run on loopback for the run.
    """
    from takedown.kit.cli import guarded

    guarded(_run)(
        scenario, seed, hours, directory, database_url, reset, serve, host, port, pdf, fmt
    )


def _run(
    scenario: str,
    seed: int | None,
    hours: float,
    directory: Path | None,
    database_url: str | None,
    reset: bool,
    serve: bool,
    host: str | None,
    port: int | None,
    pdf: bool,
    fmt: OutputFormat,
) -> None:
    from takedown.config import get_settings
    from takedown.demo.runner import DemoConfig, run_demo
    from takedown.demo.storage import prepare

    config = DemoConfig(scenario=scenario, seed=seed, hours=hours, pdf=pdf)  # checks first
    base = get_settings()
    storage = prepare(directory or base.data_dir / "demo", database_url, reset=reset)
    # The demo's own settings: its directory and database; no resolver map, no broker, no
    # SMTP relay, whatever the environment says (the testbed wires the run by itself).
    settings = base.model_copy(
        update={
            "data_dir": storage.directory,
            "database_url": storage.database_url,
            "resolve": {},
            "ssrf_allow": [],
            "broker_url": None,
            "smtp_url": None,
        }
    )
    err = Console(stderr=True)
    result = run_demo(config, storage, settings, RichObserver(err))
    bind = host or base.host
    port = port or base.port
    # Bound to every interface: the URL to click is still loopback's.
    shown = "127.0.0.1" if bind in ("0.0.0.0", "::", "") else bind  # noqa: S104
    shown = f"[{shown}]" if ":" in shown else shown
    base_url = f"http://{shown}:{port}"
    out = Console()
    if fmt is OutputFormat.JSON:
        typer.echo(json.dumps(result.to_json(base_url if serve else None), indent=2))
    else:
        print_summary(out, result, base_url if serve else None)
    if serve:
        dashboard = base_url + result.dashboard_path
        _serve(settings, bind, port, dashboard, err if fmt is OutputFormat.JSON else out)


def _duration(seconds: object) -> str:
    from takedown.operations.report import display

    return display(seconds, "seconds")


def print_summary(console: Console, r: DemoResult, base_url: str | None) -> None:
    f = r.figures
    hours = (r.simulated_to - r.simulated_from).total_seconds() / 3600
    rows_ok = sum(i.rows_ok for i in r.imports)
    rows_bad = sum(i.rows_bad for i in r.imports)
    truth = r.to_json()["ground_truth"]
    console.print(
        f"\n[bold]{r.operation_name}[/]: operation {r.operation_id}, {r.operation_status}\n"
        f"  {hours:.1f} hours of scenario time in {r.timings.get('total', 0):.0f} s "
        f"({r.verification_rounds} verification rounds, {r.checks} checks)\n"
        f"  imported   {rows_ok} lines from {len(r.imports)} agencies' files "
        f"({rows_bad} refused, with reasons)\n"
        f"  items      {f['items']} ({f['duplicates_folded']} duplicates folded, "
        f"{f['reported_by_several']} reported by more than one agency)\n"
        f"  not sent   {f['removed_before_referral']} removed before referral (already removed "
        "or withheld when checked just before sending)\n"
        f"  referred   {f['referred']} in {len(r.referrals)} referrals: "
        + ", ".join(f"{x.platform} ({_kind(x.kind)} by {x.channel})" for x in r.referrals)
        + f"\n  removed    {f['confirmed_removed']} confirmed by the checks "
        f"({_share(f['removed_share'])}), {f['claimed_removed']} claimed by the platforms; "
        f"median time to removal {_duration(f['median_observed_seconds'])}\n"
        f"  testbed    by its ground truth {truth['removed_before_referral']} were gone before "
        f"referral, and {truth['removed']} of the {truth['referred']} referred are gone",
        highlight=False,
        soft_wrap=True,
    )
    t = Table(title="Time to removal by platform", title_justify="left")
    for col in ("platform", "referred", "claimed", "confirmed", "share", "median"):
        t.add_column(col, justify="left" if col == "platform" else "right")
    for row in r.by_platform:
        t.add_row(
            row["platform"],
            str(row["referred"]),
            str(row["claimed_removed"]),
            str(row["confirmed_removed"]),
            _share(row.get("removed_share")),
            _duration(row.get("median_observed_seconds")),
        )
    console.print(t)
    console.print("[bold]Reports[/]")
    for key, path in r.reports.items():
        console.print(f"  {key.replace('_', ' '):18} {path or '(not written)'}", highlight=False)
    # Plain lines, never a table: a password cut short to fit a narrow terminal is useless.
    console.print("[bold]Demo logins[/] (random for this run, shown once)")
    width = max(len(u.email) for u in r.logins)
    for u in r.logins:
        console.print(
            f"  {u.email:{width}}  {u.password}  {u.role:10} {u.agency}",
            highlight=False,
            soft_wrap=True,
        )
    console.print(f"database: {r.database}", highlight=False)
    if base_url is None:
        console.print(f"dashboard (when served): {r.dashboard_path}", highlight=False)


def _kind(kind: str) -> str:
    return "removal order" if kind == "removal_order" else "ToS referral"


def _share(value: object) -> str:
    from takedown.operations.report import display

    return display(value, "share")


def dashboard_app(settings: Settings) -> Any:
    """The app the demo serves: as ``takedown serve``'s, without tickers or jobs (see the
    module's docstring), so its pages offer no "Check now" that could only wait (#12.8)."""
    from takedown.app import create_app
    from takedown.db import make_engine

    app = create_app(
        settings, engine=make_engine(settings.effective_database_url), background=False
    )
    app.state.background_jobs = False
    return app


def _serve(settings: Settings, host: str, port: int, dashboard: str, console: Console) -> None:
    """Serve the app on the demo's database, as ``takedown serve`` does, without tickers."""
    import uvicorn

    from takedown.kit.logs import configure_logging

    configure_logging(settings.log_level)
    app = dashboard_app(settings)
    console.print(
        f"\n[bold green]Live dashboard:[/] {dashboard}\n"
        "  log in with one of the demo logins above; Ctrl-C stops the server",
        highlight=False,
        soft_wrap=True,
    )
    uvicorn.run(app, host=host, port=port, log_level="info", **settings.uvicorn_options())
