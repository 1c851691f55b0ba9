"""Start-up chores shared by ``serve``, ``db upgrade`` and the tests: migrate, seed, first admin."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from takedown.accounts.principal import Principal
from takedown.config import Settings
from takedown.db import make_sessionmaker, session_scope
from takedown.migrate import upgrade


def prepare_database(engine: Engine) -> list[str]:
    """Migrate, then seed reference data (idempotent: never overwrites an edit).
    Returns the revisions applied (none when the database was up to date)."""
    from takedown.platforms import authorities
    from takedown.platforms.seed import ensure_seeded

    applied = upgrade(engine)
    with session_scope(make_sessionmaker(engine)) as session:
        ensure_seeded(session)
        authorities.ensure_seeded(session)
    return applied


def first_start(factory: sessionmaker[Session]) -> tuple[str, str] | None:
    from takedown.accounts.service import bootstrap_admin

    with session_scope(factory) as session:
        return bootstrap_admin(session)


_wired: dict[str, Settings] = {}


def wire_hooks(settings: Settings) -> None:
    """Connect capabilities that must not import each other (idempotent).

    - a confirmed removal feeds the item's captured media to the removed-content bank,
      so a re-upload of the same media is recognised later;
    - a newly seen or newly removed account or channel becomes a due resurgence scan;
    - checks on demand (``verification.requests``) learn what a referral's included items
      and an operation's referred items are, through those capabilities' own visibility
      (another agency's batch or operation is a 404, as on their routes).
    """
    first = not _wired
    _wired["settings"] = settings  # the newest app or command's settings win
    if not first:
        return
    from takedown.evidence.service import feed_removed_media
    from takedown.evidence.storage.registry import store_for_settings
    from takedown.verification.service import on_removal_confirmed

    def removed(session: Session, item_id: int) -> None:
        feed_removed_media(session, item_id, store=store_for_settings(_wired["settings"]))

    on_removal_confirmed.append(removed)
    _register_check_scopes()
    from takedown.resurgence.service import register_hooks as resurgence_hooks

    resurgence_hooks()  # newly seen and newly removed accounts/channels become due scans
    from takedown.operations.report import report_sections
    from takedown.resurgence.report import section as resurgence_section

    if resurgence_section not in report_sections:
        report_sections.append(resurgence_section)  # the final report's "Resurgence" section


def _register_check_scopes() -> None:
    from takedown.operations import repository as operations_repository
    from takedown.operations import service as operations
    from takedown.referrals import repository as referrals_repository
    from takedown.referrals import service as referrals
    from takedown.referrals.models import ItemState
    from takedown.verification.requests import Scope, register_scope
    from takedown.verification.service import VERIFIED_FROM

    def referral(session: Session, principal: Principal, referral_id: int) -> Scope:
        ref = referrals.own_referral(session, principal, referral_id)
        included = [
            ri.item_id
            for ri, _item in referrals_repository.items_of(session, ref.id)
            if ri.state == ItemState.INCLUDED.value
        ]
        return Scope(f"referral {ref.reference}", included)

    def operation(session: Session, principal: Principal, operation_id: int) -> Scope:
        op = operations.get_operation(session, principal, operation_id)
        by_platform = operations_repository.member_ids_by_platform(
            session, op.id, sorted(s.value for s in VERIFIED_FROM)
        )
        return Scope(f"operation {op.name}", [i for ids in by_platform.values() for i in ids])

    register_scope("referral", referral)
    register_scope("operation", operation)
