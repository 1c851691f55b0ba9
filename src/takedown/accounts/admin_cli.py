"""CLI: ``user reset-password``, ``agency edit|deactivate|activate`` (run as the system:
the operator on the server acts across agencies)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from takedown.accounts import admin, service
from takedown.accounts.service import SYSTEM

_registered: set[int] = set()


def register(agency_app: typer.Typer, user_app: typer.Typer) -> None:
    """Add these commands to the ``agency`` and ``user`` groups (once per group)."""
    if id(agency_app) in _registered:
        return
    _registered.add(id(agency_app))
    agency_app.command("edit")(agency_edit)
    agency_app.command("deactivate")(agency_deactivate)
    agency_app.command("activate")(agency_activate)
    user_app.command("reset-password")(user_reset_password)


def user_reset_password(user: Annotated[str, typer.Argument(help="user id or e-mail")]) -> None:
    """Give a user a new random password (printed once); they must change it at the next
    login, and their open browser sessions end."""
    from takedown.kit.cli import guarded, unit_of_work

    @guarded
    def run() -> None:
        with unit_of_work() as session:
            u = service.find_user(session, user)
            reset = admin.reset_password(session, SYSTEM, u.id)
            Console().print(
                f"password of {u.email} reset; {reset.sessions_ended} session(s) ended.\n"
                f"new password (shown once; they must change it at the next login): "
                f"{reset.password}",
                highlight=False,
            )

    run()


def agency_edit(
    agency: Annotated[str, typer.Argument(help="agency id or name")],
    name: Annotated[str | None, typer.Option(help="new name")] = None,
    country: Annotated[str | None, typer.Option(help="ISO 3166-1 alpha-2, e.g. FR")] = None,
    contact: Annotated[str | None, typer.Option(help="contact point (e-mail or phone)")] = None,
) -> None:
    """Change an agency's name, country or contact point."""
    from takedown.kit.cli import guarded, unit_of_work

    if name is None and country is None and contact is None:
        raise typer.BadParameter("give --name, --country or --contact")

    @guarded
    def run() -> None:
        with unit_of_work() as session:
            ag = service.find_agency(session, agency)
            a = admin.update_agency(
                session, SYSTEM, ag.id, name=name, country=country, contact_point=contact
            )
            Console().print(
                f"agency {a.id}: {a.name} ({a.country}), contact {a.contact_point or '-'}",
                highlight=False,
            )

    run()


def _set_active(agency: str, active: bool) -> None:
    from takedown.kit.cli import guarded, unit_of_work

    @guarded
    def run() -> None:
        with unit_of_work() as session:
            ag = service.find_agency(session, agency)
            a = admin.set_agency_active(session, SYSTEM, ag.id, active)
            state = "active" if a.is_active else "deactivated: its users can no longer log in"
            Console().print(f"agency {a.id} ({a.name}) {state}", highlight=False)

    run()


def agency_deactivate(agency: Annotated[str, typer.Argument(help="agency id or name")]) -> None:
    """Deactivate an agency: its users can no longer log in or use their API tokens."""
    _set_active(agency, False)


def agency_activate(agency: Annotated[str, typer.Argument(help="agency id or name")]) -> None:
    """Reactivate a deactivated agency."""
    _set_active(agency, True)
