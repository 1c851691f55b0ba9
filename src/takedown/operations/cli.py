"""CLI: ``operation create|list|import|report|transparency``."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from takedown.accounts.models import Role
from takedown.accounts.principal import Principal
from takedown.kit.errors import InvalidInput
from takedown.kit.output import OutputFormat, emit

operation_app = typer.Typer(
    help="Operations (action days): create, gather items, report.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(operation_app, name="operation")


def _acting(session: object, agency: str, *, system: bool) -> Principal:
    """The CLI acts for an agency: as its supervisor (``system``: maintenance visibility)."""
    from sqlalchemy.orm import Session

    from takedown.accounts import service as accounts

    assert isinstance(session, Session)
    ag = accounts.find_agency(session, agency)
    return Principal(
        user_id=0, agency_id=ag.id, role=Role.SUPERVISOR, via="system" if system else "cli"
    )


def _when(raw: str | None) -> dt.datetime | None:
    if raw is None:
        return None
    try:
        t = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{raw!r} is not an ISO 8601 time") from None
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


@operation_app.command("create")
def create(
    name: str,
    lead: Annotated[str, typer.Option(help="lead agency (id or name)")],
    starts: Annotated[str | None, typer.Option(help="start (ISO 8601, UTC); default now")] = None,
    ends: Annotated[str | None, typer.Option(help="end (ISO 8601, UTC)")] = None,
    participant: Annotated[
        list[str] | None, typer.Option(help="participating agency (repeat)")
    ] = None,
    observer: Annotated[list[str] | None, typer.Option(help="observing agency (repeat)")] = None,
    group: Annotated[list[str] | None, typer.Option(help="target group (repeat)")] = None,
    outlet: Annotated[list[str] | None, typer.Option(help="target outlet (repeat)")] = None,
    platform: Annotated[list[str] | None, typer.Option(help="target platform (repeat)")] = None,
    kind: Annotated[str, typer.Option(help="action_day or campaign")] = "action_day",
    notes: str = "",
) -> None:
    """Create an operation led by an agency."""
    from takedown.accounts import service as accounts
    from takedown.kit.cli import guarded, unit_of_work
    from takedown.operations import service

    @guarded
    def run() -> None:
        with unit_of_work() as session:
            who = _acting(session, lead, system=True)
            parts = [
                (accounts.find_agency(session, a).id, "participant") for a in participant or []
            ]
            parts += [(accounts.find_agency(session, a).id, "observer") for a in observer or []]
            op = service.create_operation(
                session,
                who,
                name=name,
                kind=kind,
                starts_at=_when(starts) or dt.datetime.now(dt.UTC),
                ends_at=_when(ends),
                targets={
                    "groups": group or [],
                    "outlets": outlet or [],
                    "platforms": platform or [],
                },
                notes=notes,
                participants=parts,
            )
            Console().print(f"operation {op.id} created: {op.name} ({len(parts) + 1} agencies)")

    run()


@operation_app.command("list")
def list_(
    fmt: Annotated[OutputFormat, typer.Option("--format", help="table or json")] = (
        OutputFormat.TABLE
    ),
) -> None:
    """List every operation."""
    from takedown.accounts.service import SYSTEM
    from takedown.kit.cli import unit_of_work
    from takedown.operations import service

    with unit_of_work() as session:
        rows, _ = service.list_operations(session, SYSTEM, limit=500)
        emit(
            (
                {
                    "id": o.id,
                    "name": o.name,
                    "kind": o.kind,
                    "status": o.status,
                    "starts_at": o.starts_at,
                    "ends_at": o.ends_at,
                }
                for o in rows
            ),
            ["id", "name", "kind", "status", "starts_at", "ends_at"],
            fmt,
            title="Operations",
        )


@operation_app.command("import")
def import_(
    operation_id: int,
    file: Path,
    agency: Annotated[str, typer.Option(help="the contributing agency (id or name)")],
) -> None:
    """Import an agency's file of URLs into the operation (duplicates fold; all credited)."""
    from takedown.kit.cli import guarded, unit_of_work
    from takedown.operations import service

    @guarded
    def run() -> None:
        with unit_of_work() as session, file.open("rb") as fh:
            who = _acting(session, agency, system=False)
            job, res = service.import_into(session, who, operation_id, fh, filename=file.name)
            Console().print(
                f"import {job.id}: {job.rows_ok} rows, {job.rows_bad} bad; "
                f"{res.added} items credited to the operation ({res.already} already were)"
            )

    run()


