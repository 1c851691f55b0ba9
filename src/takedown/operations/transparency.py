"""The competent authority's annual transparency report (TCO Art. 8), per platform.

Art. 8(1) asks for: removal orders issued, split into those that led to removal
and those that did not; Art. 4 scrutiny decisions; Art. 5 decisions; review
proceedings; penalties. The same split is given for voluntary (ToS) referrals.

Definitions: a referral or order is counted in the calendar year (UTC) it was
issued (or sent, when it has no issue time); a batch cancelled before it went out, or
closed unsent because every item was already gone just before sending, was never issued
and is not counted (its items count as removed before referral). It "led to removal" when every
URL it carried was removed (the platform's Annex II answer, or a removal the
checker confirmed), "partly" when some were, "no removal" when none was.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy.orm import Session

from takedown.accounts.principal import Principal
from takedown.kit.clock import Clock, SystemClock
from takedown.kit.errors import Forbidden, InvalidInput
from takedown.operations import repository
from takedown.operations.models import LegalEventKind
from takedown.operations.report import TRANSPARENCY, Figure, Report, Table

KIND_LABEL = {"removal_order": "removal orders", "tos": "referrals"}
LEGAL_LABEL = {
    LegalEventKind.SCRUTINY.value: "Art. 4 scrutiny decisions",
    LegalEventKind.EXPOSURE.value: "Art. 5(4) exposure decisions",
    LegalEventKind.SPECIFIC_MEASURES.value: "Art. 5 decisions on specific measures",
    LegalEventKind.REVIEW.value: "review proceedings",
    LegalEventKind.PENALTY.value: "penalties",
}


def _per_platform(rows: list[repository.ReferralOutcomeRow], kind: str) -> list[dict[str, Any]]:
    acc: dict[str, dict[str, Any]] = defaultdict(
        lambda: {
            "issued": 0,
            "led_to_removal": 0,
            "partly": 0,
            "no_removal": 0,
            "urls": 0,
            "urls_removed": 0,
            "cannot_comply": 0,
            "reasons": defaultdict(int),
        }
    )
    for r in rows:
        if r.kind != kind:
            continue
        a = acc[r.platform]
        a["issued"] += 1
        a["urls"] += r.items
        a["urls_removed"] += r.removed
        a["cannot_comply"] += r.cannot_comply
        if r.items and r.removed >= r.items:
            a["led_to_removal"] += 1
        elif r.removed:
            a["partly"] += 1
        else:
            a["no_removal"] += 1
        for reason in r.reasons:
            a["reasons"][reason] += 1
    out = []
    for platform in sorted(acc):
        a = acc[platform]
        out.append(
            {
                "platform": platform,
                "issued": a["issued"],
                "led_to_removal": a["led_to_removal"],
                "partly": a["partly"],
                "no_removal": a["no_removal"],
                "urls": a["urls"],
                "urls_removed": a["urls_removed"],
                "urls_not_removed": a["urls"] - a["urls_removed"],
                "cannot_comply": a["cannot_comply"],
                "cannot_comply_reasons": "; ".join(
                    f"{k}: {v}" for k, v in sorted(a["reasons"].items())
                ),
            }
        )
    return out


def _sum(rows: list[dict[str, Any]], key: str) -> int:
    return sum(int(r[key]) for r in rows)


COLUMNS = (
    ("platform", "Platform", "text"),
    ("issued", "Issued", "count"),
    ("led_to_removal", "Led to removal", "count"),
    ("partly", "Partly", "count"),
    ("no_removal", "No removal", "count"),
    ("urls", "URLs", "count"),
    ("urls_removed", "URLs removed", "count"),
    ("urls_not_removed", "URLs not removed", "count"),
    ("cannot_comply", "Annex III answers", "count"),
    ("cannot_comply_reasons", "Annex III reasons", "text"),
)


def build(
    session: Session, principal: Principal, year: int, *, clock: Clock | None = None
) -> Report:
    """The report of the principal's agency for a calendar year (UTC)."""
    if principal.is_liaison or principal.agency_id <= 0:
        raise Forbidden("the transparency report is an authority's own report")
    if not 2000 <= year <= 2200:
        raise InvalidInput("year must be between 2000 and 2200")
    start = dt.datetime(year, 1, 1, tzinfo=dt.UTC)
    end = dt.datetime(year + 1, 1, 1, tzinfo=dt.UTC)
    agency = repository.agency_by_id(session, principal.agency_id)
    name = agency.name if agency else f"agency {principal.agency_id}"
    outcomes = repository.referral_outcomes(session, principal.agency_id, start, end)
    orders = _per_platform(outcomes, "removal_order")
    tos = _per_platform(outcomes, "tos")
    events: list[dict[str, Any]] = [
        {"kind": k, "label": LEGAL_LABEL.get(k, k), "outcome": o, "platform": p or "—",
         "count": n, "amount_eur": a}
        for k, o, p, n, a in repository.legal_event_counts(session, principal.agency_id, start, end)
    ]  # fmt: skip

    def events_of(kind: str) -> int:
        return sum(int(e["count"]) for e in events if e["kind"] == kind)

    figures = [
        Figure("orders_issued", "Removal orders issued", _sum(orders, "issued"), "count",
               "TCO Art. 3 removal orders issued by the authority in the year"),
        Figure("orders_led_to_removal", "Orders that led to removal",
               _sum(orders, "led_to_removal"), "count",
               "orders whose every URL was removed (Annex II or a confirmed removal)"),
        Figure("orders_partly", "Orders that led to partial removal", _sum(orders, "partly"),
               "count", "orders with some but not all URLs removed"),
        Figure("orders_no_removal", "Orders that did not lead to removal",
               _sum(orders, "no_removal"), "count", "orders with no URL removed"),
        Figure("referrals_issued", "Referrals issued", _sum(tos, "issued"), "count",
               "voluntary referrals under the platforms' terms of service"),
        Figure("referrals_led_to_removal", "Referrals that led to removal",
               _sum(tos, "led_to_removal"), "count", "referrals whose every URL was removed"),
        Figure("scrutiny_decisions", "Art. 4 scrutiny decisions",
               events_of(LegalEventKind.SCRUTINY.value), "count",
               "decisions on the scrutiny of cross-border removal orders (Art. 4(3)-(4))"),
        Figure("art5_decisions", "Art. 5 decisions",
               events_of(LegalEventKind.EXPOSURE.value)
               + events_of(LegalEventKind.SPECIFIC_MEASURES.value), "count",
               "exposure decisions (Art. 5(4)) and decisions on specific measures (Art. 5(6)-(7))"),
        Figure("review_proceedings", "Review proceedings",
               events_of(LegalEventKind.REVIEW.value), "count",
               "administrative or judicial review proceedings (Art. 9) recorded in the year"),
        Figure("penalties", "Penalties", events_of(LegalEventKind.PENALTY.value), "count",
               "penalty decisions (Art. 18) recorded in the year"),
    ]  # fmt: skip
    tables = [
        Table("removal_orders_by_platform", "Removal orders by platform", COLUMNS, orders,
              "per platform: orders issued in the year and what became of their URLs"),
        Table("referrals_by_platform", "Referrals by platform", COLUMNS, tos,
              "the same for voluntary (terms-of-service) referrals"),
        Table("legal_events", "Scrutiny, Art. 5, review and penalty decisions",
              (("label", "Decision", "text"), ("outcome", "Outcome", "text"),
               ("platform", "Platform", "text"), ("count", "Count", "count"),
               ("amount_eur", "Amount (EUR)", "count")),
              events, "legal events recorded by the authority, by kind, outcome and platform"),
    ]  # fmt: skip
    now = (clock or SystemClock()).now()
    return Report(
        kind=TRANSPARENCY,
        generated_at=now,
        operation={"name": f"Transparency report {year}: {name}", "year": year,
                   "agency_id": principal.agency_id, "agency": name},
        participants=[],
        figures=figures,
        tables=tables,
    )  # fmt: skip
