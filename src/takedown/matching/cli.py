"""CLI: ``hash FILE``, ``match FILE|HASH``, ``bank list|create|import|export``."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from takedown.kit.output import OutputFormat, emit
from takedown.matching.engine import MatchingEngine
from takedown.matching.schemas import MatchReport

bank_app = typer.Typer(help="Banks of known content.", no_args_is_help=True)
_HEX = re.compile(r"^(?:(?P<type>[a-z0-9_]+):)?(?P<hex>[0-9a-fA-F]+)$")

FormatOpt = Annotated[OutputFormat, typer.Option("--format", help="table or json")]


def register(app: typer.Typer) -> None:
    app.command("hash")(hash_cmd)
    app.command("match")(match_cmd)
    app.add_typer(bank_app, name="bank")


def _engine() -> MatchingEngine:
    from takedown.kit.cli import settings
    from takedown.matching.engine import get_engine

    return get_engine(settings().data_dir)


def hash_cmd(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Hash a file: SHA-256, MD5, and PDQ (with variants), frame-PDQ or SimHash as it applies."""
    from takedown.kit.cli import guarded
    from takedown.matching.models import DERIVED_TYPES
    from takedown.matching.service import hash_media

    def run() -> None:
        kind, hashes = hash_media(file, query=False)
        rows = [
            {
                # The same keys as ``bank import`` reads: the JSON output imports as it is.
                "signal_type": h.signal_type,
                "variant": h.variant,
                "value": h.value,
                "quality": h.quality,
                "usable": h.usable,
                "t": h.extra.get("t"),
            }
            for h in hashes
            # Derived signals (the inner-region PDQ) are the bank's own, never imported.
            if h.signal_type not in DERIVED_TYPES
        ]
        emit(
            rows,
            ["signal_type", "variant", "quality", "usable", "t", "value"],
            fmt,
            title=f"{file.name} ({kind})",
        )

    guarded(run)()


#: A bare value of this many hex digits can only be one type; 64 digits cannot (PDQ or SHA-256).
_UNAMBIGUOUS = {32: "md5", 16: "text_simhash"}


def _parse_hash(text: str, signal_type: str | None) -> tuple[str, str] | None:
    m = _HEX.match(text.strip())
    if not m:
        return None
    value = m.group("hex").lower()
    stype = signal_type or m.group("type")
    if stype is None and len(value) == 64:
        from takedown.kit.errors import InvalidInput

        raise InvalidInput(
            "64 hex digits may be a PDQ hash or a SHA-256: say which, as pdq:<hex> or "
            "sha256:<hex>, or with --type pdq|sha256"
        )
    if stype is None:
        stype = _UNAMBIGUOUS.get(len(value))
    return (stype, value) if stype else None


def _print_report(report: MatchReport, fmt: OutputFormat) -> None:
    if fmt is OutputFormat.JSON:
        sys.stdout.write(report.model_dump_json(indent=2) + "\n")
        return
    rows = [
        {
            "bank": m.bank_name,
            "signal": m.signal_id,
            "type": m.signal_type,
            "distance": m.distance,
            "variant": m.variant,
            "labels": ", ".join(f"{k}={v}" for k, v in m.labels.items()),
            "source": m.source,
            "external_id": m.external_id or "",
            "fraction": m.fraction,
        }
        for m in report.matches
    ]
    con = Console(stderr=True)
    if rows:
        emit(
            rows,
            ["bank", "signal", "type", "distance", "variant", "labels", "source", "external_id",
             "fraction"],
            fmt,
            title="matches",
        )  # fmt: skip
    else:
        con.print("no match")
    if report.no_usable_hash:
        con.print(
            "[yellow]no usable perceptual hash (quality below 50): only exact hashes checked[/]"
        )
    if report.suppressed:
        names = ", ".join(sorted({m.bank_name for m in report.allowed_by}))
        con.print(
            f"[yellow]{len(report.suppressed)} match(es) suppressed by allow-list: {names}[/]"
        )


