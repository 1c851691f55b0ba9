"""Every query of the accounts capability."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from takedown.accounts.models import (
    Agency,
    AgencyKind,
    ApiToken,
    BrowserSession,
    LoginAttempt,
    User,
)


def add(session: Session, row: Agency | User | ApiToken | BrowserSession | LoginAttempt) -> None:
    session.add(row)
    session.flush()


def agency_by_id(session: Session, agency_id: int) -> Agency | None:
    return session.get(Agency, agency_id)


def agency_by_name(session: Session, name: str) -> Agency | None:
    return session.scalars(select(Agency).where(Agency.name == name)).first()


def list_agencies(session: Session, *, limit: int, offset: int) -> tuple[list[Agency], int]:
    total = session.scalar(select(func.count()).select_from(Agency)) or 0
    rows = session.scalars(select(Agency).order_by(Agency.id).limit(limit).offset(offset)).all()
    return list(rows), total


def user_by_id(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def user_by_email(session: Session, email: str) -> User | None:
    return session.scalars(select(User).where(func.lower(User.email) == email.lower())).first()


def list_users(
    session: Session, *, agency_id: int | None, limit: int, offset: int
) -> tuple[list[User], int]:
    q = select(User)
    cq = select(func.count()).select_from(User)
    if agency_id is not None:
        q = q.where(User.agency_id == agency_id)
        cq = cq.where(User.agency_id == agency_id)
    rows = session.scalars(q.order_by(User.id).limit(limit).offset(offset)).all()
    return list(rows), session.scalar(cq) or 0


def count_users(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(User)) or 0


def token_by_hash(session: Session, token_hash: str) -> ApiToken | None:
    return session.scalars(select(ApiToken).where(ApiToken.token_hash == token_hash)).first()


def tokens_of_user(session: Session, user_id: int) -> list[ApiToken]:
    return list(
        session.scalars(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id))
    )


def session_by_hash(session: Session, token_hash: str) -> BrowserSession | None:
    return session.scalars(
        select(BrowserSession).where(BrowserSession.token_hash == token_hash)
    ).first()


def failed_attempts_since(session: Session, key: str, since: dt.datetime) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(LoginAttempt)
            .where(
                LoginAttempt.key == key, LoginAttempt.at >= since, LoginAttempt.success.is_(False)
            )
        )
        or 0
    )


def clear_attempts(session: Session, key: str) -> None:
    session.execute(delete(LoginAttempt).where(LoginAttempt.key == key))


def authority_of_country(session: Session, country: str) -> Agency | None:
    """An agency of that state, its competent authority first (TCO Annex I, Section D)."""
    return session.scalars(
        select(Agency)
        .where(Agency.country == country.upper())
        .order_by((Agency.kind != AgencyKind.COMPETENT_AUTHORITY.value), Agency.id)
    ).first()


def open_sessions_of_user(session: Session, user_id: int, now: dt.datetime) -> list[BrowserSession]:
    """A user's browser sessions that have not ended (a password reset ends them)."""
    return list(
        session.scalars(
            select(BrowserSession).where(
                BrowserSession.user_id == user_id,
                BrowserSession.revoked_at.is_(None),
                BrowserSession.expires_at > now,
            )
        )
    )
