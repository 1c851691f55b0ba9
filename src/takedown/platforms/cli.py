"""CLI: ``platform list|show|set|seed|identify`` (and ``authority``, ``authority_cli``)."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.console import Console

from takedown.kit.output import OutputFormat, emit

platform_app = typer.Typer(help="The platform registry and URL identity.", no_args_is_help=True)

FormatOpt = Annotated[OutputFormat, typer.Option("--format", help="table or json")]
COLUMNS = [
    "slug",
    "name",
    "kind",
    "country",
    "delivery_channel",
    "tco_contact_point",
    "legal_representative",
    "domains",
]


def register(app: typer.Typer) -> None:
    from takedown.platforms.authority_cli import register as authorities

    app.add_typer(platform_app, name="platform")
    authorities(app)


@platform_app.command("list")
def platform_list(
    fmt: FormatOpt = OutputFormat.TABLE,
    kind: Annotated[str | None, typer.Option(help="only this kind, e.g. file_host")] = None,
) -> None:
    """List the platforms."""
    from takedown.kit.cli import guarded, unit_of_work
    from takedown.platforms import service
    from takedown.platforms.schemas import PlatformOut

    @guarded
    def run() -> None:
        with unit_of_work() as session:
            rows, _ = service.list_platforms(session, kind=kind)
            out = [PlatformOut.model_validate(p).model_dump(mode="json") for p in rows]
        if fmt is OutputFormat.TABLE:
            for row in out:
                row["domains"] = ", ".join(row["domains"])
            emit(out, COLUMNS, fmt, title="Platforms")
        else:
            emit(out, COLUMNS, fmt)

    run()


@platform_app.command("show")
def platform_show(slug: str) -> None:
    """Show one platform's full record as JSON."""
    from takedown.kit.cli import guarded, unit_of_work
    from takedown.platforms import service
    from takedown.platforms.schemas import PlatformOut

    @guarded
    def run() -> None:
        with unit_of_work() as session:
            data = PlatformOut.model_validate(service.get(session, slug)).model_dump(mode="json")
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")

    run()


@platform_app.command("set")
def platform_set(
    slug: str,
    tco_contact: Annotated[
        str | None, typer.Option("--tco-contact", help="TCO contact point: e-mail or URL")
    ] = None,
    legal_rep: Annotated[
        str | None, typer.Option("--legal-rep", help="legal representative in the EU")
    ] = None,
    country: Annotated[str | None, typer.Option(help="ISO 3166-1 alpha-2")] = None,
    delivery: Annotated[
        str | None, typer.Option("--delivery", help="api, email, portal or export")
    ] = None,
    api_endpoint: Annotated[str | None, typer.Option("--api-endpoint")] = None,
    notes: Annotated[str | None, typer.Option()] = None,
    name: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Edit a platform's record (audited). Pass an empty string to clear a field."""
    from takedown.accounts.service import SYSTEM
    from takedown.kit.cli import fail, guarded, unit_of_work
    from takedown.platforms import service

    changes = {
        k: v
        for k, v in {
            "tco_contact_point": tco_contact,
            "legal_representative": legal_rep,
            "country": country,
            "delivery_channel": delivery,
            "api_endpoint": api_endpoint,
            "notes": notes,
            "name": name,
        }.items()
        if v is not None
    }

    @guarded
    def run() -> None:
        if not changes:
            fail("nothing to change: pass --tco-contact, --legal-rep, --country, ...")
        with unit_of_work() as session:
            p = service.update(session, SYSTEM, slug, changes)
            Console().print(f"platform {p.slug} updated: {', '.join(sorted(changes))}")

    run()


@platform_app.command("seed")
def platform_seed() -> None:
    """Add the shipped platforms that are missing (never overwrites edits)."""
    from takedown.kit.cli import guarded, unit_of_work
    from takedown.platforms.seed import ensure_seeded

    @guarded
    def run() -> None:
        with unit_of_work() as session:
            added = ensure_seeded(session)
        Console().print(f"added: {', '.join(added)}" if added else "nothing to add")

    run()


@platform_app.command("identify")
def platform_identify(urls: list[str], fmt: FormatOpt = OutputFormat.TABLE) -> None:
    """Show the item identity of each URL (no database needed)."""
    from takedown.platforms.identity import InvalidURL, canonicalize

    rows: list[dict[str, str | None]] = []
    for url in urls:
        try:
            ident = canonicalize(url)
        except InvalidURL as exc:
            rows.append({"url": url, "identity": None, "error": exc.detail})
            continue
        rows.append(
            {
                "url": url,
                "identity": ident.identity,
                "kind": ident.kind.value,
                "parent": ident.parent_key,
                "canonical_url": ident.canonical_url,
                "fetch_url": ident.fetch_url,
                "error": None,
            }
        )
    emit(rows, ["url", "identity", "kind", "parent", "canonical_url", "error"], fmt)
    if any(r["error"] for r in rows):
        raise typer.Exit(1)
