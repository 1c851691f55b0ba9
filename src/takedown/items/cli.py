"""CLI: ``import FILE``, ``items list``, ``assess ITEM_ID``.

The CLI runs on the server with the database's credentials, so it acts as
someone explicitly: ``--user EMAIL`` (that user, in their agency) or
``--agency NAME_OR_ID`` alone (the agency, with no user recorded). ``items list``
without ``--user`` lists as the system, i.e. every item; ``--agency`` there
filters by reporting agency.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from takedown.accounts import repository as accounts_repo
from takedown.accounts import service as accounts
from takedown.accounts.models import Role
from takedown.accounts.principal import Principal
from takedown.accounts.service import SYSTEM
from takedown.items import intake, service
from takedown.items.models import ImportFormat, ItemStatus, Verdict
from takedown.items.repository import ItemFilters
from takedown.kit.errors import InvalidInput, NotFound
from takedown.kit.output import OutputFormat, emit
from takedown.kit.progress import rich_progress

items_app = typer.Typer(help="Reported items.", no_args_is_help=True)
PROGRESS_FROM_BYTES = 256 * 1024


def register(app: typer.Typer) -> None:
    app.command("import")(import_file)
    app.command("assess")(assess)
    app.add_typer(items_app, name="items")


def acting_as(session: Session, agency: str | None, user: str | None) -> Principal:
    """The principal a CLI command acts as: a user, or an agency with no user."""
    if user:
        u = accounts_repo.user_by_email(session, user)
        if u is None:
            raise NotFound(f"no user with e-mail {user!r}")
        ag = accounts.get_agency(session, u.agency_id)
        if agency and accounts.find_agency(session, agency).id != ag.id:
            raise InvalidInput(f"{user} belongs to {ag.name!r}, not {agency!r}")
        return accounts.principal_for(u, ag, via="cli")
    if not agency:
        raise InvalidInput("say whom to act as: --agency NAME_OR_ID or --user EMAIL")
    ag = accounts.find_agency(session, agency)
    return Principal(
        user_id=0,
        agency_id=ag.id,
        role=Role.ANALYST,
        platform_slug=ag.platform_slug,
        via="cli",
    )


def _parse_day(value: str | None, flag: str) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{flag} {value!r} is not a date (YYYY-MM-DD or ISO 8601)") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def import_file(
    file: Annotated[Path, typer.Argument(help="CSV, JSON lines or a list of URLs")],
    agency: Annotated[str | None, typer.Option(help="reporting agency (id or name)")] = None,
    user: Annotated[str | None, typer.Option(help="act as this user (e-mail)")] = None,
    fmt: Annotated[
        ImportFormat | None, typer.Option("--format", help="csv, jsonl or urls (default: detect)")
    ] = None,
    show_errors: Annotated[int, typer.Option("--errors", help="bad rows to list")] = 20,
    progress: Annotated[bool, typer.Option(help="progress bar on long imports")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="print the job as JSON")] = False,
) -> None:
    """Import reported URLs; bad rows are listed with their line numbers, good rows go in."""
    from takedown.kit.cli import guarded, unit_of_work

    @guarded
    def run() -> None:
        if not file.is_file():
            raise NotFound(f"{file} is not a file")
        size = file.stat().st_size
        with unit_of_work() as session:
            principal = acting_as(session, agency, user)
            with (
                file.open("rb") as stream,
                rich_progress(
                    f"importing {file.name}",
                    size,
                    bytes_mode=True,
                    enabled=progress and size >= PROGRESS_FROM_BYTES and not as_json,
                ) as sink,
            ):
                job = intake.import_stream(
                    session, principal, stream, filename=file.name, format=fmt, progress=sink
                )
            summary = {
                "import_id": job.id,
                "format": job.format,
                "encoding": job.encoding,
                "lines": job.lines_total,
                "rows": job.rows_total,
                "ok": job.rows_ok,
                "bad": job.rows_bad,
                "items_created": job.items_created,
                "duplicates_folded": job.duplicates_folded,
            }
            if as_json:
                typer.echo(json.dumps({**summary, "errors": job.errors, "warnings": job.warnings}))
                return
            console = Console()
            table = Table(title=f"import {job.id}: {job.filename}")
            for key in summary:
                table.add_column(key)
            table.add_row(*(str(v) for v in summary.values()))
            console.print(table)
            for w in job.warnings:
                console.print(f"[yellow]warning:[/] {w}", highlight=False)
            if job.errors and show_errors > 0:
                et = Table(title=f"bad rows (first {min(show_errors, len(job.errors))})")
                et.add_column("line", justify="right")
                et.add_column("reason")
                for e in job.errors[:show_errors]:
                    et.add_row(str(e["line"]), str(e["reason"]))
                console.print(et)

    run()


@items_app.command("list")
def items_list(
    status: Annotated[list[ItemStatus] | None, typer.Option(help="status (repeatable)")] = None,
    platform: Annotated[str | None, typer.Option(help="platform slug")] = None,
    kind: Annotated[str | None, typer.Option(help="account, post, channel, ...")] = None,
    agency: Annotated[str | None, typer.Option(help="reporting agency (id or name)")] = None,
    since: Annotated[str | None, typer.Option(help="first seen on/after (YYYY-MM-DD)")] = None,
    until: Annotated[str | None, typer.Option(help="first seen before (YYYY-MM-DD)")] = None,
    q: Annotated[
        str | None, typer.Option(help="words, each in the URL, the title or captured text")
    ] = None,
    user: Annotated[str | None, typer.Option(help="list as this user would see")] = None,
    limit: int = 100,
    offset: int = 0,
    fmt: Annotated[OutputFormat, typer.Option("--format", help="table or json")] = (
        OutputFormat.TABLE
    ),
) -> None:
    """List items (as the system, or as --user would see them)."""
    from takedown.kit.cli import guarded, unit_of_work

    @guarded
    def run() -> None:
        with unit_of_work() as session:
            principal = acting_as(session, None, user) if user else SYSTEM
            filters = ItemFilters(
                status=[s.value for s in status] if status else None,
                platform=platform,
                kind=kind,
                agency_id=accounts.find_agency(session, agency).id if agency else None,
                first_seen_from=_parse_day(since, "--since"),
                first_seen_to=_parse_day(until, "--until"),
                q=q,
            )
            rows, total = service.list_items(session, principal, filters, limit, offset)
            cols = ["id", "platform", "kind", "status", "canonical_url", "first_seen_at"]
            emit(
                ({c: getattr(r, c) for c in cols} for r in rows),
                cols,
                fmt,
                title=f"Items ({len(rows)} of {total})",
            )

    run()


def assess(
    item_id: Annotated[int, typer.Argument(help="the item's id")],
    verdict: Annotated[Verdict, typer.Option(help="the verdict")],
    category: Annotated[
        list[str] | None, typer.Option(help="TCO Art. 2(7) letter a-e (repeatable)")
    ] = None,
    group: Annotated[str | None, typer.Option(help="group attribution")] = None,
    outlet: Annotated[str | None, typer.Option(help="outlet attribution")] = None,
    language: Annotated[str | None, typer.Option(help="language (default: suggested)")] = None,
    notes: Annotated[str, typer.Option(help="notes")] = "",
    agency: Annotated[str | None, typer.Option(help="assessing agency (id or name)")] = None,
    user: Annotated[str | None, typer.Option(help="the analyst (e-mail)")] = None,
) -> None:
    """Record an assessment of an item."""
    from takedown.kit.cli import guarded, unit_of_work

    @guarded
    def run() -> None:
        with unit_of_work() as session:
            principal = acting_as(session, agency, user)
            a = service.assess(
                session,
                principal,
                item_id,
                verdict,
                category or [],
                group,
                outlet,
                language,
                notes,
            )
            item = service.get_item(session, principal, item_id)
            sugg = ", ".join(f"{c} {s:.2f}" for c, s in a.language_scores) or "none"
            Console().print(
                f"assessment {a.id} recorded: item {item.id} is {item.status} "
                f"(language {a.language or '?'}; suggested: {sugg})",
                highlight=False,
            )

    run()
