"""Operation reports: one ``Report`` object, rendered as JSON, HTML, PDF and CSV.

Why one object: the page, the PDF and ``--format json`` must show the same
numbers. Every number lives once, in ``Report.figures`` or a ``Table``; the
renderers only format. Each figure and table carries its one-line definition,
printed in the appendix.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from takedown.accounts.principal import Principal
from takedown.kit import csvfile
from takedown.kit.clock import Clock, SystemClock
from takedown.operations import charts, figures, metrics, repository, service
from takedown.operations.stats import HOUR

PRELIMINARY = "preliminary"
FINAL = "final"
TRANSPARENCY = "transparency"


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    value: float | int | None
    unit: str  # "count" | "share" | "seconds"
    definition: str

    @property
    def display(self) -> str:
        return display(self.value, self.unit)


def display(value: Any, unit: str) -> str:
    if value is None:
        return "not yet known"
    if unit == "share":
        return f"{float(value) * 100:.1f} %"
    if unit == "seconds":
        return charts.fmt_duration(float(value))
    if unit == "count":
        return charts.fmt_int(float(value))
    return str(value)


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    columns: tuple[tuple[str, str, str], ...]  # (key, header, unit)
    rows: list[dict[str, Any]]
    definition: str


@dataclass
class Report:
    kind: str
    generated_at: dt.datetime
    operation: dict[str, Any]
    participants: list[dict[str, Any]]
    figures: list[Figure]
    tables: list[Table]
    charts: list[tuple[str, str]] = field(default_factory=list)  # (caption, svg)

    @property
    def title(self) -> str:
        if self.kind == TRANSPARENCY:
            return str(self.operation["name"])
        word = "Preliminary results" if self.kind == PRELIMINARY else "Final report"
        return f"{self.operation['name']}: {word}"

    def figure(self, key: str) -> Figure:
        return next(f for f in self.figures if f.key == key)

    def table(self, key: str) -> Table:
        return next(t for t in self.tables if t.key == key)

    def to_json(self) -> dict[str, Any]:
        return {
            "report": self.kind,
            "generated_at": _iso(self.generated_at),
            "operation": self.operation,
            "participants": self.participants,
            "figures": {f.key: f.value for f in self.figures},
            "tables": {t.key: t.rows for t in self.tables},
            "definitions": {
                **{f.key: f.definition for f in self.figures},
                **{t.key: t.definition for t in self.tables},
            },
        }


def _iso(t: dt.datetime | None) -> str | None:
    if t is None:
        return None
    return t.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


# --- building ---------------------------------------------------------------------------------

D_TTR = figures.TTR
#: One colour per state, the same on every chart (Okabe–Ito, and greys for the unreferred).
STATE_COLORS = {
    "not_assessed": "#999999",
    "dismissed": "#cccccc",
    "not_referred": "#56B4E9",
    "removed_before_referral": "#CC79A7",
    "awaiting_check": "#F0E442",
    "still_online": "#D55E00",
    "restricted": "#E69F00",
    "claimed_removed": "#0072B2",
    "confirmed_removed": "#009E73",
    "reappeared": "#000000",
}


#: Sections other capabilities add to a final report: ``section(session, operation_id, now)``
#: returns an object with ``title``, ``columns``, ``rows``, ``definition`` and ``charts``, or
#: None. The composition root registers them (resurgence: "Resurgence").
report_sections: list[Callable[[Session, int, dt.datetime], Any]] = []


def build(
    session: Session,
    principal: Principal,
    operation_id: int,
    *,
    final: bool = False,
    clock: Clock | None = None,
) -> Report:
    op = service.get_operation(session, principal, operation_id)
    now = (clock or SystemClock()).now()
    m = metrics.compute(session, op, now)
    d = m.data
    parts = [
        {"agency": a.name, "country": a.country, "role": p.role}
        for p, a in repository.participants_of(session, op.id)
    ]
    # Every figure, under the one name and definition of ``figures``.
    figs = [
        Figure(f.key, f.label, d["figures"][f.key], f.unit, f.definition) for f in figures.FIGURES
    ]
    tables = [
        Table("items_by_platform_kind", "Items by platform and kind",
              (("platform", "Platform", "text"), ("kind", "Kind", "text"),
               ("items", "Items", "count")),
              d["by_platform_kind"], "distinct items per platform and kind"),
        Table("items_by_state", "Items by state",
              (("label", "State", "text"), ("items", "Items", "count")),
              [{**r, "definition": figures.STATE_BY_KEY[r["state"]].definition}
               for r in d["by_state"]],
              "each item in exactly one state at the report time: "
              + "; ".join(f"{s.label}: {s.definition}" for s in figures.STATES)),
        Table("items_by_platform_state", "Items by platform and state",
              (("platform", "Platform", "text"), ("label", "State", "text"),
               ("items", "Items", "count")),
              [{**r, "label": figures.STATE_BY_KEY[r["state"]].label}
               for r in d["by_platform_state"]],
              "the states above, per platform (the chart 'Items by state, per platform')"),
        Table("time_to_removal_by_platform", "Time to removal by platform",
              (("platform", "Platform", "text"), ("referred", "Referred", "count"),
               ("claimed_removed", "Claimed removed (Annex II)", "count"),
               ("confirmed_removed", "Confirmed removed (checks)", "count"),
               ("removed_share", "Confirmed share", "share"),
               ("median_observed_seconds", "Median (removed)", "seconds"),
               ("p90_observed_seconds", "p90 (removed)", "seconds"),
               ("share_within_1h", "Within 1 h (KM)", "share"),
               ("share_within_24h", "Within 24 h (KM)", "share"),
               ("km_median_seconds", "KM median", "seconds")),
              d["time_to_removal"]["by_platform"],
              "per platform, the figures of the same names; " + D_TTR),
        Table("contributions", "Contributions by agency",
              (("agency", "Agency", "text"), ("country", "Country", "text"),
               ("items", "Items", "count"), ("only_this_agency", "Only this agency", "count"),
               ("also_reported_by_others", "Also reported by others", "count")),
              d["contributions"],
              "items each agency added; 'only this agency' items no other agency reported"),
        Table("removals_over_time", "Confirmed removals per hour",
              (("hour", "Hour (UTC)", "text"), ("removed", "Confirmed removed", "count"),
               ("cumulative", "Cumulative", "count")),
              d["removals_over_time"],
              "confirmed removals by the hour of their time of removal (as in time to removal), "
              "and the running total"),
    ]  # fmt: skip
    if final:
        tables += _final_tables(session, op.id, m, now)
    report = Report(
        kind=FINAL if final else PRELIMINARY,
        generated_at=now,
        operation={**d["operation"], "participants": len(parts)},
        participants=parts,
        figures=figs,
        tables=tables,
    )
    report.charts = make_charts(m, final=final)
    for extra in report_sections if final else []:
        sec = extra(session, op.id, now)
        if sec is not None:
            key = sec.title.lower().replace(" ", "_")
            report.tables.append(Table(key, sec.title, sec.columns, sec.rows, sec.definition))
            report.charts += sec.charts
    return report


def _final_tables(
    session: Session, operation_id: int, m: metrics.Metrics, now: dt.datetime
) -> list[Table]:
    rows = repository.removal_rows(session, operation_id)
    t_now = now.timestamp()
    reappeared = [
        {
            "item_id": r.item_id,
            "platform": r.platform,
            "kind": r.kind,
            "removed_at": _iso(dt.datetime.fromtimestamp(r.removed, dt.UTC)) if r.removed else None,
            "reappeared_at": _iso(dt.datetime.fromtimestamp(r.reappeared, dt.UTC)),
            "status": r.status,
        }
        for r in rows
        if r.reappeared is not None and r.reappeared <= t_now
    ]
    curve = [
        {
            "seconds": p.t,
            "at_risk": p.at_risk,
            "removed": p.removed,
            "censored": p.censored,
            "still_online_share": p.survival,
            "ci_low": p.ci_low,
            "ci_high": p.ci_high,
        }
        for p in m.km_all.points
    ]
    return [
        Table("reappeared_items", "Items that reappeared",
              (("item_id", "Item", "text"), ("platform", "Platform", "text"),
               ("kind", "Kind", "text"), ("removed_at", "Removed (UTC)", "text"),
               ("reappeared_at", "Back online (UTC)", "text"), ("status", "Status now", "text")),
              reappeared,
              "removed items a later check found online again at the same address"),
        Table("survival_curve", "Survival curve (Kaplan–Meier)",
              (("seconds", "Seconds after referral", "seconds"), ("at_risk", "At risk", "count"),
               ("removed", "Removed", "count"), ("censored", "Censored", "count"),
               ("still_online_share", "Still online", "share"),
               ("ci_low", "95 % CI low", "share"), ("ci_high", "95 % CI high", "share")),
              curve,
              "share of referred items still online by time since referral; items still online "
              "leave the risk set at the report time (censored); 95 % CI: Greenwood, log-log"),
    ]  # fmt: skip


def _hour_axis(rows: list[dict[str, Any]]) -> tuple[list[tuple[float, float]], charts.Axis]:
    pts: list[tuple[float, float]] = []
    for r in rows:
        t = dt.datetime.fromisoformat(r["hour"].replace("Z", "+00:00")).timestamp()
        pts.append((t + HOUR, float(r["cumulative"])))  # counted by the end of the hour
    if not pts:
        return pts, charts.Axis(())
    lo, hi = pts[0][0] - HOUR, pts[-1][0]
    span_h = max(1, math.ceil((hi - lo) / HOUR))
    step = max(1, math.ceil(span_h / 4))
    ticks = []
    for k in range(0, span_h + 1, step):
        t = lo + k * HOUR
        ticks.append((t, dt.datetime.fromtimestamp(t, dt.UTC).strftime("%d %b %H:%M")))
    ticks = ticks[:5]
    return pts, charts.Axis(ticks)


def make_charts(m: metrics.Metrics, *, final: bool) -> list[tuple[str, str]]:
    d = m.data
    out: list[tuple[str, str]] = []
    out.append(
        (
            "Items by platform",
            charts.bar_chart(
                "Items by platform", [(r["platform"], r["items"]) for r in d["by_platform"]]
            ),
        )
    )
    out.append(
        (
            "Items by kind",
            charts.bar_chart(
                "Items by kind",
                [(r["kind"], r["items"]) for r in d["by_kind"]],
                color=charts.PALETTE[2],
            ),
        )
    )
    states = [st for st in figures.STATES if any(r["state"] == st.key for r in d["by_state"])]
    grid: dict[str, dict[str, int]] = {}
    for r in d["by_platform_state"]:
        grid.setdefault(r["platform"], {})[r["state"]] = r["items"]
    out.append(
        (
            "State by platform",
            charts.stacked_bars(
                "Items by state, per platform",
                [(p, [float(grid[p].get(st.key, 0)) for st in states]) for p in sorted(grid)],
                [st.label for st in states],
                legend_columns=2,
                colors=[STATE_COLORS[st.key] for st in states],
            ),
        )
    )
    pts, axis = _hour_axis(d["removals_over_time"])
    out.append(
        (
            "Confirmed removals over time",
            charts.line_chart(
                "Confirmed removals over time (cumulative)",
                pts,
                axis=axis,
                desc=f"{int(pts[-1][1]) if pts else 0} confirmed removals by the report time",
            ),
        )
    )
    out.append(
        (
            "Median time to removal by platform",
            charts.bar_chart(
                "Median time to removal (removed items)",
                [
                    (r["platform"], r["median_observed_seconds"])
                    for r in d["time_to_removal"]["by_platform"]
                    if r["median_observed_seconds"] is not None
                ],
                value_format="duration",
                color=charts.PALETTE[1],
            ),
        )
    )
    curves = [("all platforms", metrics.thin_curve(m.km_all))]
    if final:
        curves += [(p, metrics.thin_curve(km)) for p, km in m.km_by_platform.items() if km.events]
    horizon = max(7 * 86400.0, m.km_all.max_followup or 0.0)
    out.append(
        (
            "Share still online after referral (Kaplan–Meier)",
            charts.survival_curve(
                "Share still online after referral (Kaplan–Meier, 95 % band)",
                curves[:7],
                horizon_seconds=min(horizon, 30 * 86400.0),
            ),
        )
    )
    return out  # fmt: skip


# --- rendering --------------------------------------------------------------------------------


def cell(value: Any, unit: str) -> str:
    if unit == "text":
        return "" if value is None else str(value)
    return display(value, unit)


def render_html(report: Report, *, standalone: bool = True) -> str:
    from takedown.web.templating import env

    template = env.get_template(
        "operations/report_standalone.html" if standalone else "operations/_report_body.html"
    )
    # The web page folds long tables into <details>; the file and the PDF show their head.
    return template.render(
        report=report, cell=cell, css=_css(), iso=_iso, interactive=not standalone
    )


def _css() -> str:
    from takedown.web.templating import TEMPLATES_DIR

    return (TEMPLATES_DIR / "operations" / "report.css").read_text(encoding="utf-8")


def to_json_text(report: Report) -> str:
    return json.dumps(report.to_json(), ensure_ascii=False, indent=2, default=str)


def table_csv(table: Table) -> str:
    buf = io.StringIO()
    w = csvfile.writer(buf, lineterminator="\n")
    keys = [c[0] for c in table.columns]
    extra = sorted({k for r in table.rows for k in r} - set(keys))
    w.writerow(keys + extra)
    for r in table.rows:
        w.writerow(["" if r.get(k) is None else r.get(k) for k in keys + extra])
    return buf.getvalue()


def figures_csv(report: Report) -> str:
    buf = io.StringIO()
    w = csvfile.writer(buf, lineterminator="\n")
    w.writerow(["key", "label", "value", "unit", "definition"])
    for f in report.figures:
        w.writerow([f.key, f.label, "" if f.value is None else f.value, f.unit, f.definition])
    return buf.getvalue()


def render_pdf(html: str, *, executable: str = "/usr/bin/chromium", timeout_s: float = 60) -> bytes:
    """Print the standalone HTML with Debian's chromium through Playwright (no download)."""
    from playwright.sync_api import sync_playwright

    from takedown.kit.errors import Unavailable

    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=executable,
                args=[
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                ],
            )  # fmt: skip
            try:
                page = browser.new_page()
                # Nothing to fetch: the report is self-contained; block any request anyway.
                page.route("**/*", lambda route: route.abort())
                page.set_content(html, wait_until="domcontentloaded", timeout=timeout_s * 1000)
                pdf = page.pdf(
                    format="A4",
                    print_background=True,
                    margin={"top": "14mm", "bottom": "14mm", "left": "12mm", "right": "12mm"},
                )
            finally:
                browser.close()
    except Exception as exc:  # the browser is missing or crashed: one clear line
        if isinstance(exc, Unavailable):
            raise
        raise Unavailable(f"PDF rendering failed (chromium at {executable}): {exc}") from exc
    return pdf
