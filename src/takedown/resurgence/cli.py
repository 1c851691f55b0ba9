"""CLI ``takedown resurgence``: list, confirm and reject successor candidates, scan what is
due, print the figures, and link handle lists from elsewhere (``link-handles``)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from takedown.kit.output import OutputFormat, emit

app = typer.Typer(help="Successors of removed accounts and channels.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="resurgence")


def _row(v: Any) -> dict[str, Any]:
    c = v.candidate
    return {
        "id": c.id,
        "score": c.score,
        "status": c.status,
        "predecessor": v.predecessor.canonical_url,
        "successor": v.successor.canonical_url,
        "reasons": "; ".join(f"{r['signal']} +{r['weight']}" for r in c.reasons),
        "generation": c.generation,
        "referral_id": c.referral_id,
    }


@app.command("list")
def list_(
    status: Annotated[
        list[str] | None, typer.Option(help="proposed|below|confirmed|rejected")
    ] = None,
    platform: Annotated[str | None, typer.Option(help="successor's platform")] = None,
    user: Annotated[str | None, typer.Option(help="list as this user (e-mail) would see")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    fmt: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.TABLE,
) -> None:
    """Successor candidates, best score first (default: the proposed ones)."""
    from takedown.accounts.service import SYSTEM
    from takedown.items.cli import acting_as
    from takedown.kit.cli import guarded, unit_of_work
    from takedown.resurgence import service

    @guarded
    def run() -> None:
        with unit_of_work() as session:
            principal = acting_as(session, None, user) if user else SYSTEM
            views, total = service.list_candidates(
                session, principal, status=status or ["proposed"], platform=platform,
                limit=limit, offset=offset,
            )  # fmt: skip
            rows = [_row(v) for v in views]
            if fmt is OutputFormat.JSON:
                for r, v in zip(rows, views, strict=True):
                    r["reasons"] = v.candidate.reasons
            cols = ["id", "score", "status", "predecessor", "successor", "reasons"]
            emit(rows, cols, fmt, title=f"Successor candidates ({len(rows)} of {total})")

    run()


def _decide(action: str, candidate_id: int, note: str, refer: bool, user: str | None,
            agency: str | None) -> None:  # fmt: skip
    from takedown.items.cli import acting_as
    from takedown.kit.cli import guarded, unit_of_work
    from takedown.resurgence import service

    @guarded
    def run() -> None:
        with unit_of_work() as session:
            principal = acting_as(session, agency, user)
            if action == "confirm":
                v = service.confirm(session, principal, candidate_id, note=note, refer=refer)
            else:
                v = service.reject(session, principal, candidate_id, note=note)
            c = v.candidate
            extra = f", referral {c.referral_id}" if c.referral_id else ""
            Console().print(
                f"candidate {c.id} {c.status}: {v.successor.canonical_url} "
                f"{'is' if c.status == 'confirmed' else 'is not'} the successor of "
                f"{v.predecessor.canonical_url}{extra}",
                highlight=False,
            )

    run()


@app.command("confirm")
def confirm(
    candidate_id: Annotated[int, typer.Argument(help="the candidate's id")],
    refer: Annotated[bool, typer.Option(help="also assess as the predecessor and refer")] = False,
    note: Annotated[str, typer.Option(help="why")] = "",
    user: Annotated[str | None, typer.Option(help="the analyst (e-mail)")] = None,
    agency: Annotated[str | None, typer.Option(help="the agency (id or name)")] = None,
) -> None:
    """Confirm a successor: linked to its predecessor; --refer refers it in the same step."""
    _decide("confirm", candidate_id, note, refer, user, agency)


@app.command("reject")
def reject(
    candidate_id: Annotated[int, typer.Argument(help="the candidate's id")],
    note: Annotated[str, typer.Option(help="why")] = "",
    user: Annotated[str | None, typer.Option(help="the analyst (e-mail)")] = None,
    agency: Annotated[str | None, typer.Option(help="the agency (id or name)")] = None,
) -> None:
    """Reject a candidate: not a successor (kept, never proposed again for the same pair)."""
    _decide("reject", candidate_id, note, False, user, agency)


@app.command("scan")
def scan(limit: Annotated[int, typer.Option(min=1, help="most due rows")] = 5000) -> None:
    """Scan every account and channel that is due (newly seen or newly removed) now."""
    from takedown.kit.cli import guarded, unit_of_work
    from takedown.resurgence import service

    @guarded
    def run() -> None:
        with unit_of_work() as session:
            rep = service.run_due(session, limit=limit)
        Console().print(
            f"scanned {rep.seen} seen and {rep.removed} removed: {rep.proposed} proposed, "
            f"{rep.kept_below} below the threshold",
            highlight=False,
        )

    run()


@app.command("figures")
def figures(
    by: Annotated[str, typer.Option(help="platform or operation")] = "platform",
    fmt: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.TABLE,
) -> None:
    """Time to return (Kaplan–Meier), time to detect, lifetime and generations."""
    from takedown.accounts.service import SYSTEM
    from takedown.kit.cli import guarded, unit_of_work
    from takedown.resurgence import service

    @guarded
    def run() -> None:
        with unit_of_work() as session:
            figs = service.figures_by(session, SYSTEM, by=by)
        rows = [{"group": g, **f.as_dict()} for g, f in figs.items()]
        cols = [
            "group", "removals", "returned", "time_to_return_km_median_seconds",
            "time_to_detect_median_seconds", "lifetime_km_median_seconds", "generations",
        ]  # fmt: skip
        emit(rows, cols, fmt, title=f"Resurgence by {by}")

    run()


def _read(path: Path, what: str) -> list[str]:
    from takedown.kit.errors import InvalidInput

    try:
        return path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{what} file {path}: {exc}") from None


@app.command("link-handles")
def link_handles(
    removed: Annotated[Path, typer.Argument(help="removed handles, one a line")],
    seen: Annotated[Path, typer.Argument(help="newly seen handles, one a line")],
    platform: Annotated[str, typer.Option(help="the platform of both lists (e.g. telegram)")],
    seen_after: Annotated[
        bool, typer.Option(help="the seen list was collected after the removals")
    ] = True,
    fmt: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.TABLE,
) -> None:
    """For each seen handle: its best removed predecessor, the score, the reasons, the verdict.

    Bad lines are reported (file and line) on stderr; the good ones are still linked."""
    from takedown.kit.cli import guarded
    from takedown.resurgence import service

    @guarded
    def run() -> None:
        r, bad_r = service.clean_handles(_read(removed, "removed"), str(removed))
        s, bad_s = service.clean_handles(_read(seen, "seen"), str(seen))
        for b in [*bad_r, *bad_s]:
            typer.echo(b, err=True)
        links = service.link_handles(platform, r, s, seen_after=seen_after)
        if fmt is OutputFormat.JSON:
            out = [dataclasses.asdict(x) for x in links]
            typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
            return
        rows = [
            {"seen": x.seen, "predecessor": x.predecessor, "score": x.score, "verdict": x.verdict,
             "reasons": "; ".join(str(y["detail"]) for y in x.reasons)}
            for x in links
        ]  # fmt: skip
        emit(rows, ["seen", "predecessor", "score", "verdict", "reasons"], fmt,
             title=f"{len(s)} seen handles against {len(r)} removed ({platform})")  # fmt: skip

    run()