def match_cmd(
    target: Annotated[str, typer.Argument(help="a file, or a hash such as pdq:<64 hex>")],
    signal_type: Annotated[str | None, typer.Option("--type", help="signal type of a hash")] = None,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Match a file or a hash against every bank on this instance. Exits 1 on no match."""
    from takedown.kit.cli import guarded, unit_of_work
    from takedown.matching import service

    def run() -> None:
        engine = _engine()
        path = Path(target)
        with unit_of_work() as session:
            if path.is_file():
                report = service.match_media(session, None, path, engine=engine)
            else:
                parsed = _parse_hash(target, signal_type)
                if parsed is None:
                    from takedown.kit.errors import InvalidInput

                    raise InvalidInput(f"{target!r} is neither a file nor a hash")
                report = service.match_value(session, None, parsed[0], parsed[1], engine=engine)
        _print_report(report, fmt)
        if not report.matches:
            raise typer.Exit(1)  # as grep does: a miss is not a success

    guarded(run)()


@bank_app.command("list")
def bank_list(fmt: FormatOpt = OutputFormat.TABLE) -> None:
    """Every bank on this instance, with its owner, TLP and enabled signal count; ``stale``:
    derived signals an older version made (adding the bank's media again renews them)."""
    from takedown.kit.cli import guarded, unit_of_work
    from takedown.matching import service

    def run() -> None:
        with unit_of_work() as session:
            banks = service.list_banks(session, None)
            counts = service.signal_counts(session, banks)
            stale = service.stale_counts(session, banks)
            rows = [
                {
                    "id": b.id,
                    "name": b.name,
                    "agency_id": b.agency_id,
                    "kind": b.kind,
                    "tlp": b.tlp,
                    "shared": b.shared,
                    "signals": counts.get(b.id, 0),
                    "stale": stale.get(b.id, 0),
                    "thresholds": json.dumps(b.thresholds or {}),
                }
                for b in banks
            ]
        emit(
            rows,
            ["id", "name", "agency_id", "kind", "tlp", "shared", "signals", "stale", "thresholds"],
            fmt,
            title="banks",
        )

    guarded(run)()


@bank_app.command("create")
def bank_create(
    name: str,
    agency: Annotated[int, typer.Option(help="id of the owning agency")],
    kind: Annotated[str, typer.Option(help="known or allow")] = "known",
    tlp: Annotated[str, typer.Option(help="CLEAR, GREEN, AMBER, AMBER+STRICT or RED")] = "AMBER",
    shared: Annotated[bool, typer.Option(help="share with the instance's other agencies")] = False,
    pdq_threshold: Annotated[int | None, typer.Option(help="PDQ distance threshold")] = None,
) -> None:
    """Create a bank owned by an agency."""
    from takedown.accounts.service import SYSTEM
    from takedown.kit.cli import guarded, unit_of_work
    from takedown.matching import service
    from takedown.matching.schemas import BankCreate

    def run() -> None:
        thresholds = {} if pdq_threshold is None else {"pdq": pdq_threshold}
        try:
            data = BankCreate.model_validate(
                {
                    "name": name,
                    "kind": kind,
                    "tlp": tlp,
                    "shared": shared,
                    "thresholds": thresholds,
                }
            )
        except ValueError as exc:
            from takedown.kit.errors import InvalidInput

            raise InvalidInput(str(exc).splitlines()[-1]) from None
        with unit_of_work() as session:
            bank = service.create_bank(session, SYSTEM, data, agency_id=agency)
            Console().print(f"created bank {bank.id} ({bank.name})")

    guarded(run)()


@bank_app.command("import")
def bank_import(
    bank_id: int,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    fmt: Annotated[str, typer.Option("--format", help="csv, json or tat")] = "",
    progress: Annotated[bool, typer.Option(help="show a progress bar")] = True,
) -> None:
    """Import signals (CSV, JSON, or a Tech Against Terrorism hash list) into a bank."""
    from takedown.accounts.service import SYSTEM
    from takedown.kit.cli import fail, guarded, unit_of_work
    from takedown.kit.progress import rich_progress
    from takedown.matching import io as bank_io

    def run() -> None:
        kind = fmt or ("csv" if file.suffix.lower() == ".csv" else "json")
        data = file.read_bytes()
        with (
            unit_of_work() as session,
            rich_progress(f"importing {file.name}", enabled=progress) as sink,
        ):
            report = bank_io.import_signals(session, SYSTEM, bank_id, data, kind, progress=sink)
        Console().print(
            f"added {report.added}, updated {report.updated}, disabled {report.disabled}, "
            f"unchanged {report.unchanged}, errors {len(report.errors)}"
        )
        for e in report.errors[:20]:
            Console(stderr=True).print(f"  row {e['row']}: {e['error']}", highlight=False)
        if not (report.added or report.updated or report.disabled or report.unchanged):
            if not report.errors:
                fail(f"nothing was imported: {file.name} holds no signals")
            first = report.errors[0]
            fail(
                f"nothing was imported: all {len(report.errors)} row(s) failed "
                f"(first: row {first['row']}: {first['error']})"
            )

    guarded(run)()


@bank_app.command("add")
def bank_add(
    bank_id: int,
    files: Annotated[
        list[Path], typer.Argument(exists=True, dir_okay=False, readable=True, help="media files")
    ],
    label: Annotated[
        list[str] | None,
        typer.Option(help="a label as key=value (group, outlet, content_type...); repeatable"),
    ] = None,
    source: Annotated[str, typer.Option(help="where the files come from")] = "",
    progress: Annotated[bool, typer.Option(help="show a progress bar")] = True,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Hash image or video files the way matching does (the original and its derived signals)
    and add their signals to a bank. A file that cannot be read is reported; the others go in.
    Adding a file again renews derived signals an older version made (``bank list``: stale)."""
    from takedown.accounts.service import SYSTEM
    from takedown.kit.cli import fail, guarded, unit_of_work
    from takedown.kit.errors import InvalidInput
    from takedown.kit.progress import rich_progress
    from takedown.matching import io as bank_io
    from takedown.matching.schemas import Labels

    def run() -> None:
        pairs = {}
        for one in label or []:
            key, sep, value = one.partition("=")
            if not sep or not key.strip():
                raise InvalidInput(f"a label is key=value, not {one!r}")
            pairs[key.strip()] = value.strip()
        try:
            labels = Labels(**pairs)
        except ValueError as exc:
            raise InvalidInput(str(exc).splitlines()[-1]) from None
        engine = _engine()
        with (
            unit_of_work() as session,
            rich_progress(
                "hashing and adding", total=len(files), enabled=progress,
                console=Console(stderr=True),
            ) as sink,
        ):  # fmt: skip
            added = bank_io.add_media_files(
                session, SYSTEM, bank_id, ((p.name, p) for p in files),
                labels=labels, source=source, engine=engine, progress=sink,
            )  # fmt: skip
        rows = [
            {
                "file": a.file,
                "signals": len(a.signals),
                "ids": ",".join(str(s.id) for s in a.signals),
                "error": a.error or "",
            }
            for a in added
        ]
        emit(rows, ["file", "signals", "ids", "error"], fmt, title=f"bank {bank_id}")
        if all(a.error for a in added):
            fail(f"nothing was added: none of the {len(files)} file(s) could be hashed")

    guarded(run)()


@bank_app.command("export")
def bank_export(
    bank_id: int,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="file to write (default stdout)")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="csv or json")] = "json",
) -> None:
    """Export a bank's signals (labels, TLP, provenance and enabled flag included)."""
    from takedown.accounts.service import SYSTEM
    from takedown.kit.cli import guarded, unit_of_work
    from takedown.matching import io as bank_io

    def run() -> None:
        with unit_of_work() as session:
            data, _ = bank_io.export_signals(session, SYSTEM, bank_id, fmt)
        if out is None:
            sys.stdout.write(data.decode())
        else:
            out.write_bytes(data)

    guarded(run)()
