"""CLI ``takedown refer ...``: build, approve, render and deliver referral batches.

Commands act as a named user (``--user EMAIL``): the four-eyes rule needs
to know who authored and who approved.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from takedown.items.repository import ItemFilters
from takedown.kit.output import OutputFormat, emit

refer_app = typer.Typer(help="Referrals and TCO removal orders.", no_args_is_help=True)
out = Console()


def register(app: typer.Typer) -> None:
    app.add_typer(refer_app, name="refer")


@refer_app.command("create")
def create(
    user: Annotated[str, typer.Option(help="author (e-mail)")],
    kind: Annotated[str, typer.Option(help="tos or removal_order")] = "tos",
    item: Annotated[list[int] | None, typer.Option("--item", help="item id (repeatable)")] = None,
    platform: Annotated[
        str | None, typer.Option(help="every assessed item of this platform")
    ] = None,
    reason: Annotated[
        list[str] | None, typer.Option("--reason", help="Art. 2(7) letter a-e")
    ] = None,
    justification: Annotated[str, typer.Option(help="why (removal orders)")] = "",
    emergency: Annotated[bool, typer.Option(help="skip the 12-hour notice")] = False,
    channel: Annotated[str | None, typer.Option(help="api, email, portal or export")] = None,
    submit: Annotated[bool, typer.Option(help="submit at once")] = False,
    fmt: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.TABLE,
) -> None:
    """Build draft batches (one per platform) from items; held and duplicates are listed."""
    from takedown.items import service as items_service
    from takedown.items.cli import acting_as
    from takedown.kit.cli import guarded, unit_of_work
    from takedown.kit.errors import InvalidInput
    from takedown.referrals import service

    @guarded
    def run() -> None:
        with unit_of_work() as session:
            principal = acting_as(session, None, user)
            ids = list(item or [])
            if platform:
                rows, _ = items_service.list_items(
                    session, principal, ItemFilters(status=["assessed"], platform=platform),
                    limit=50_000,
                )  # fmt: skip
                ids += [r.id for r in rows]
            if not ids:
                raise InvalidInput("no items: give --item ID or --platform SLUG")
            results = service.create_batches(
                session, principal, item_ids=ids, kind=kind, reasons=reason or [],
                justification=justification, emergency=emergency, channel=channel,
            )  # fmt: skip
            rows_out = []
            for r in results:
                if submit and r.included:
                    service.submit(session, principal, r.referral.id)
                for i in r.items:
                    ref = r.referral
                    rows_out.append({"referral": ref.reference, "platform": ref.platform,
                                     "status": ref.status, "item": i.item_id, "state": i.state,
                                     "detail": i.detail})  # fmt: skip
        emit(rows_out, ["referral", "platform", "status", "item", "state", "detail"], fmt,
             title="referral batches")  # fmt: skip

    run()


def _act(action: str, referral_id: int, user: str) -> None:
    from takedown.items.cli import acting_as
    from takedown.kit.cli import guarded, unit_of_work
    from takedown.referrals import service

    @guarded
    def run() -> None:
        with unit_of_work() as session:
            principal = acting_as(session, None, user)
            ref = getattr(service, action)(session, principal, referral_id)
            out.print(f"{ref.reference}: {ref.status}")

    run()


@refer_app.command("submit")
def submit_cmd(referral_id: int, user: Annotated[str, typer.Option()]) -> None:
    """Submit a draft: a ToS referral is queued; an order goes to a supervisor."""
    _act("submit", referral_id, user)


@refer_app.command("approve")
def approve_cmd(referral_id: int, user: Annotated[str, typer.Option()]) -> None:
    """Approve a removal order (a supervisor other than its author)."""
    _act("approve", referral_id, user)


@refer_app.command("cancel")
def cancel_cmd(referral_id: int, user: Annotated[str, typer.Option()]) -> None:
    _act("cancel", referral_id, user)


@refer_app.command("list")
def list_cmd(
    user: Annotated[str, typer.Option()],
    status: Annotated[str | None, typer.Option()] = None,
    fmt: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.TABLE,
) -> None:
    """Batches your agency made (or, for a liaison, those sent to your platform)."""
    from takedown.items.cli import acting_as
    from takedown.kit.cli import guarded, unit_of_work
    from takedown.referrals import service

    @guarded
    def run() -> None:
        with unit_of_work() as session:
            principal = acting_as(session, None, user)
            rows, _ = service.list_referrals(session, principal, status=status, limit=500)
            data = [{"id": r.id, "reference": r.reference, "kind": r.kind, "platform": r.platform,
                     "status": r.status, "channel": r.channel, "deadline_at": r.deadline_at,
                     "overdue": r.overdue_at is not None} for r in rows]  # fmt: skip
        emit(data, ["id", "reference", "kind", "platform", "status", "channel", "deadline_at",
                    "overdue"], fmt, title="referrals")  # fmt: skip

    run()


@refer_app.command("render")
def render_cmd(
    referral_id: int,
    user: Annotated[str, typer.Option()],
    as_: Annotated[str, typer.Option("--as", help="json, html, pdf or csv")] = "json",
    output: Annotated[Path | None, typer.Option("--out", help="file (default: stdout)")] = None,
) -> None:
    """Render a batch's document (Annex I for an order)."""
    from takedown.items.cli import acting_as
    from takedown.kit.cli import guarded, unit_of_work
    from takedown.kit.errors import InvalidInput
    from takedown.referrals import render, service

    @guarded
    def run() -> None:
        with unit_of_work() as session:
            principal = acting_as(session, None, user)
            ref = service.get_referral(session, principal, referral_id)
            data: bytes
            if as_ == "json":
                data = json.dumps(render.as_json(session, ref), indent=2, default=str).encode()
            elif as_ == "html":
                data = render.as_html(session, ref).encode()
            elif as_ == "csv":
                data = render.as_csv(session, ref).encode()
            elif as_ == "pdf":
                data = render.as_pdf(session, ref)
            else:
                raise InvalidInput("--as is json, html, pdf or csv")
        if output is None:
            typer.echo(data.decode("utf-8", errors="replace") if as_ != "pdf" else "use --out")
        else:
            output.write_bytes(data)
            out.print(f"wrote {output}")

    run()


