"""CLI: ``takedown partner …``, ``takedown share …``, ``takedown deconflict …``.

Commands act as a user (``--user EMAIL``, the usual way: supervisors manage partners
and collections) or an agency (``--agency``). Every listing accepts ``--format json``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from takedown.kit.cli import guarded, settings, unit_of_work
from takedown.kit.errors import InvalidInput
from takedown.kit.output import OutputFormat, emit

partner_app = typer.Typer(help="Partners: other instances and TAXII servers.", no_args_is_help=True)
share_app = typer.Typer(help="Collections, shares, exports and the inbox.", no_args_is_help=True)
deconflict_app = typer.Typer(
    help="Deconfliction with partners by Private Set Intersection.", no_args_is_help=True
)

User = Annotated[str | None, typer.Option("--user", help="act as this user (e-mail)")]
Agency = Annotated[str | None, typer.Option("--agency", help="act as this agency")]
Fmt = Annotated[OutputFormat, typer.Option("--format", help="table or json")]


def register(app: typer.Typer) -> None:
    app.add_typer(partner_app, name="partner")
    app.add_typer(share_app, name="share")
    app.add_typer(deconflict_app, name="deconflict")


def _actor(session, agency: str | None, user: str | None):  # type: ignore[no-untyped-def]
    from takedown.items.cli import acting_as

    return acting_as(session, agency, user)


def _out(data: str, out: Path | None) -> None:
    if out is None:
        sys.stdout.write(data if data.endswith("\n") else data + "\n")
    else:
        out.write_text(data, encoding="utf-8")


# --- partner ----------------------------------------------------------------------------------


@partner_app.command("add")
@guarded
def partner_add(
    name: str,
    country: Annotated[str, typer.Option(help="ISO 3166-1 code of the partner")],
    contact_point: Annotated[str, typer.Option(help="the partner's national contact point")],
    api_root: Annotated[str, typer.Option(help="its TAXII API root URL")] = "",
    collection: Annotated[str, typer.Option(help="the collection id to pull")] = "",
    token: Annotated[
        str, typer.Option(help="token for its server (sealed); '-' reads it from stdin")
    ] = "",
    auth: Annotated[str, typer.Option(help="bearer or basic")] = "bearer",
    username: Annotated[str, typer.Option(help="user name for basic auth")] = "",
    trust: Annotated[str, typer.Option(help="review or auto")] = "review",
    tlp_ceiling: Annotated[str, typer.Option(help="strictest TLP exchanged")] = "AMBER",
    deconfliction_url: Annotated[str, typer.Option(help="its deconfliction endpoint")] = "",
    pull_every: Annotated[int, typer.Option(help="seconds between pulls")] = 3600,
    partner_agency: Annotated[
        int | None, typer.Option(help="an existing agency that stands for the partner")
    ] = None,
    user: User = None,
    agency: Agency = None,
    fmt: Fmt = OutputFormat.TABLE,
) -> None:
    """Add a partner (its own agency is made here unless --partner-agency names one)."""
    from takedown.sharing import partners

    secret = sys.stdin.readline().strip() if token == "-" else token
    with unit_of_work() as session:
        p = partners.create_partner(
            session,
            _actor(session, agency, user),
            partners.PartnerIn(
                name=name, country=country, contact_point=contact_point, api_root=api_root,
                collection=collection, token=secret, auth_kind=auth, username=username,
                trust=trust, tlp_ceiling=tlp_ceiling, deconfliction_url=deconfliction_url,
                pull_every_seconds=pull_every, agency_id=partner_agency,
            ),
            secret_key=settings().secret_key,
        )  # fmt: skip
        row = {"id": p.id, "name": p.name, "agency_id": p.agency_id, "trust": p.trust}
    emit([row], list(row), fmt)


@partner_app.command("list")
@guarded
def partner_list(user: User = None, agency: Agency = None, fmt: Fmt = OutputFormat.TABLE) -> None:
    """Partners, with their last pull (tokens are never shown)."""
    from takedown.accounts.service import SYSTEM
    from takedown.sharing import partners

    with unit_of_work() as session:
        who = _actor(session, agency, user) if (agency or user) else SYSTEM
        rows = [
            {
                "id": p.id, "name": p.name, "agency_id": p.agency_id, "api_root": p.api_root,
                "collection": p.collection, "trust": p.trust, "tlp_ceiling": p.tlp_ceiling,
                "contact_point": p.contact_point, "checkpoint": p.checkpoint,
                "last_pull_at": p.last_pull_at, "last_error": p.last_error,
                **{f"last_{k}": v for k, v in (p.last_pull_summary or {}).items()},
            }
            for p in partners.list_partners(session, who)
        ]  # fmt: skip
    cols = ["id", "name", "trust", "tlp_ceiling", "contact_point", "last_pull_at", "last_error"]
    emit(rows, cols, fmt, title="Partners")


@partner_app.command("pull")
@guarded
def partner_pull(partner_id: int, fmt: Fmt = OutputFormat.TABLE) -> None:
    """Pull a partner now (what the ticker does when it is due)."""
    from takedown.kit.cli import session_factory
    from takedown.sharing import client

    result = client.pull(session_factory(), partner_id, pages=client.taxii_pages(settings()))
    emit([result.summary()], list(result.summary()), fmt)
    if result.failures and fmt is OutputFormat.TABLE:
        for f in result.failures[:20]:
            typer.echo(f"  refused {f['id']}: {f['message']}", err=True)


# --- share ------------------------------------------------------------------------------------


@share_app.command("collection")
@guarded
def share_collection(
    title: str,
    audience: Annotated[str, typer.Option(help="organisation, clients, community or public")],
    partner: Annotated[int | None, typer.Option(help="the partner it is for")] = None,
    description: str = "",
    user: User = None,
    agency: Agency = None,
    fmt: Fmt = OutputFormat.TABLE,
) -> None:
    """Create a TAXII collection (a partner's gets read and write for it)."""
    from takedown.sharing import collections

    with unit_of_work() as session:
        c = collections.create_collection(
            session, _actor(session, agency, user), title=title, audience=audience,
            description=description, partner_id=partner,
        )  # fmt: skip
        row = {"id": c.id, "uuid": c.uuid, "title": c.title, "audience": c.audience}
    emit([row], list(row), fmt)


@share_app.command("grant")
@guarded
def share_grant(
    collection_id: int,
    to_agency: Annotated[int, typer.Option("--to", help="agency id")],
    read: bool = True,
    write: bool = False,
    user: User = None,
    agency: Agency = None,
) -> None:
    """Let an agency read (and/or write) a collection."""
    from takedown.sharing import collections

    with unit_of_work() as session:
        collections.grant(
            session, _actor(session, agency, user), collection_id, to_agency, read=read, write=write
        )
    typer.echo(f"agency {to_agency}: read={read} write={write} on collection {collection_id}")


@share_app.command("add")
@guarded
def share_add(
    collection_id: int,
    subject: Annotated[str, typer.Argument(help="item, bank or operation")],
    subject_id: int,
    tlp: Annotated[str | None, typer.Option(help="default: the bank's, else AMBER")] = None,
    with_hold: Annotated[bool, typer.Option(help="share our hold's contact point")] = False,
    user: User = None,
    agency: Agency = None,
    fmt: Fmt = OutputFormat.TABLE,
) -> None:
    """Share an item, a bank or an operation into a collection, and publish it now."""
    from takedown.sharing import shares

    with unit_of_work() as session:
        row, result = shares.share(
            session, _actor(session, agency, user), collection_id, subject, subject_id,
            tlp=tlp, include_hold=with_hold,
        )  # fmt: skip
        out = {"share": row.id, "tlp": row.tlp, "added": result.added, "withheld": result.withheld}
    emit([out], list(out), fmt)


@share_app.command("list")
@guarded
def share_list(user: User = None, agency: Agency = None, fmt: Fmt = OutputFormat.TABLE) -> None:
    """What was shared with whom, at which TLP."""
    from takedown.accounts.service import SYSTEM
    from takedown.sharing import shares

    with unit_of_work() as session:
        who = _actor(session, agency, user) if (agency or user) else SYSTEM
        views, _ = shares.shared_with_whom(session, who, limit=1000)
        rows = [
            {
                "id": v.share.id, "subject": f"{v.share.subject_type} {v.share.subject_id}",
                "collection": v.collection.title, "audience": v.collection.audience,
                "tlp": v.share.tlp, "with": ", ".join(v.recipients), "objects": v.share.objects,
                "withheld": v.share.withheld, "revoked": v.share.revoked_at is not None,
            }
            for v in views
        ]  # fmt: skip
    emit(rows, list(rows[0]) if rows else ["id"], fmt, title="Shared with whom")


@share_app.command("export")
@guarded
def share_export(
    subject: Annotated[str, typer.Argument(help="item, bank or operation")],
    subject_id: int,
    audience: Annotated[str, typer.Option(help="organisation, clients, community or public")],
    tlp: Annotated[str | None, typer.Option()] = None,
    as_format: Annotated[str, typer.Option("--as", help="stix or misp")] = "stix",
    out: Annotated[Path | None, typer.Option("--out", "-o")] = None,
    user: User = None,
    agency: Agency = None,
) -> None:
    """A STIX 2.1 bundle or a MISP event of one subject, for one audience (TLP-gated)."""
    from takedown.sharing import exports, misp

    with unit_of_work() as session:
        who = _actor(session, agency, user)
        if as_format == "stix":
            text = exports.subject_bundle(
                session, who, subject, subject_id, tlp=tlp, audience=audience
            ).text
        elif as_format == "misp":
            text = misp.subject_event(session, who, subject, subject_id, tlp=tlp, audience=audience)
        else:
            raise InvalidInput("--as is stix or misp")
    _out(text, out)


@share_app.command("feed")
@guarded
def share_feed(
    directory: Path,
    audience: Annotated[str, typer.Option(help="community or public for a feed")],
    operation: Annotated[list[int] | None, typer.Option(help="operation id (repeatable)")] = None,
    bank: Annotated[list[int] | None, typer.Option(help="bank id (repeatable)")] = None,
    tlp: Annotated[str | None, typer.Option()] = None,
    user: User = None,
    agency: Agency = None,
) -> None:
    """Write a MISP feed (manifest.json, hashes.csv, one JSON per event) into DIRECTORY."""
    from takedown.sharing import misp

    subjects = [("operation", i) for i in operation or []] + [("bank", i) for i in bank or []]
    if not subjects:
        raise InvalidInput("name at least one --operation or --bank")
    with unit_of_work() as session:
        n = misp.write_feed(
            session, _actor(session, agency, user), subjects, directory, tlp=tlp, audience=audience
        )
    typer.echo(f"{n} events written to {directory}")


@share_app.command("import")
@guarded
def share_import(
    source: Annotated[str, typer.Argument(help="a STIX bundle, a MISP event file or a feed")],
    partner: Annotated[int, typer.Option(help="the partner it comes from")],
    user: User = None,
    agency: Agency = None,
    fmt: Fmt = OutputFormat.TABLE,
) -> None:
    """Take a file or a MISP feed (directory or URL) from a partner into the inbox."""
    from takedown.sharing import misp

    with unit_of_work() as session:
        got = misp.import_source(
            session, _actor(session, agency, user), partner, source, settings=settings()
        )
    emit([got], list(got), fmt)


@share_app.command("inbox")
@guarded
def share_inbox(
    status: Annotated[
        str, typer.Option(help="pending, imported, rejected, failed, ignored")
    ] = "pending",
    accept: Annotated[list[int] | None, typer.Option(help="import these (ids)")] = None,
    reject: Annotated[list[int] | None, typer.Option(help="reject these (ids)")] = None,
    user: User = None,
    agency: Agency = None,
    fmt: Fmt = OutputFormat.TABLE,
) -> None:
    """Incoming objects; --accept / --reject decide pending ones."""
    from takedown.sharing import review

    with unit_of_work() as session:
        who = _actor(session, agency, user)
        if accept:
            review.decide(session, who, accept, accept=True)
        if reject:
            review.decide(session, who, reject, accept=False)
        rows, _ = review.list_inbox(session, who, status=status, limit=500)
        out = [
            {"id": r.id, "type": r.stix_type, "stix_id": r.stix_id, "tlp": r.tlp,
             "status": r.status, "error": r.error, "received_at": r.received_at}
            for r in rows
        ]  # fmt: skip
    emit(out, ["id", "type", "stix_id", "tlp", "status", "error"], fmt, title="Inbox")


@share_app.command("sync")
@guarded
def share_sync() -> None:
    """Publish every live share again now (what the ticker does every five minutes)."""
    from takedown.kit.cli import session_factory
    from takedown.sharing.tasks import publish_due

    typer.echo(f"{publish_due(session_factory())} new object versions published")


# --- deconflict -------------------------------------------------------------------------------


@deconflict_app.command("ask")
@guarded
def deconflict_ask(
    partner: int,
    item: Annotated[list[int] | None, typer.Option(help="item id (repeatable)")] = None,
    url: Annotated[list[str] | None, typer.Option(help="URL (repeatable)")] = None,
    sha256: Annotated[list[str] | None, typer.Option(help="SHA-256 (repeatable)")] = None,
    md5: Annotated[list[str] | None, typer.Option(help="MD5 (repeatable)")] = None,
    user: User = None,
    agency: Agency = None,
    fmt: Fmt = OutputFormat.TABLE,
) -> None:
    """Ask a partner whether any of these are part of its investigations."""
    from takedown.sharing import deconfliction

    with unit_of_work() as session:
        row, followups = deconfliction.ask(
            session, _actor(session, agency, user), partner, settings=settings(),
            item_ids=item or [], urls=url or [],
            hashes=[("sha256", h) for h in sha256 or []] + [("md5", h) for h in md5 or []],
        )  # fmt: skip
        out = [
            {"element": f.element, "item_id": f.item_id, "hold_id": f.hold_id, "due_at": f.due_at}
            for f in followups
        ]
        status, error, asked, hits = row.status, row.error, row.elements, row.hits
    if status != "answered":
        from takedown.kit.cli import fail

        fail(f"the partner could not be asked: {error}")
    if fmt is OutputFormat.TABLE:
        typer.echo(f"{asked} elements asked, {hits} hits")
    emit(out, ["element", "item_id", "hold_id", "due_at"], fmt, title="Hits")


@deconflict_app.command("watch")
@guarded
def deconflict_watch(
    url: Annotated[str | None, typer.Option()] = None,
    sha256: Annotated[str | None, typer.Option()] = None,
    md5: Annotated[str | None, typer.Option()] = None,
    label: str = "",
    user: User = None,
    agency: Agency = None,
) -> None:
    """Put a URL, account, channel or hash on your agency's investigations list."""
    from takedown.sharing import deconfliction

    with unit_of_work() as session:
        row = deconfliction.add_investigation(
            session, _actor(session, agency, user), url=url, sha256=sha256, md5=md5, label=label
        )
        typer.echo(f"investigation {row.id}: {row.element}")


@deconflict_app.command("list")
@guarded
def deconflict_list(
    what: Annotated[
        str, typer.Argument(help="requests, followups, answers or watched")
    ] = "requests",
    user: User = None,
    agency: Agency = None,
    fmt: Fmt = OutputFormat.TABLE,
) -> None:
    """Questions asked, follow-ups, questions answered (counts only) or the watch list."""
    from takedown.accounts.service import SYSTEM
    from takedown.sharing import deconfliction_repository as repo

    with unit_of_work() as session:
        who = _actor(session, agency, user) if (agency or user) else SYSTEM
        mine = None if who.via == "system" else who.agency_id
        rows: list[dict[str, object]]
        if what == "requests":
            reqs, _ = repo.requests_of(session, mine, limit=500, offset=0)
            rows = [
                {"id": r.id, "partner_id": r.partner_id, "at": r.created_at,
                 "elements": r.elements, "hits": r.hits, "status": r.status,
                 "bytes_sent": r.bytes_sent, "bytes_received": r.bytes_received}
                for r in reqs
            ]  # fmt: skip
        elif what == "followups":
            fs, _ = repo.followups_of(session, mine, status=None, limit=500, offset=0)
            rows = [
                {"id": f.id, "partner_id": f.partner_id, "item_id": f.item_id,
                 "element": f.element, "due_at": f.due_at, "status": f.status}
                for f in fs
            ]  # fmt: skip
        elif what == "answers":
            ans, _ = repo.answers(session, limit=500, offset=0)
            rows = [{"id": a.id, "asker_agency_id": a.asker_agency_id, "at": a.asked_at,
                     "elements": a.elements} for a in ans]  # fmt: skip
        elif what == "watched":
            inv, _ = repo.investigations_of(session, mine, limit=500, offset=0)
            rows = [{"id": i.id, "element": i.element, "label": i.label} for i in inv]
        else:
            raise InvalidInput("list requests, followups, answers or watched")
    emit(rows, list(rows[0]) if rows else ["id"], fmt, title=what.capitalize())


@deconflict_app.command("close")
@guarded
def deconflict_close(
    followup_id: int,
    note: Annotated[str, typer.Option(help="what was agreed with the partner")] = "",
    release: Annotated[bool, typer.Option(help="release the hold placed for the hit")] = False,
    user: User = None,
    agency: Agency = None,
) -> None:
    """Close a follow-up (and release its hold once the partner agrees)."""
    from takedown.sharing import deconfliction

    with unit_of_work() as session:
        f = deconfliction.close_followup(
            session, _actor(session, agency, user), followup_id, note=note, release=release
        )
        typer.echo(f"follow-up {f.id} closed" + (" and its hold released" if release else ""))
