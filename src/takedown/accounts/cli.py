"""CLI: ``agency add|list``, ``user add|list|set-role|deactivate|activate``, ``token create``."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer
from rich.console import Console

from takedown.accounts import repository, service
from takedown.accounts.service import SYSTEM
from takedown.kit.output import OutputFormat, emit

agency_app = typer.Typer(
    help="Agencies (IRUs, authorities, coordinators, platforms, NGOs).", no_args_is_help=True
)
user_app = typer.Typer(help="Users and their roles.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)

FormatOpt = Annotated[OutputFormat, typer.Option("--format", help="table or json")]


def register(app: typer.Typer) -> None:
    from takedown.accounts import admin_cli

    admin_cli.register(agency_app, user_app)
    app.add_typer(agency_app, name="agency")
    app.add_typer(user_app, name="user")
    app.add_typer(token_app, name="token")


@agency_app.command("add")
def agency_add(
    name: str,
    country: Annotated[str, typer.Option(help="ISO 3166-1 alpha-2, e.g. FR")],
    kind: Annotated[
        str, typer.Option(help="national_iru, competent_authority, coordinator, platform or ngo")
    ] = "national_iru",
    contact: Annotated[str, typer.Option(help="contact point (e-mail or phone)")] = "",
    platform: Annotated[str | None, typer.Option(help="platform slug, for kind=platform")] = None,
) -> None:
    """Add an agency."""
    from takedown.kit.cli import guarded, unit_of_work

    @guarded
    def run() -> None:
        with unit_of_work() as session:
            a = service.create_agency(
                session,
                SYSTEM,
                name=name,
                country=country,
                kind=kind,
                contact_point=contact,
                platform_slug=platform,
            )
            Console().print(f"agency {a.id} added: {a.name} ({a.country}, {a.kind})")

    run()


@agency_app.command("list")
def agency_list(fmt: FormatOpt = OutputFormat.TABLE, limit: int = 500) -> None:
    """List agencies."""
    from takedown.kit.cli import unit_of_work

    with unit_of_work() as session:
        rows, _ = repository.list_agencies(session, limit=limit, offset=0)
        emit(
            (
                {
                    "id": a.id,
                    "name": a.name,
                    "country": a.country,
                    "kind": a.kind,
                    "contact_point": a.contact_point,
                    "platform": a.platform_slug,
                }
                for a in rows
            ),
            ["id", "name", "country", "kind", "contact_point", "platform"],
            fmt,
            title="Agencies",
        )


@user_app.command("add")
def user_add(
    email: str,
    agency: Annotated[str, typer.Option(help="agency id or name")],
    role: Annotated[str, typer.Option(help="analyst, supervisor, admin or liaison")] = "analyst",
    name: Annotated[str, typer.Option(help="display name")] = "",
    password: Annotated[str | None, typer.Option(help="password (prompted if omitted)")] = None,
    totp: Annotated[bool, typer.Option(help="enable TOTP and print its secret")] = False,
) -> None:
    """Add a user."""
    from takedown.kit.cli import guarded, unit_of_work

    pw = password or getpass.getpass("password: ")

    @guarded
    def run() -> None:
        with unit_of_work() as session:
            ag = service.find_agency(session, agency)
            u = service.create_user(
                session,
                SYSTEM,
                agency_id=ag.id,
                email=email,
                role=role,
                password=pw,
                display_name=name,
            )
            Console().print(f"user {u.id} added: {u.email} ({u.role}) in {ag.name}")
            if totp:
                secret = service.enable_totp(session, SYSTEM, u.id)
                Console().print(f"TOTP secret (shown once): {secret}")

    run()


@user_app.command("list")
def user_list(
    fmt: FormatOpt = OutputFormat.TABLE,
    agency: Annotated[str | None, typer.Option(help="agency id or name")] = None,
    limit: int = 500,
) -> None:
    """List users."""
    from takedown.kit.cli import guarded, unit_of_work

    @guarded
    def run() -> None:
        with unit_of_work() as session:
            agency_id = service.find_agency(session, agency).id if agency else None
            rows, _ = repository.list_users(session, agency_id=agency_id, limit=limit, offset=0)
            emit(
                (
                    {
                        "id": u.id,
                        "email": u.email,
                        "role": u.role,
                        "agency_id": u.agency_id,
                        "active": u.is_active,
                        "totp": bool(u.totp_secret),
                    }
                    for u in rows
                ),
                ["id", "email", "role", "agency_id", "active", "totp"],
                fmt,
                title="Users",
            )

    run()


@user_app.command("set-role")
def user_set_role(
    user: Annotated[str, typer.Argument(help="the user's e-mail or id")],
    role: Annotated[str, typer.Argument(help="analyst, supervisor, admin or liaison")],
) -> None:
    """Change a user's role (audited)."""
    from takedown.kit.cli import guarded, unit_of_work

    @guarded
    def run() -> None:
        with unit_of_work() as session:
            u = service.set_role(session, SYSTEM, service.find_user(session, user).id, role)
            Console().print(f"user {u.id} ({u.email}) is now {u.role}")

    run()


def _set_active(user: str, active: bool) -> None:
    from takedown.kit.cli import guarded, unit_of_work

    @guarded
    def run() -> None:
        with unit_of_work() as session:
            u = service.set_active(session, SYSTEM, service.find_user(session, user).id, active)
            word = "active" if u.is_active else "deactivated (no login, tokens refused)"
            Console().print(f"user {u.id} ({u.email}) is {word}")

    run()


@user_app.command("deactivate")
def user_deactivate(
    user: Annotated[str, typer.Argument(help="the user's e-mail or id")],
) -> None:
    """Deactivate a user: they cannot log in, and their API tokens stop working."""
    _set_active(user, False)


@user_app.command("activate")
def user_activate(
    user: Annotated[str, typer.Argument(help="the user's e-mail or id")],
) -> None:
    """Reactivate a deactivated user."""
    _set_active(user, True)


@token_app.command("create")
def token_create(
    email: Annotated[str, typer.Argument(help="the user's e-mail")],
    name: Annotated[str, typer.Option(help="what the token is for")] = "cli",
    scope: Annotated[list[str] | None, typer.Option(help="scope (repeatable); default *")] = None,
    days: Annotated[int, typer.Option(help="days until it expires")] = 90,
) -> None:
    """Create an API token (printed once; only its hash is stored)."""
    from takedown.kit.cli import guarded, unit_of_work
    from takedown.kit.errors import NotFound

    @guarded
    def run() -> None:
        with unit_of_work() as session:
            user = repository.user_by_email(session, email)
            if user is None:
                raise NotFound(f"no user with e-mail {email!r}")
            issued = service.create_token(
                session,
                SYSTEM,
                user_id=user.id,
                name=name,
                scopes=scope or ["*"],
                expires_in_days=days,
            )
            typer.echo(issued.token)

    run()