@refer_app.command("deliver")
def deliver_cmd(limit: Annotated[int, typer.Option()] = 500) -> None:
    """Attempt every due delivery (evidence first, as the job), then flag overdue orders."""
    from takedown.db import session_scope
    from takedown.kit.cli import guarded, session_factory, settings
    from takedown.referrals import delivery, service

    @guarded
    def run() -> None:
        channels = delivery.default_channels(settings())
        rep = delivery.deliver_due(session_factory(), settings(), channels, limit=limit)
        with session_scope(session_factory()) as session:
            flagged = service.escalate_overdue(session)
        out.print(
            f"attempted {rep.attempted}, delivered {rep.delivered} (acknowledged "
            f"{rep.acknowledged}), failed {rep.failed}, "
            f"gave up {rep.gave_up}; copies to host states sent {rep.copies_sent}, "
            f"failed {rep.copies_failed}; overdue orders flagged: {len(flagged)}"
        )

    run()


@refer_app.command("show")
def show_cmd(referral_id: int, user: Annotated[str, typer.Option()]) -> None:
    """A batch's status, its delivery and its Art. 4(1) copy to the host state."""
    from takedown.items.cli import acting_as
    from takedown.kit.cli import guarded, unit_of_work
    from takedown.referrals import host_copy, service

    @guarded
    def run() -> None:
        with unit_of_work() as session:
            principal = acting_as(session, None, user)
            ref = service.get_referral(session, principal, referral_id)
            out.print(f"{ref.reference}: {ref.kind.replace('_', ' ')} to {ref.platform}, "
                      f"{ref.status.replace('_', ' ')}")  # fmt: skip
            if ref.sent_at:
                out.print(f"sent at {ref.sent_at:%Y-%m-%d %H:%M:%S} UTC")
            record = service.delivery_record(session, principal, referral_id)
            if record is not None:
                d = record.delivery
                out.print(f"delivery: {d.channel}, {d.status.replace('_', ' ')} after "
                          f"{d.attempts} attempt(s)")  # fmt: skip
            if not principal.is_liaison:
                out.print(host_copy.state(session, ref).message)

    run()


@refer_app.command("send-copy")
def send_copy_cmd(referral_id: int, user: Annotated[str, typer.Option()]) -> None:
    """Send a delivered order's Art. 4(1) copy to the host state's authority (not sent
    for want of a contact point, or given up), once its contact point is set."""
    from takedown.db import session_scope
    from takedown.items.cli import acting_as
    from takedown.kit.cli import guarded, session_factory, settings
    from takedown.referrals import delivery, host_copy, service

    @guarded
    def run() -> None:
        with session_scope(session_factory()) as session:
            principal = acting_as(session, None, user)
        channels = delivery.default_channels(settings())
        attempt = delivery.send_copy(session_factory(), principal, referral_id, channels)
        with session_scope(session_factory()) as session:
            ref = service.get_referral(session, principal, referral_id)
            out.print(host_copy.state(session, ref).message)
        if not attempt.ok:
            raise SystemExit(1)

    run()
