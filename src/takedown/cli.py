"""The Typer composition root. Capabilities add their commands through ``register(app)``."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console

from takedown.config import Settings, get_settings
from takedown.db import make_engine, make_sessionmaker
from takedown.kit import cli as kit_cli
from takedown.kit.cli import err, guarded
from takedown.kit.errors import TakedownError
from takedown.kit.logs import configure_logging

app = typer.Typer(
    help="takedown: find, match, refer, verify and preserve takedowns.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")


def settings() -> Settings:
    """The environment's settings, with the capabilities' hooks wired (every command)."""
    from takedown.bootstrap import wire_hooks

    s = get_settings()
    wire_hooks(s)
    return s


kit_cli.install(settings)


@db_app.command("upgrade")
@guarded
def db_upgrade() -> None:
    """Apply every pending migration (and seed reference data)."""
    from takedown.bootstrap import prepare_database

    s = settings()
    s.ensure_dirs()
    engine = make_engine(s.effective_database_url)
    applied = prepare_database(engine)
    where = engine.url.render_as_string(hide_password=True)
    if not applied:
        err.print(f"[green]database is up to date[/] ({where})", highlight=False)
    else:
        err.print(
            f"[green]applied {len(applied)} migration{'s' if len(applied) != 1 else ''}[/] "
            f"to {where}: {', '.join(applied)}",
            highlight=False,
            soft_wrap=True,
        )


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="bind address")] = None,
    port: Annotated[int | None, typer.Option(help="port")] = None,
    migrate: Annotated[bool, typer.Option(help="run migrations first")] = True,
) -> None:
    """Serve the web app and API (embedded mode by default)."""
    import uvicorn

    from takedown.app import create_app
    from takedown.bootstrap import first_start, prepare_database

    s = settings()
    configure_logging(s.log_level)
    s.ensure_dirs()
    engine = make_engine(s.effective_database_url)
    if migrate:
        prepare_database(engine)
    login = first_start(make_sessionmaker(engine))
    if login:
        email, password = login
        Console().print(
            "[bold yellow]First start: one-time admin login[/]\n"
            f"  e-mail:   {email}\n  password: {password}\n"
            "  (shown once; the first login asks you to choose a new password)"
        )
    application = create_app(s, engine=engine, background=True)
    uvicorn.run(
        application,
        host=host or s.host,
        port=port or s.port,
        log_level="info",
        **s.uvicorn_options(),  # X-Forwarded-For only from TAKEDOWN_TRUSTED_PROXIES
    )


@app.command()
def worker(
    threads: Annotated[int, typer.Option(help="worker threads")] = 4,
    tickers: Annotated[bool, typer.Option(help="also look for due work periodically")] = True,
) -> None:
    """Run a background worker (distributed mode: needs TAKEDOWN_BROKER_URL)."""
    from takedown.worker import run_worker

    s = settings()
    configure_logging(s.log_level)
    run_worker(s, threads=threads, with_tickers=tickers)


def _register_capabilities() -> None:
    from takedown.accounts.cli import register as accounts
    from takedown.audit.cli import register as audit
    from takedown.coins.cli import register as coins
    from takedown.demo.cli import register as demo
    from takedown.evidence.cli import register as evidence
    from takedown.items.cli import register as items
    from takedown.matching.cli import register as matching
    from takedown.monitoring.cli import register as monitoring
    from takedown.operations.cli import register as operations
    from takedown.platforms.cli import register as platforms
    from takedown.referrals.cli import register as referrals
    from takedown.resurgence.cli import register as resurgence
    from takedown.runtime.cli import register as runtime
    from takedown.sharing.cli import register as sharing
    from takedown.sim.cli import register as sim
    from takedown.verification.cli import register as verification

    for register in (
        accounts,
        audit,
        platforms,
        items,
        matching,
        evidence,
        referrals,
        verification,
        monitoring,
        operations,
        resurgence,
        sharing,
        coins,
        sim,
        demo,
        runtime,
    ):
        register(app)


_register_capabilities()


def main() -> None:
    try:
        app()
    except TakedownError as exc:  # pragma: no cover - guarded() catches first
        err.print(f"[bold red]error:[/] {exc.detail}")
        sys.exit(1)
