"""The "Resurgence" section: one table and two charts, for the page and the final report.

Why here: the same figures show on the resurgence page (the dashboard of
returns) and in an operation's final report, drawn with operations' SVG charts
so the printed report and the page agree. Operations only knows a list of
section builders (``operations.report.report_sections``); the composition
root registers ``section`` there.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from takedown.accounts.service import SYSTEM
from takedown.operations import charts
from takedown.operations.metrics import thin_curve
from takedown.resurgence import service
from takedown.resurgence.figures import Figures

COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("group", "Platform", "text"),
    ("removals", "Removed", "count"),
    ("returned", "Back", "count"),
    ("time_to_return_km_median_seconds", "Time to return (KM median)", "seconds"),
    ("returned_within_24h", "Back in 24 h (KM)", "share"),
    ("time_to_detect_median_seconds", "Detect median", "seconds"),
    ("time_to_detect_p90_seconds", "Detect p90", "seconds"),
    ("lifetime_km_median_seconds", "Lifetime (KM median)", "seconds"),
    ("successors_removed_again", "Removed again", "count"),
    ("generations_text", "Generations", "text"),
)
DEFINITION = (
    "per platform, removed accounts and channels (confirmed by verification, ours or organic); "
    "time to return: removal to the first sighting of a proposed or confirmed successor, "
    "Kaplan–Meier, censored at the report time for those not seen back; time to detect: "
    "successor first seen to proposed; lifetime: proposed to removed again (KM); "
    "generations: successors by how many times the original came back"
)


def rows(figs: dict[str, Figures]) -> list[dict[str, Any]]:
    out = []
    for g, f in figs.items():
        d = f.as_dict()
        d["group"] = g
        d["generations_text"] = ", ".join(f"{k}: {v}" for k, v in sorted(f.generations.items()))
        out.append(d)
    return out


def chart_list(figs: dict[str, Figures]) -> list[tuple[str, str]]:
    curves = [(g, thin_curve(f.return_km)) for g, f in figs.items() if f.return_km.n]
    horizon = max([7 * 86400.0, *(f.return_km.max_followup or 0.0 for f in figs.values())])
    return [
        (
            "Share not back yet after removal (Kaplan–Meier)",
            charts.survival_curve(
                "Not back yet after removal (Kaplan–Meier, 95 % band)",
                curves[:7],
                horizon_seconds=min(horizon, 30 * 86400.0),
                desc="Share of removed accounts and channels with no successor seen, "
                "by time since the removal.",
                measure="not back yet",
            ),
        ),
        (
            "Successors found per platform",
            charts.bar_chart(
                "Successors found (proposed or confirmed)",
                [(g, float(f.detected)) for g, f in figs.items() if g != "all"],
                color=charts.PALETTE[2],
            ),
        ),
    ]


@dataclass(frozen=True, slots=True)
class Section:
    title: str
    columns: tuple[tuple[str, str, str], ...]
    rows: list[dict[str, Any]]
    definition: str
    charts: list[tuple[str, str]]


def section(session: Session, operation_id: int, now: dt.datetime) -> Section | None:
    """The final report's "Resurgence" section for one operation (None when it removed no
    account or channel). Figures over the operation's items, as the system sees them."""

    class _At:
        def now(self) -> dt.datetime:
            return now

    figs = service.figures_by(session, SYSTEM, operation_id=operation_id, clock=_At())
    if figs["all"].removals == 0:
        return None
    return Section("Resurgence", COLUMNS, rows(figs), DEFINITION, chart_list(figs))
