"""CLI ``takedown evidence capture|list|verify|export|purge|orphans|hold``.

Commands act as a named user (``--user EMAIL``) or an agency (``--agency``),
like ``items``: evidence belongs to an agency and every access is audited
under the name of whoever asked.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from takedown.kit.output import OutputFormat, emit

evidence_app = typer.Typer(
    help="The evidence vault: capture, verify, export, retention.", no_args_is_help=True
)
hold_app = typer.Typer(help="Retention holds (investigation, court request).", no_args_is_help=True)
evidence_app.add_typer(hold_app, name="hold")
out = Console()

UserOpt = Annotated[str | None, typer.Option("--user", help="act as this user (e-mail)")]
AgencyOpt = Annotated[str | None, typer.Option("--agency", help="act as this agency")]
FormatOpt = Annotated[OutputFormat, typer.Option("--format", help="table or json")]


def register(app: typer.Typer) -> None:
    app.add_typer(evidence_app, name="evidence")


@evidence_app.command("capture")
def capture(
    item_ids: Annotated[list[int], typer.Argument(help="item ids")],
    user: UserOpt = None,
    agency: AgencyOpt = None,
    screenshot: Annotated[bool, typer.Option(help="also take a full-page screenshot")] = False,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Capture items now: WARC, media, text (and a screenshot with --screenshot)."""
    from takedown.evidence.capturing import capture_items
    from takedown.items.cli import acting_as
    from takedown.kit.cli import guarded, session_factory, settings, unit_of_work

    @guarded
    def run() -> None:
        with unit_of_work() as session:
            principal = acting_as(session, agency, user)
        results = capture_items(
            session_factory(),
            principal,
            item_ids,
            settings=settings(),
            with_screenshot=screenshot,
        )
        emit(
            (
                {
                    "item": r.item_id,
                    "capture": r.capture_id,
                    "status": r.status,
                    "failure": r.failure_reason,
                    "manifest_sha256": r.manifest_sha256,
                }
                for r in results
            ),
            ["item", "capture", "status", "failure", "manifest_sha256"],
            fmt,
            title="Evidence captures",
        )
        if any(r.status != "complete" for r in results):
            raise typer.Exit(1)

    run()


