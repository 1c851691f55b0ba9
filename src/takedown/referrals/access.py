"""Who may see and act on a referral batch: the helpers every referrals module shares.

Agencies see their own batches; a liaison sees what was delivered to their platform
(``repository.visible``). Anything else is "does not exist" (404), never 403, so
nobody learns which batches exist.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from takedown.accounts.principal import Principal
from takedown.kit.clock import Clock, SystemClock
from takedown.kit.errors import Forbidden, InvalidInput, NotFound
from takedown.referrals import repository
from takedown.referrals.models import Referral


def now_of(clock: Clock | None) -> dt.datetime:
    return (clock or SystemClock()).now()


def require_agency_user(principal: Principal) -> None:
    if principal.via == "system" or principal.agency_id <= 0:
        raise InvalidInput("referrals are made by a user of an agency")
    if principal.is_liaison:
        raise Forbidden("platform liaisons cannot make referrals")


def get_referral(session: Session, principal: Principal, referral_id: int) -> Referral:
    ref = repository.get_visible(session, principal, referral_id)
    if ref is None:
        raise NotFound(f"referral {referral_id} does not exist")
    return ref


def own_referral(session: Session, principal: Principal, referral_id: int) -> Referral:
    """A batch of the principal's own agency (404 for anyone else, liaisons included)."""
    require_agency_user(principal)
    ref = get_referral(session, principal, referral_id)
    if ref.agency_id != principal.agency_id:
        raise NotFound(f"referral {referral_id} does not exist")
    return ref
