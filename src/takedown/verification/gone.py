"""Is an item already gone? The rule that keeps what a platform did by itself out of our figures.

An item found gone *before* a referral is sent is not sent, and never counts as a removal
the referral achieved (``referrals.precheck``). What counts as gone, decided here once:

- **removed**: the detector's ``removed`` outcome. It covers deleted content, an account or
  channel the platform suspended or terminated ("This Post is from a suspended account"),
  and content whose parent account is gone: explicit "gone" pages only, never a timeout,
  a 5xx or a login wall (``platforms.detectors``).
- **withheld**: the detector's ``restricted`` outcome *when it is a legal withholding where
  we look*: HTTP 451 (Unavailable For Legal Reasons: a geo-block), or the platform's own
  "withheld in your country" / "not available in your country" notice. Access is disabled
  where the checker looks from, which is what a removal order asks for; we do not send
  an order for it, and we do not claim its withholding as our removal either.

Not gone (the item is sent as usual): login walls, 401/403, age gates, protected
accounts, private rooms (``restricted`` for any other reason), and ``unreachable`` or
``unknown`` answers: they say nothing about the content.

After a referral the rules are the checker's (``policy``): there a ``restricted`` answer
is a status, not a removal, and a removal counts only after two ``removed`` checks. The
asymmetry is deliberate: both sides keep the referral's removal rate from being inflated.
"""

from __future__ import annotations

import re
from enum import StrEnum

from takedown.platforms.detectors.base import Outcome


class Gone(StrEnum):
    REMOVED = "removed"  # deleted, suspended, terminated
    WITHHELD = "withheld"  # legally withheld where we look (HTTP 451, "withheld in ...")


#: The reasons detectors give for a legal withholding (``generic.GEO_TEXT``, the platforms'
#: ``class="withheld"`` notices, YouTube's "not available in your country", Telegram's
#: "violated local laws").
WITHHELD_REASON = re.compile(
    r"\b451\b|withheld|geo-blocked|legal reasons|in your (country|region)|violated local",
    re.I,
)


def gone(outcome: str, reason: str = "", http_status: int | None = None) -> Gone | None:
    """What a check says about an item that was not referred yet: gone how, or None."""
    if outcome == Outcome.REMOVED.value:
        return Gone.REMOVED
    if outcome == Outcome.RESTRICTED.value and (
        http_status == 451 or WITHHELD_REASON.search(reason or "") is not None
    ):
        return Gone.WITHHELD
    return None
