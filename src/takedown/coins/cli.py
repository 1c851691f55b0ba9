"""CLI: ``takedown coins extract FILE``, ``coins classify FILE``, ``coins watch …``,
``coins trace ADDRESS``, ``coins labels import FILE``."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from takedown.accounts.models import Role
from takedown.accounts.principal import Principal
from takedown.kit.errors import InvalidInput
from takedown.kit.output import OutputFormat, emit

coins_app = typer.Typer(
    help="Cryptocurrency addresses: extract, classify listings, watch, trace.",
    no_args_is_help=True,
)
watch_app = typer.Typer(help="Watch lists of your agency.", no_args_is_help=True)
labels_app = typer.Typer(help="Known services (mixers, exchanges).", no_args_is_help=True)
coins_app.add_typer(watch_app, name="watch")
coins_app.add_typer(labels_app, name="labels")

Fmt = Annotated[OutputFormat, typer.Option("--format", help="table or json")]
Agency = Annotated[str, typer.Option(help="acting agency (id or name)")]
MAX_FILE = 256 * 1024 * 1024


def register(app: typer.Typer) -> None:
    app.add_typer(coins_app, name="coins")


def _acting(session: object, agency: str) -> Principal:
    from sqlalchemy.orm import Session

    from takedown.accounts import service as accounts

    assert isinstance(session, Session)
    ag = accounts.find_agency(session, agency)
    return Principal(user_id=0, agency_id=ag.id, role=Role.SUPERVISOR, via="cli")


def _read(path: Path) -> str:
    if str(path) == "-":
        return sys.stdin.read()
    if not path.is_file():
        raise InvalidInput(f"{path}: no such file")
    if path.stat().st_size > MAX_FILE:
        raise InvalidInput(f"{path}: larger than {MAX_FILE} bytes")
    return path.read_bytes().decode("utf-8", "replace")


@coins_app.command("extract")
def extract_cmd(
    file: Annotated[Path, typer.Argument(help="a text file, or - for standard input")],
    fmt: Fmt = OutputFormat.TABLE,
    record: Annotated[
        str | None, typer.Option(help="also record the sightings for this agency")
    ] = None,
) -> None:
    """Print every address in FILE whose checksum passes (defanged and split forms too)."""
    from takedown.kit.cli import guarded

    @guarded
    def run() -> None:
        from takedown.coins.extract import extract

        text = _read(file)
        found = extract(text)
        if record:
            from takedown.coins import service
            from takedown.coins.models import SightingSource
            from takedown.kit.cli import unit_of_work

            with unit_of_work() as session:
                who = _acting(session, record)
                src = service.Source(SightingSource.TEXT, f"file:{file.name}")
                service.observe_text(session, who.agency_id, text, src, found=found)
        emit(
            (
                {
                    "kind": f.kind,
                    "address": f.address,
                    "script": f.script,
                    "form": f.form,
                    "asset": f.asset or "",
                    "offset": f.start,
                }
                for f in found
            ),
            ["kind", "address", "script", "form", "asset", "offset"],
            fmt,
            title=f"{len(found)} address(es) in {file}",
        )

    run()


@coins_app.command("classify")
def classify_cmd(
    file: Annotated[Path, typer.Argument(help="a listing, post or page text, or -")],
    fmt: Fmt = OutputFormat.TABLE,
) -> None:
    """The categories of a listing text and the words that decided."""
    from takedown.kit.cli import guarded

    @guarded
    def run() -> None:
        from takedown.coins.classify import classify

        r = classify(_read(file))
        if fmt is OutputFormat.JSON:
            json.dump(r.as_dict(), sys.stdout, ensure_ascii=False, indent=2)
            sys.stdout.write("\n")
            return
        Console().print(f"categories: {', '.join(r.categories)} (language: {r.language or '?'})")
        for h in r.highlights[:30]:
            Console().print(f"  {h.category}: {h.term!r} at {h.start}")

    run()


@watch_app.command("create")
def watch_create(
    name: str,
    agency: Agency,
    tlp: Annotated[str, typer.Option(help="clear, green, amber, amber+strict, red")] = "amber",
    description: str = "",
) -> None:
    """Create a watch list."""
    from takedown.coins import watch
    from takedown.kit.cli import guarded, unit_of_work

    @guarded
    def run() -> None:
        with unit_of_work() as session:
            wl = watch.create_list(
                session, _acting(session, agency), name, tlp=tlp, description=description
            )
            Console().print(f"watch list {wl.id} created: {wl.name} (TLP:{wl.tlp.upper()})")

    run()


@watch_app.command("add")
def watch_add(
    watch_list: Annotated[str, typer.Argument(help="list id or name")],
    address: str,
    agency: Agency,
    label: str = "",
) -> None:
    """Add an address (its checksum must pass)."""
    from takedown.coins import watch
    from takedown.kit.cli import guarded, unit_of_work

    @guarded
    def run() -> None:
        with unit_of_work() as session:
            who = _acting(session, agency)
            wl = watch.find_list(session, who, watch_list)
            e = watch.add_entry(session, who, wl.id, address, label=label)
            Console().print(f"{e.kind} {e.address} added to {wl.name}")

    run()


@watch_app.command("list")
def watch_list_cmd(agency: Agency, fmt: Fmt = OutputFormat.TABLE) -> None:
    """Every watched address of the agency, with what its last trace found."""
    from takedown.coins import watch
    from takedown.kit.cli import guarded, unit_of_work

    @guarded
    def run() -> None:
        with unit_of_work() as session:
            who = _acting(session, agency)
            rows = []
            for wl in watch.lists(session, who):
                for e in watch.entries(session, who, wl.id):
                    rows.append(
                        {
                            "list": wl.name,
                            "tlp": wl.tlp,
                            "kind": e.kind,
                            "address": e.address,
                            "label": e.label,
                            "received": e.received,
                            "balance": e.balance,
                            "last_traced": e.last_traced_at,
                        }
                    )
            emit(
                rows,
                ["list", "tlp", "kind", "address", "label", "received", "balance", "last_traced"],
                fmt,
            )

    run()


@watch_app.command("trace")
def watch_trace(agency: Agency, fmt: Fmt = OutputFormat.TABLE) -> None:
    """Trace every watched address the chain API can trace; print the new alerts."""
    from takedown.coins import watch
    from takedown.coins.trace.registry import open_chain
    from takedown.kit.cli import guarded, settings, unit_of_work

    @guarded
    def run() -> None:
        s = settings()
        with unit_of_work() as session, open_chain(s) as api:
            who = _acting(session, agency)
            outs = watch.trace_all(
                session, who, api, hops=s.coins_trace_hops, max_txs=s.coins_trace_max_txs
            )
            emit(
                (
                    {"address": a.address, "rule": a.rule, "detail": json.dumps(a.detail)[:120]}
                    for o in outs
                    for a in o.alerts
                ),
                ["address", "rule", "detail"],
                fmt,
                title=f"{len(outs)} address(es) traced",
            )

    run()


@coins_app.command("trace")
def trace_cmd(
    address: str,
    agency: Agency,
    hops: Annotated[int, typer.Option(min=1, max=4)] = 1,
    fmt: Fmt = OutputFormat.TABLE,
) -> None:
    """Balance, received, first and last activity and counterparties of ADDRESS.

    The chain API learns which address you asked about: use a self-hosted one or Tor.
    """
    from takedown.coins import watch
    from takedown.coins.trace.registry import open_chain
    from takedown.kit.cli import guarded, settings, unit_of_work

    @guarded
    def run() -> None:
        s = settings()
        with unit_of_work() as session, open_chain(s) as api:
            out = watch.trace_address(
                session,
                _acting(session, agency),
                api,
                address,
                hops=hops,
                max_txs=s.coins_trace_max_txs,
            )
            summary = out.record.summary
            if fmt is OutputFormat.JSON:
                json.dump(
                    {"address": out.record.address, "summary": summary, "graph": out.record.graph},
                    sys.stdout,
                    indent=2,
                )
                sys.stdout.write("\n")
                return
            c = Console()
            c.print(f"{out.record.address} ({out.record.kind})")
            for k in ("balance", "received", "sent", "tx_count", "first_activity", "last_activity"):
                c.print(f"  {k}: {summary.get(k)}")
            emit(
                (
                    {
                        "from": e["source"],
                        "to": e["target"],
                        "value": e["value"],
                        "txs": e["txs"],
                    }
                    for e in out.record.graph.get("edges", [])
                ),
                ["from", "to", "value", "txs"],
                OutputFormat.TABLE,
                title="counterparties",
            )

    run()


@labels_app.command("import")
def labels_import(
    file: Annotated[Path, typer.Argument(help="CSV with columns address,category,name[,source]")],
    agency: Annotated[
        str | None, typer.Option(help="the agency's own list (default: the shared list)")
    ] = None,
) -> None:
    """Import known services; a bad row is reported and skipped, the good rows are kept."""
    from takedown.coins import watch
    from takedown.kit.cli import guarded, unit_of_work

    @guarded
    def run() -> None:
        text = _read(file)
        ok = bad = 0
        with unit_of_work() as session:
            who = _acting(session, agency) if agency else None
            for n, row in enumerate(csv.DictReader(text.splitlines()), start=2):
                try:
                    with session.begin_nested():
                        watch.add_label(
                            session,
                            who,
                            (row.get("address") or "").strip(),
                            (row.get("category") or "").strip(),
                            name=(row.get("name") or "").strip(),
                            source=(row.get("source") or file.name).strip(),
                            shared=who is None,
                        )
                    ok += 1
                except InvalidInput as exc:
                    bad += 1
                    Console(stderr=True).print(f"{file}:{n}: {exc}")
        Console().print(f"{ok} label(s) imported, {bad} row(s) refused")

    run()
