"""Every figure of an operation, defined once: its key, its label, its unit, its meaning.

Why one module: the same word once meant three things (the intake pages' "duplicates
folded" counted every repeated report, the dashboard's only those of another agency; a
"confirmed removed" bar segment came from the platform's word while the card of that name
counted the checks). Now every place that shows a figure takes it from here: the
dashboard's cards, the report's key figures and its appendix (HTML, PDF, JSON), the
figures CSV, the API's metrics, and the demo's summary. ``metrics.compute`` fills the
values; nothing else names or defines a figure. Where two figures differ on purpose, both
are here under their own names ("claimed removed (Annex II)" and "confirmed removed
(checks)"; "duplicates folded (all)" and "reported by more than one agency").

The items of an operation are also split into **states** (:data:`STATES`, one per item,
:func:`item_state`): the "state by platform" chart and the "items by state" table. A
state that shares a word with a figure says how it differs (a confirmed removal that came
back is "reappeared", not "confirmed removed, still gone").
"""

from __future__ import annotations

from dataclasses import dataclass

from takedown.items.intake import DUPLICATES_FOLDED


@dataclass(frozen=True, slots=True)
class FigureDef:
    key: str
    label: str
    unit: str  # "count" | "share" | "seconds"
    definition: str
    #: One of the dashboard's cards (the report and the API give every figure).
    card: bool = False


TTR = (
    "time from an item's first referral to its removal, counted only once the checker confirmed "
    "it (two 'removed' checks); the time of removal is the one the platform stated (Annex II "
    "or its status API) when the checks agree with it (after the last 'online' check, no later "
    "than the first 'removed' one, never before the platform received the referral), "
    "otherwise the first 'removed' check"
)

FIGURES: tuple[FigureDef, ...] = (
    FigureDef(
        "items",
        "Items",
        "count",
        "distinct items in the operation: one per platform address, however many agencies "
        "or lines reported it",
        card=True,
    ),
    FigureDef(
        "reports",
        "Reports",
        "count",
        "reports of the operation's items (sightings: each line of an import, each single "
        "report) by the agencies that contributed them",
    ),
    FigureDef(
        "duplicates_folded",
        "Duplicates folded (all)",
        "count",
        f"reports - items: {DUPLICATES_FOLDED}; the intake page's figure of the same name "
        "is this, for one file",
        card=True,
    ),
    FigureDef(
        "reported_by_several",
        "Reported by more than one agency",
        "count",
        "items that two or more agencies contributed to the operation (each agency stays credited)",
        card=True,
    ),
    FigureDef(
        "agencies",
        "Agencies contributing",
        "count",
        "agencies that added at least one item",
        card=True,
    ),
    FigureDef("platforms", "Platforms", "count", "distinct platforms the items are on", card=True),
    FigureDef(
        "referred",
        "Referred",
        "count",
        "items sent to their platform at least once (referral or removal order)",
        card=True,
    ),
    FigureDef(
        "removed_before_referral",
        "Removed before referral",
        "count",
        "items never referred that were found already removed, suspended or withheld "
        "(HTTP 451, 'withheld in your country') when they entered a batch or were checked "
        "just before sending, so they were not sent; never counted in a referral's "
        "removal rate or time to removal",
        card=True,
    ),
    FigureDef(
        "claimed_removed",
        "Claimed removed (Annex II)",
        "count",
        "referred items the platform says it removed: an Annex II answer, or a time of "
        "removal stated through its status API, whether or not the checks confirm it",
        card=True,
    ),
    FigureDef(
        "confirmed_removed",
        "Confirmed removed (checks)",
        "count",
        "referred items whose removal the checker confirmed (two 'removed' checks) by the "
        "report time, including those that later reappeared",
        card=True,
    ),
    FigureDef(
        "removed_share",
        "Confirmed removed, share of referred",
        "share",
        "confirmed removed (checks) / referred",
        card=True,
    ),
    FigureDef(
        "share_within_1h",
        "Removed within 1 hour (Kaplan–Meier)",
        "share",
        "Kaplan–Meier estimate of the share of referred items whose removal was confirmed "
        "within 1 hour of referral (items still online are censored)",
        card=True,
    ),
    FigureDef(
        "share_within_24h",
        "Removed within 24 hours (Kaplan–Meier)",
        "share",
        "the same estimate at 24 hours",
    ),
    FigureDef(
        "share_within_7d",
        "Removed within 7 days (Kaplan–Meier)",
        "share",
        "the same estimate at 7 days; 'not yet known' until an item has been followed that long",
    ),
    FigureDef(
        "km_median_seconds",
        "Median time to removal (Kaplan–Meier)",
        "seconds",
        "the time by which half of the referred items were removed, counting the items "
        "still online; 'not yet known' while fewer than half are down",
    ),
    FigureDef(
        "median_observed_seconds",
        "Median time to removal (removed items)",
        "seconds",
        "the smallest time within which at least half of the confirmed removed items "
        f"came down (nearest rank); {TTR}",
        card=True,
    ),
    FigureDef(
        "p90_observed_seconds",
        "90th percentile (removed items)",
        "seconds",
        "the smallest time within which at least 90 % of the confirmed removed items came down",
    ),
    FigureDef(
        "removals_dated_by_platform",
        "Removal times stated by the platform",
        "count",
        "confirmed removals whose time of removal is the platform's own statement "
        "(Annex II or its status API); the others are dated by the first 'removed' "
        "check, the latest the removal can have been",
    ),
    FigureDef(
        "reappeared",
        "Reappeared",
        "count",
        "confirmed removed items a later check found online again at the same address",
    ),
    FigureDef(
        "held",
        "On deconfliction hold",
        "count",
        "items under an active deconfliction hold of any agency (not referred while held)",
        card=True,
    ),
)
BY_KEY: dict[str, FigureDef] = {f.key: f for f in FIGURES}
CARDS: tuple[FigureDef, ...] = tuple(f for f in FIGURES if f.card)
if len(BY_KEY) != len(FIGURES):  # pragma: no cover - a typo caught at import
    raise ValueError("two figures share a key")


