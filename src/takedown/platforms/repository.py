"""Every query of the platforms capability."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from takedown.platforms.models import Platform, TcoAuthority


def add(session: Session, row: Platform) -> None:
    session.add(row)
    session.flush()


def by_slug(session: Session, slug: str) -> Platform | None:
    return session.scalars(select(Platform).where(Platform.slug == slug)).first()


def all_platforms(session: Session) -> list[Platform]:
    """Every platform (the registry holds tens of rows, never more)."""
    return list(session.scalars(select(Platform).order_by(Platform.slug)).all())


def existing_slugs(session: Session) -> set[str]:
    return set(session.scalars(select(Platform.slug)).all())


def list_platforms(
    session: Session, *, kind: str | None = None, limit: int = 500, offset: int = 0
) -> tuple[list[Platform], int]:
    q = select(Platform)
    cq = select(func.count()).select_from(Platform)
    if kind is not None:
        q = q.where(Platform.kind == kind)
        cq = cq.where(Platform.kind == kind)
    rows = session.scalars(q.order_by(Platform.slug).limit(limit).offset(offset)).all()
    return list(rows), session.scalar(cq) or 0


def domains_by_slug(session: Session) -> list[tuple[str, list[str]]]:
    """(slug, domains) of every platform, by slug (the canonicaliser's host map)."""
    rows = session.execute(select(Platform.slug, Platform.domains).order_by(Platform.slug)).all()
    return [(slug, list(domains or [])) for slug, domains in rows]


def slugs_of_kinds(session: Session, kinds: tuple[str, ...]) -> list[str]:
    return list(session.scalars(select(Platform.slug).where(Platform.kind.in_(kinds))).all())


def authority(session: Session, country: str) -> TcoAuthority | None:
    return session.get(TcoAuthority, country)


def authorities(session: Session) -> list[TcoAuthority]:
    return list(session.scalars(select(TcoAuthority).order_by(TcoAuthority.country)).all())


def authority_countries(session: Session) -> set[str]:
    return set(session.scalars(select(TcoAuthority.country)).all())


def add_authority(session: Session, row: TcoAuthority) -> None:
    session.add(row)
    session.flush()
