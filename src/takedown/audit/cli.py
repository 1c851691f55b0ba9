"""CLI: ``audit verify``."""

from __future__ import annotations

import typer
from rich.console import Console

from takedown.audit.service import verify

audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def audit_verify() -> None:
    """Re-hash the whole chain and report the first broken link."""
    from takedown.kit.cli import fail, unit_of_work

    with unit_of_work() as session:
        result = verify(session)
    if result.ok:
        Console().print(
            f"[green]audit chain intact[/]: {result.checked} events, head {result.head_hash}"
        )
        return
    fail(
        f"audit chain broken at event {result.first_bad_id}: {result.reason} "
        f"({result.checked - 1} events before it are intact)"
    )
