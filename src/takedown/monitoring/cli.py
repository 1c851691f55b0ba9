"""CLI ``takedown watch``: add (by hand, from a file, from an operation), list, remove,
crawl; Rocket.Chat server credentials; the review queue of proposed sources."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from takedown.kit.output import OutputFormat, emit

watch_app = typer.Typer(help="Watched sources: Telegram, Rocket.Chat, accounts, sites, .onion")
server_app = typer.Typer(help="Rocket.Chat servers and their (sealed) credentials")
watch_app.add_typer(server_app, name="server")

Agency = Annotated[str | None, typer.Option("--agency", help="agency name or id to act as")]
User = Annotated[str | None, typer.Option("--user", help="e-mail of the user to act as")]
COLUMNS = [
    "id",
    "kind",
    "url",
    "status",
    "interval_s",
    "next_due_at",
    "last_crawl_at",
    "last_result",
    "last_new",
    "new_total",
    "last_reason",
]


def register(app: typer.Typer) -> None:
    app.add_typer(watch_app, name="watch")


def source_row(src: object) -> dict[str, object]:
    return {c: getattr(src, c) for c in COLUMNS}


@watch_app.command("add")
def add(
    urls: Annotated[list[str] | None, typer.Argument(help="source URLs")] = None,
    file: Annotated[Path | None, typer.Option("--file", help="one URL per line")] = None,
    operation: Annotated[
        int | None,
        typer.Option("--operation", help="watch what an operation removed and what survived"),
    ] = None,
    kind: Annotated[
        str | None, typer.Option(help="telegram|rocketchat|account|website|onion")
    ] = None,
    agency: Agency = None,
    user: User = None,
    fmt: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.TABLE,
) -> None:
    """Watch sources; a bad line is named with its number and reason, good ones go in."""
    from takedown.items.cli import acting_as
    from takedown.kit.cli import err, fail, guarded, unit_of_work
    from takedown.kit.errors import InvalidInput, NotFound
    from takedown.monitoring import service

    @guarded
    def run() -> None:
        if not urls and file is None and operation is None:
            raise InvalidInput("give URLs, --file FILE or --operation N")
        lines: list[str] = list(urls or [])
        if file is not None:
            if not file.is_file():
                raise NotFound(f"{file} is not a file")
            lines += file.read_text(encoding="utf-8", errors="replace").splitlines()
        with unit_of_work() as session:
            principal = acting_as(session, agency, user)
            res = service.add_many(session, principal, lines, kind=kind, operation_id=operation)
            if operation is not None and not lines:
                res = service.add_from_operation(session, principal, operation)
            ids = res.added + res.existing
            rows = [source_row(service.get_source(session, principal, i)) for i in ids]
        emit(rows, ["id", "kind", "url", "status"], fmt, title="watched")
        where = f"{file.name}:" if file is not None else "line "
        for line, text, reason in res.errors:
            err.print(f"{where}{line}: {text!r}: {reason}", highlight=False, soft_wrap=True)
        if res.errors and not ids:
            fail(f"no source added ({len(res.errors)} bad lines)")

    run()


@watch_app.command("list")
def list_sources(
    status: Annotated[str | None, typer.Option(help="active|paused|removed")] = None,
    kind: Annotated[str | None, typer.Option()] = None,
    limit: Annotated[int, typer.Option()] = 100,
    agency: Agency = None,
    user: User = None,
    fmt: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.TABLE,
) -> None:
    """The agency's watched sources, with their last crawl."""
    from takedown.items.cli import acting_as
    from takedown.kit.cli import guarded, unit_of_work
    from takedown.monitoring import service

    @guarded
    def run() -> None:
        with unit_of_work() as session:
            principal = acting_as(session, agency, user)
            rows, total = service.list_sources(
                session, principal, status=status, kind=kind, limit=limit
            )
            out = [source_row(r) for r in rows]
        emit(out, COLUMNS, fmt, title=f"sources ({total})")

    run()


@watch_app.command("remove")
def remove(
    source_id: Annotated[int, typer.Argument()],
    agency: Agency = None,
    user: User = None,
) -> None:
    """Stop watching a source (its history is kept)."""
    from takedown.items.cli import acting_as
    from takedown.kit.cli import guarded, unit_of_work
    from takedown.monitoring import service

    @guarded
    def run() -> None:
        with unit_of_work() as session:
            src = service.remove_source(session, acting_as(session, agency, user), source_id)
            typer.echo(f"source {src.id} removed: {src.url}")

    run()


