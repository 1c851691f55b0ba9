"""CLI: ``audit verify``, ``audit checkpoint``, ``audit head``, ``audit keygen``."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from takedown.audit.service import verify

audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def audit_verify(
    anchor: Annotated[
        list[Path] | None,
        typer.Option(
            "--anchor",
            help="an exported head (audit head --output) or an anchor file to hold the chain to",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Re-hash the whole chain, hold it to its signed checkpoints, the anchor file and any
    exported head given, and report the first break."""
    from takedown.audit.anchors import Anchor, keys_from_settings, read_anchor_file
    from takedown.kit.cli import fail, guarded, settings, unit_of_work

    @guarded
    def run() -> None:
        keys = keys_from_settings(settings())
        extra: list[Anchor] = []
        for path in anchor or []:
            found, problems = read_anchor_file(path)
            if problems or not found:
                fail(f"{path}: " + ("; ".join(problems) or "no checkpoint in this file"))
            extra.extend(found)
        with unit_of_work() as session:
            result = verify(session, keys, extra)
        console = Console()
        for note in result.notes:
            console.print(f"[yellow]note[/]: {note}")
        if result.ok:
            console.print(
                f"[green]audit chain intact[/]: {result.checked} events, head {result.head_hash}, "
                f"held to {result.anchors} anchor(s)"
            )
            return
        where = f" at event {result.first_bad_id}" if result.first_bad_id is not None else ""
        fail(f"audit chain broken{where}: {result.reason}")

    run()


@audit_app.command("checkpoint")
def audit_checkpoint() -> None:
    """Sign the chain's head into a checkpoint now (database and anchor file)."""
    from takedown.audit.tasks import checkpoint_if_due
    from takedown.kit.cli import guarded, session_factory, settings

    @guarded
    def run() -> None:
        anchor = checkpoint_if_due(session_factory(), settings(), force=True)
        if anchor is None:
            Console().print("nothing to anchor: no events, or the head is already anchored")
            return
        Console().print(
            f"checkpoint {anchor.seq}: event {anchor.event_id}, hash {anchor.event_hash}"
        )

    run()


@audit_app.command("head")
def audit_head(
    output: Annotated[Path, typer.Option("--output", "-o", help="where to write the head")],
    note: Annotated[str, typer.Option(help="who or what the head is exported for")] = "",
) -> None:
    """Export the chain's head, signed, to take off the machine (a later `audit verify
    --anchor FILE` proves nothing before it was removed or rewritten)."""
    from takedown.accounts.service import SYSTEM
    from takedown.audit.anchors import head_document, keys_from_settings
    from takedown.audit.service import record
    from takedown.audit.tasks import checkpoint_if_due
    from takedown.kit.cli import guarded, session_factory, settings, unit_of_work

    @guarded
    def run() -> None:
        s = settings()
        with unit_of_work() as session:
            record(session, SYSTEM, "audit.head_exported", "audit", "head", {"note": note})
        anchor = checkpoint_if_due(session_factory(), s, force=True)
        assert anchor is not None  # the event just recorded is a new head
        doc = head_document(anchor, keys_from_settings(s), note)
        output.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        Console().print(
            f"head written to {output}: checkpoint {anchor.seq}, event {anchor.event_id}, "
            f"hash {anchor.event_hash}. Keep it off this machine."
        )

    run()


@audit_app.command("keygen")
def audit_keygen(
    output: Annotated[Path, typer.Option("--output", "-o", help="private key file to create")],
) -> None:
    """Create an Ed25519 key for TAKEDOWN_AUDIT_SIGNING_KEY (its public key goes beside it)."""
    from takedown.audit.anchors import new_signing_key_pem
    from takedown.kit.cli import fail, guarded

    @guarded
    def run() -> None:
        if output.exists():
            fail(f"{output} exists; not overwriting a signing key")
        private, public = new_signing_key_pem()
        fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(private)
        pub_path = output.with_name(output.name + ".pub")
        pub_path.write_bytes(public)
        Console().print(
            f"private key: {output} (set TAKEDOWN_AUDIT_SIGNING_KEY={output}); "
            f"public key: {pub_path}"
        )

    run()