@dataclass(frozen=True, slots=True)
class StateDef:
    key: str
    label: str
    definition: str


#: Every item of an operation is in exactly one state (the order of the chart's segments).
STATES: tuple[StateDef, ...] = (
    StateDef("not_assessed", "not assessed", "reported, not assessed yet"),
    StateDef("dismissed", "dismissed", "assessed as not terrorist content"),
    StateDef("not_referred", "assessed, not referred", "assessed, never sent to its platform"),
    StateDef("removed_before_referral", "removed before referral",
             BY_KEY["removed_before_referral"].definition),
    StateDef("awaiting_check", "referred, no verdict yet",
             "referred; the checks have not found it removed or restricted, nor still online "
             "an hour after the referral"),
    StateDef("still_online", "referred, still online",
             "referred; the checks find it online more than an hour after the referral"),
    StateDef("restricted", "referred, restricted",
             "referred; the checks find it behind a login wall, geo-block or similar "
             "(not a removal)"),
    StateDef("claimed_removed", "claimed removed (Annex II), not confirmed",
             "referred; the platform says it removed it, the checks have not confirmed it"),
    StateDef("confirmed_removed", "confirmed removed (checks), still gone",
             "referred; the checker confirmed its removal and has not found it back"),
    StateDef("reappeared", "reappeared after a confirmed removal",
             "referred; confirmed removed, then found online again at the same address"),
)  # fmt: skip
STATE_KEYS = tuple(s.key for s in STATES)
STATE_BY_KEY: dict[str, StateDef] = {s.key: s for s in STATES}


def item_state(
    *,
    status: str,
    referred: bool,
    gone_before: bool,
    removed: bool,
    reappeared: bool,
    claimed: bool,
) -> str:
    """The one state of an item (as of the report time), from its row's facts.

    ``referred``: it has a first referral; ``gone_before``: a batch kept it out as already
    gone; ``removed``/``reappeared``: its confirmed removal (and return) by the report time;
    ``claimed``: the platform stated a removal (Annex II or its status API).
    """
    if not referred:
        if gone_before or status in ("removed", "reappeared"):
            return "removed_before_referral"
        if status == "new":
            return "not_assessed"
        if status == "dismissed":
            return "dismissed"
        return "not_referred"
    if removed:
        return "reappeared" if reappeared else "confirmed_removed"
    if claimed:
        return "claimed_removed"
    if status == "restricted":
        return "restricted"
    if status == "still_online":
        return "still_online"
    return "awaiting_check"
