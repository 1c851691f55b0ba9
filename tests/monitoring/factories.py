"""Monitoring rows for tests: sources and Rocket.Chat servers."""

from __future__ import annotations

import itertools

from sqlalchemy.orm import Session

from takedown.monitoring import service
from takedown.monitoring.models import RocketChatServer, Source
from tests.factories import Actor

_seq = itertools.count(1)
SECRET = "test-secret"


def tg_url(n: int | None = None) -> str:
    return f"https://t.me/synthchan{next(_seq) if n is None else n}"


def make_source(session: Session, actor: Actor, url: str | None = None, **kw: object) -> Source:
    src, _ = service.add_source(session, actor.principal, url or tg_url(), **kw)  # type: ignore[arg-type]
    return src


def make_server(
    session: Session,
    actor: Actor,
    base_url: str = "https://chat.synthetic.example",
    *,
    user_id: str = "uid-synthetic",
    token: str = "tok-synthetic-secret",  # noqa: S107 (synthetic)
) -> RocketChatServer:
    return service.add_server(
        session, actor.principal, base_url, user_id=user_id, token=token, secret_key=SECRET
    )