@watch_app.command("crawl")
def crawl(
    source: Annotated[list[int] | None, typer.Option("--source", help="crawl these now")] = None,
    limit: Annotated[int, typer.Option(help="most due sources to crawl")] = 1000,
    workers: Annotated[int, typer.Option(help="sources fetched at once")] = 8,
    per_host_rate: Annotated[float, typer.Option(help="requests/s per host; 0 = unpaced")] = 1.0,
    timeout: Annotated[float, typer.Option(help="seconds per request")] = 20.0,
    fmt: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.TABLE,
) -> None:
    """Crawl every due source (or --source ID ...), and record what is new."""
    from takedown.kit.cli import guarded, session_factory, settings
    from takedown.kit.http import make_sync_client
    from takedown.kit.politeness import shared_budget
    from takedown.monitoring.crawl import CrawlConfig, crawl_due

    @guarded
    def run() -> None:
        s = settings()
        cfg = CrawlConfig(workers=workers, secret_key=s.secret_key)
        with make_sync_client(**s.http_client_options(), timeout=timeout) as client:
            rep = crawl_due(
                session_factory(),
                client,
                limit=limit,
                source_ids=source or None,
                config=cfg,
                budget=shared_budget(per_host_rate),
            )
        row = {
            "sources": rep.sources,
            "pages": rep.pages,
            "new_items": rep.new_items,
            "matches": rep.matches,
            "proposals": rep.proposals,
            "results": dict(rep.results),
        }
        emit([row], list(row), fmt, title="crawl")
        if fmt is OutputFormat.TABLE:
            for sid, reason in sorted(rep.reasons.items()):
                typer.echo(f"source {sid}: {reason}")

    run()


@server_app.command("add")
def server_add(
    base_url: Annotated[str, typer.Argument(help="https://chat.example.org")],
    user_id: Annotated[str, typer.Option("--user-id", help="X-User-Id")],
    token: Annotated[
        str,
        typer.Option(
            "--token",
            prompt=True,
            hide_input=True,
            envvar="TAKEDOWN_RC_TOKEN",
            help="X-Auth-Token (prompted if absent; never echoed)",
        ),
    ],
    agency: Agency = None,
    user: User = None,
) -> None:
    """Store a Rocket.Chat server's credentials, sealed with TAKEDOWN_SECRET_KEY."""
    from takedown.items.cli import acting_as
    from takedown.kit.cli import guarded, settings, unit_of_work
    from takedown.monitoring import service

    @guarded
    def run() -> None:
        with unit_of_work() as session:
            row = service.add_server(
                session,
                acting_as(session, agency, user),
                base_url,
                user_id=user_id,
                token=token,
                secret_key=settings().secret_key,
            )
            typer.echo(f"server {row.id}: {row.base_url} (credentials sealed)")

    run()


@watch_app.command("proposals")
def proposals(
    agency: Agency = None,
    user: User = None,
    fmt: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.TABLE,
) -> None:
    """Channels and accounts that crawls found links to: the review queue."""
    from takedown.items.cli import acting_as
    from takedown.kit.cli import guarded, unit_of_work
    from takedown.monitoring import service

    @guarded
    def run() -> None:
        with unit_of_work() as session:
            rows = [
                {
                    "id": p.id,
                    "kind": p.kind,
                    "url": p.url,
                    "depth": p.depth,
                    "seen": p.seen,
                    "found_in": p.found_in_source_id,
                }
                for p in service.proposals(session, acting_as(session, agency, user))
            ]
        emit(rows, ["id", "kind", "url", "depth", "seen", "found_in"], fmt, title="proposals")

    run()


@watch_app.command("accept")
def accept(proposal_id: int, agency: Agency = None, user: User = None) -> None:
    """Watch a proposed source."""
    _decide(proposal_id, True, agency, user)


@watch_app.command("reject")
def reject(proposal_id: int, agency: Agency = None, user: User = None) -> None:
    """Dismiss a proposed source."""
    _decide(proposal_id, False, agency, user)


def _decide(proposal_id: int, accept: bool, agency: str | None, user: str | None) -> None:
    from takedown.items.cli import acting_as
    from takedown.kit.cli import guarded, unit_of_work
    from takedown.monitoring import service

    @guarded
    def run() -> None:
        with unit_of_work() as session:
            p = service.decide_proposal(
                session, acting_as(session, agency, user), proposal_id, accept
            )
            typer.echo(f"proposal {p.id} {p.status}: {p.url}")

    run()
