"""CLI: ``authority list|set|seed``: the registry of TCO competent authorities (Art. 4)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from takedown.kit.output import OutputFormat, emit

authority_app = typer.Typer(
    help="TCO competent authorities per Member State (Annex I, Section D).", no_args_is_help=True
)
FormatOpt = Annotated[OutputFormat, typer.Option("--format", help="table or json")]
COLUMNS = ["country", "name", "contact_point", "confirmed", "updated_at"]


def register(app: typer.Typer) -> None:
    app.add_typer(authority_app, name="authority")


@authority_app.command("list")
def authority_list(fmt: FormatOpt = OutputFormat.TABLE) -> None:
    """List the authorities ("to be confirmed by the admin" where no contact is recorded)."""
    from takedown.kit.cli import guarded, unit_of_work
    from takedown.platforms import authorities
    from takedown.platforms.schemas import TcoAuthorityOut

    @guarded
    def run() -> None:
        with unit_of_work() as session:
            rows = [
                TcoAuthorityOut.model_validate(a).model_dump(mode="json")
                for a in authorities.list_authorities(session)
            ]
        if fmt is OutputFormat.TABLE:
            for row in rows:
                row["contact_point"] = row["contact_point"] or authorities.TO_CONFIRM
                row["name"] = row["name"] or "not recorded"
        emit(rows, COLUMNS, fmt, title="TCO competent authorities")

    run()


@authority_app.command("set")
def authority_set(
    country: Annotated[str, typer.Argument(help="EU Member State, ISO 3166-1 alpha-2")],
    name: Annotated[str | None, typer.Option(help="the authority's published name")] = None,
    contact: Annotated[
        str | None, typer.Option("--contact", help="contact point: e-mail or http(s) URL")
    ] = None,
    confirmed: Annotated[
        bool | None,
        typer.Option("--confirmed/--unconfirmed", help="checked against the Commission's list"),
    ] = None,
    notes: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Edit a Member State's authority (audited). Pass an empty string to clear a field."""
    from takedown.accounts.service import SYSTEM
    from takedown.kit.cli import fail, guarded, unit_of_work
    from takedown.platforms import authorities

    changes: dict[str, object] = {
        k: v
        for k, v in {
            "name": name,
            "contact_point": contact,
            "confirmed": confirmed,
            "notes": notes,
        }.items()
        if v is not None
    }

    @guarded
    def run() -> None:
        if not changes:
            fail("nothing to change: pass --name, --contact, --confirmed or --notes")
        with unit_of_work() as session:
            row = authorities.update(session, SYSTEM, country, changes)
            Console().print(f"authority of {row.country} updated: {', '.join(sorted(changes))}")

    run()


@authority_app.command("seed")
def authority_seed() -> None:
    """Add the Member States missing from the registry (never overwrites edits)."""
    from takedown.kit.cli import guarded, unit_of_work
    from takedown.platforms import authorities

    @guarded
    def run() -> None:
        with unit_of_work() as session:
            added = authorities.ensure_seeded(session)
        Console().print(f"added: {', '.join(added)}" if added else "nothing to add")

    run()