@evidence_app.command("list")
def list_cmd(
    user: UserOpt = None,
    agency: AgencyOpt = None,
    item: Annotated[int | None, typer.Option(help="only this item")] = None,
    status: Annotated[str | None, typer.Option(help="complete, failed, purged")] = None,
    limit: int = 200,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """List captures."""
    from takedown.evidence import service
    from takedown.items.cli import acting_as
    from takedown.kit.cli import guarded, unit_of_work

    @guarded
    def run() -> None:
        with unit_of_work() as session:
            principal = acting_as(session, agency, user)
            rows, _ = service.list_captures(
                session, principal, item_id=item, status=status, limit=limit
            )
            emit(
                (
                    {
                        "id": c.id,
                        "item": c.item_id,
                        "status": c.status,
                        "url": c.url_reported,
                        "captured_at": c.captured_at,
                        "manifest_sha256": c.manifest_sha256,
                    }
                    for c in rows
                ),
                ["id", "item", "status", "url", "captured_at", "manifest_sha256"],
                fmt,
                title="Evidence captures",
            )

    run()


@evidence_app.command("verify")
def verify(
    capture_ids: Annotated[
        list[int] | None, typer.Argument(help="capture ids (default: all)")
    ] = None,
    user: UserOpt = None,
    agency: AgencyOpt = None,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Re-hash every stored file; exit 1 and list each mismatch if anything changed."""
    from takedown.accounts.service import SYSTEM
    from takedown.evidence import service
    from takedown.evidence.storage import store_for_settings
    from takedown.items.cli import acting_as
    from takedown.kit.cli import fail, guarded, settings, unit_of_work

    @guarded
    def run() -> None:
        with unit_of_work() as session:
            principal = acting_as(session, agency, user) if (user or agency) else SYSTEM
            reports = service.verify_captures(
                session,
                principal,
                store=store_for_settings(settings()),
                capture_ids=capture_ids or None,
            )
        bad = [r for r in reports if not r.ok]
        if fmt is OutputFormat.JSON or bad:
            emit(
                (
                    {
                        "capture": r.capture_id,
                        "ok": r.ok,
                        "files": r.checked,
                        "problems": "; ".join(r.problems),
                    }
                    for r in reports
                    if fmt is OutputFormat.JSON or not r.ok
                ),
                ["capture", "ok", "files", "problems"],
                fmt,
                title="Evidence verification",
            )
        if bad:
            fail(f"{len(bad)} of {len(reports)} captures fail verification")
        if fmt is OutputFormat.TABLE:
            files = sum(r.checked for r in reports)
            out.print(
                f"[green]evidence intact[/]: {len(reports)} captures, {files} files re-hashed"
            )

    run()


@evidence_app.command("export")
def export(
    item_ids: Annotated[list[int], typer.Argument(help="item ids")],
    output: Annotated[Path, typer.Option("-o", "--output", help="bundle file (.zip)")],
    user: UserOpt = None,
    agency: AgencyOpt = None,
    recipient: Annotated[str, typer.Option(help="who receives it (court, case)")] = "",
) -> None:
    """Write a court bundle: files, manifests, custody log, README, offline verifier."""
    from takedown.evidence.export import export_bundle
    from takedown.evidence.storage import store_for_settings
    from takedown.items.cli import acting_as
    from takedown.kit.cli import guarded, settings, unit_of_work

    @guarded
    def run() -> None:
        with unit_of_work() as session:
            principal = acting_as(session, agency, user)
            result = export_bundle(
                session,
                principal,
                item_ids,
                output,
                store=store_for_settings(settings()),
                recipient=recipient,
            )
        out.print(
            f"bundle {result.path}: {len(result.captures)} captures, "
            f"{result.custody_events} custody links, sha256 {result.sha256}\n"
            f"check it with: python3 verify_bundle.py {result.path.name} (inside the zip)"
        )

    run()


@evidence_app.command("purge")
def purge(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="only show what would go")] = False,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Delete evidence past retention (6 months after removal) that no hold keeps."""
    from takedown.evidence.retention import run_purge
    from takedown.evidence.storage import store_for_settings
    from takedown.kit.cli import guarded, session_factory, settings

    @guarded
    def run() -> None:
        report, deleted = run_purge(
            session_factory(), store=store_for_settings(settings()), dry_run=dry_run
        )
        emit(
            (
                {
                    "capture": e.capture_id,
                    "item": e.item_id,
                    "removed_at": e.removed_at,
                    "due_at": e.due_at,
                    "objects": len(set(e.deleted)),
                }
                for e in report.purged
            ),
            ["capture", "item", "removed_at", "due_at", "objects"],
            fmt,
            title="Would purge" if dry_run else "Purged",
        )
        if fmt is OutputFormat.TABLE:
            out.print(
                f"{'would purge' if dry_run else 'purged'} {len(report.purged)} captures; "
                f"{len(report.held)} kept by holds; {len(deleted)} objects deleted"
            )

    run()


@evidence_app.command("orphans")
def orphans(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="only list what would go")] = False,
    grace_hours: Annotated[
        float | None,
        typer.Option(
            "--grace-hours",
            min=1.0,
            help="keep objects written less than this long ago "
            "(default: TAKEDOWN_EVIDENCE_ORPHAN_GRACE_HOURS, 24)",
        ),
    ] = None,
    progress: Annotated[bool, typer.Option(help="show a progress bar (on stderr)")] = True,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Delete stored objects no capture names (left by a killed capture), once old enough."""
    from takedown.evidence.orphans import collect_orphans
    from takedown.evidence.storage import store_for_settings
    from takedown.kit.cli import guarded, session_factory, settings
    from takedown.kit.progress import rich_progress

    @guarded
    def run() -> None:
        conf = settings()
        hours = conf.evidence_orphan_grace_hours if grace_hours is None else grace_hours
        with rich_progress(
            "listing the evidence store", enabled=progress, console=Console(stderr=True)
        ) as sink:
            report = collect_orphans(
                session_factory(),
                store=store_for_settings(conf),
                grace=dt.timedelta(hours=hours),
                dry_run=dry_run,
                progress=sink,
            )
        emit(
            ({"sha256": e.sha256, "size": e.size, "modified": e.modified} for e in report.deleted),
            ["sha256", "size", "modified"],
            fmt,
            title="Would delete" if dry_run else "Deleted",
        )
        if fmt is OutputFormat.TABLE:
            out.print(
                f"{'would delete' if dry_run else 'deleted'} {len(report.deleted)} orphaned "
                f"objects ({report.deleted_bytes} bytes) of {report.scanned} stored; "
                f"{report.young} younger than {hours:g} h not judged; "
                f"{len(report.kept_late)} named by a capture during the run, kept"
                + (
                    f"; {len(report.busy)} left for the next run (captures held the lock)"
                    if report.busy
                    else ""
                )
                + (f"; {len(report.failed)} refused by the store" if report.failed else "")
                + (
                    f"; {report.temporaries} partial writes of killed captures "
                    + ("found" if dry_run else "removed")
                    if report.temporaries
                    else ""
                )
            )

    run()


@hold_app.command("add")
def hold_add(
    item_id: int,
    reason: Annotated[str, typer.Option(help="why the evidence must be kept")],
    user: UserOpt = None,
    kind: Annotated[str, typer.Option(help="investigation, court_request, ...")] = "investigation",
    reference: Annotated[str, typer.Option(help="case or request reference")] = "",
    until: Annotated[str | None, typer.Option(help="YYYY-MM-DD (default: until released)")] = None,
) -> None:
    """Keep an item's evidence beyond the retention period."""
    from takedown.evidence import service
    from takedown.items.cli import acting_as
    from takedown.kit.cli import guarded, unit_of_work
    from takedown.kit.errors import InvalidInput

    @guarded
    def run() -> None:
        end = None
        if until:
            try:
                end = dt.datetime.fromisoformat(until).replace(tzinfo=dt.UTC)
            except ValueError as exc:
                raise InvalidInput(f"--until {until!r} is not YYYY-MM-DD") from exc
        with unit_of_work() as session:
            principal = acting_as(session, None, user)
            hold = service.place_hold(
                session,
                principal,
                item_id,
                kind=kind,
                reason=reason,
                reference=reference,
                until=end,
            )
            out.print(f"hold {hold.id} placed on item {item_id}")

    run()


@hold_app.command("release")
def hold_release(hold_id: int, user: UserOpt = None) -> None:
    """Release a hold (retention then applies again)."""
    from takedown.evidence import service
    from takedown.items.cli import acting_as
    from takedown.kit.cli import guarded, unit_of_work

    @guarded
    def run() -> None:
        with unit_of_work() as session:
            service.release_hold(session, acting_as(session, None, user), hold_id)
            out.print(f"hold {hold_id} released")

    run()


@hold_app.command("list")
def hold_list(
    user: UserOpt = None,
    agency: AgencyOpt = None,
    item: int | None = None,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """List active holds."""
    from takedown.evidence import service
    from takedown.items.cli import acting_as
    from takedown.kit.cli import guarded, unit_of_work

    @guarded
    def run() -> None:
        with unit_of_work() as session:
            rows = service.list_holds(session, acting_as(session, agency, user), item_id=item)
            emit(
                (
                    {
                        "id": h.id,
                        "item": h.item_id,
                        "kind": h.kind,
                        "reference": h.reference,
                        "placed_at": h.placed_at,
                        "until": h.until,
                    }
                    for h in rows
                ),
                ["id", "item", "kind", "reference", "placed_at", "until"],
                fmt,
                title="Evidence holds",
            )

    run()