@operation_app.command("status")
def status(operation_id: int, to: Annotated[str, typer.Argument(help="running or closed")]) -> None:
    """Move an operation along planned -> running -> closed."""
    from takedown.accounts.service import SYSTEM
    from takedown.kit.cli import guarded, unit_of_work
    from takedown.operations import service

    @guarded
    def run() -> None:
        with unit_of_work() as session:
            op = service.set_status(session, SYSTEM, operation_id, to)
            Console().print(f"operation {op.id} is {op.status}")

    run()


def _write(data: bytes | str, output: Path | None) -> None:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if output is None:
        sys.stdout.buffer.write(raw)
        sys.stdout.flush()
    else:
        output.write_bytes(raw)
        Console(stderr=True).print(f"written {output} ({len(raw)} bytes)")


def _emit_report(
    rep: object, fmt: str, table: str | None, output: Path | None, pdf_name: str = "report.pdf"
) -> None:
    """Write the report; a PDF with no ``--output`` goes to ``pdf_name`` in the current
    directory (a PDF on a terminal is no use, and the README's command must just work)."""
    from takedown.operations import report

    assert isinstance(rep, report.Report)
    if fmt == "json":
        _write(report.to_json_text(rep) + "\n", output)
    elif fmt == "html":
        _write(report.render_html(rep), output)
    elif fmt == "pdf":
        _write(report.render_pdf(report.render_html(rep)), output or Path(pdf_name))
    elif fmt == "csv":
        if table in (None, "figures"):
            _write(report.figures_csv(rep), output)
        else:
            found = next((t for t in rep.tables if t.key == table), None)
            if found is None:
                keys = ", ".join(t.key for t in rep.tables)
                raise InvalidInput(f"no table {table!r}; tables: figures, {keys}")
            _write(report.table_csv(found), output)
    else:
        raise InvalidInput(f"format {fmt!r} is not one of json, html, pdf, csv")


FormatArg = Annotated[str, typer.Option("--format", help="json, html, pdf or csv")]
OutputArg = Annotated[
    Path | None,
    typer.Option(
        "--output", "-o", help="file to write (default: stdout; a PDF: operation-ID-KIND.pdf)"
    ),
]
TableArg = Annotated[str | None, typer.Option(help="with --format csv: which table")]


@operation_app.command("report")
def report_cmd(
    operation_id: int,
    fmt: FormatArg = "json",
    final: Annotated[bool, typer.Option("--final", help="the after-action report")] = False,
    output: OutputArg = None,
    table: TableArg = None,
) -> None:
    """The operation's preliminary (default) or final report."""
    from takedown.accounts.service import SYSTEM
    from takedown.kit.cli import guarded, unit_of_work
    from takedown.operations import report

    @guarded
    def run() -> None:
        with unit_of_work() as session:
            rep = report.build(session, SYSTEM, operation_id, final=final)
        kind = "final" if final else "preliminary"
        _emit_report(rep, fmt, table, output, f"operation-{operation_id}-{kind}.pdf")

    run()


@operation_app.command("transparency")
def transparency_cmd(
    year: int,
    agency: Annotated[str, typer.Option(help="the competent authority (id or name)")],
    fmt: FormatArg = "json",
    output: OutputArg = None,
    table: TableArg = None,
) -> None:
    """The authority's annual transparency report (TCO Art. 8)."""
    from takedown.kit.cli import guarded, unit_of_work
    from takedown.operations import transparency

    @guarded
    def run() -> None:
        with unit_of_work() as session:
            rep = transparency.build(session, _acting(session, agency, system=False), year)
        _emit_report(rep, fmt, table, output, f"transparency-{year}.pdf")

    run()
