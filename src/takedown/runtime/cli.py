"""CLI: ``takedown jobs failed``, ``takedown jobs retry``, ``takedown jobs outbox``."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console

jobs_app = typer.Typer(
    help="Background jobs: the dead-letter queue and the outbox.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(jobs_app, name="jobs")
    app.command("doctor")(doctor)


@jobs_app.command("failed")
def jobs_failed(
    all_: Annotated[bool, typer.Option("--all", help="also those already retried")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object a line")] = False,
) -> None:
    """List the jobs whose attempts are used up (the dead-letter queue)."""
    from takedown.kit.cli import guarded, unit_of_work
    from takedown.runtime import deadletters

    @guarded
    def run() -> None:
        console = Console(highlight=False, soft_wrap=True)
        with unit_of_work() as session:
            rows = deadletters.failed(session, include_retried=all_, limit=10_000)
            for r in rows:
                if as_json:
                    print(json.dumps({
                        "id": r.id, "job": r.job, "kwargs": r.kwargs, "attempts": r.attempts,
                        "error": r.error, "failed_at": r.failed_at.isoformat(),
                        "retried_as": r.retried_as,
                    }))  # fmt: skip
                else:
                    retried = f" (retried as outbox job {r.retried_as})" if r.retried_at else ""
                    console.print(
                        f"{r.id}\t{r.job}\t{json.dumps(r.kwargs)}\t{r.attempts} attempts\t"
                        f"{r.failed_at:%Y-%m-%d %H:%M:%S}\t{r.error}{retried}"
                    )
        if not rows and not as_json:
            console.print("no failed jobs")

    run()


@jobs_app.command("retry")
def jobs_retry(
    ids: Annotated[list[int] | None, typer.Argument(help="failed job ids")] = None,
    all_: Annotated[bool, typer.Option("--all", help="every failed job")] = False,
) -> None:
    """Queue failed jobs again (through the outbox; their effects are keyed, so a job
    that half-ran before failing does not do its work twice)."""
    from takedown.kit.cli import fail, guarded, unit_of_work
    from takedown.runtime import deadletters

    @guarded
    def run() -> None:
        if not ids and not all_:
            fail("name the failed jobs to retry, or --all")
        with unit_of_work() as session:
            if all_:
                new = deadletters.retry_all(session)
            else:
                new = [deadletters.retry(session, i) for i in ids or []]
        Console().print(f"{len(new)} job(s) queued again: outbox {', '.join(map(str, new)) or '-'}")

    run()


@jobs_app.command("outbox")
def jobs_outbox() -> None:
    """How many outbox jobs are pending, relayed, done and dead."""
    from takedown.kit.cli import guarded, unit_of_work
    from takedown.runtime import repository as repo

    @guarded
    def run() -> None:
        with unit_of_work() as session:
            counts = repo.outbox_counts(session)
        Console().print(
            "  ".join(f"{s}: {counts.get(s, 0)}" for s in ("pending", "relayed", "done", "dead"))
        )

    run()


def doctor() -> None:
    """Check this deployment: database reachable and migrated, broker reachable, workers
    alive, leases, queue depths, clock skew. One line each; exit 1 if any check fails."""
    from takedown.db import make_engine
    from takedown.kit.cli import settings
    from takedown.runtime.doctor import run_checks

    s = settings()
    engine = make_engine(s.effective_database_url)
    try:
        checks = run_checks(s, engine)
    finally:
        engine.dispose()
    colour = {"ok": "green", "warn": "yellow", "fail": "bold red"}
    console = Console(highlight=False, soft_wrap=True)
    for c in checks:
        console.print(f"[{colour[c.status]}]{c.status:<4}[/] {c.name}: {c.message}")
    if any(c.status == "fail" for c in checks):
        raise typer.Exit(1)
