"""Item rows for tests: each call reports a fresh synthetic URL unless one is given."""

from __future__ import annotations

import itertools

from sqlalchemy.orm import Session

from takedown.accounts.principal import Principal
from takedown.items import service
from takedown.items.models import Item
from tests.factories import Actor

_seq = itertools.count(1)


def synthetic_url(n: int | None = None) -> str:
    n = next(_seq) if n is None else n
    return f"https://x.com/synthetic_handle_{n}/status/{1_000_000 + n}"


def make_item(
    session: Session,
    reporter: Actor | Principal,
    *,
    url: str | None = None,
    title: str | None = None,
    note: str = "",
) -> Item:
    principal = reporter.principal if isinstance(reporter, Actor) else reporter
    item, _ = service.report_url(
        session, principal, url or synthetic_url(), note=note, title=title, source="test"
    )
    return item


def make_assessed_item(session: Session, reporter: Actor, **kw: object) -> Item:
    item = make_item(session, reporter, **kw)  # type: ignore[arg-type]
    service.assess(session, reporter.principal, item.id, "terrorist_content", ["a"])
    return item
