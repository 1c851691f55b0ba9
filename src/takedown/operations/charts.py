"""Server-side SVG charts: the same markup on the dashboard, in the HTML report and in the PDF.

Why hand-written SVG: no JavaScript (the CSP forbids inline scripts and the
deployments are often air-gapped), no third-party chart library, and the
printed report shows exactly what the page shows. Only SVG presentation
attributes are used (no ``style``), so the CSP's ``style-src 'self'`` holds.
Every chart has a ``<title>`` and ``<desc>`` (read by screen readers) and
prints its values as text next to the marks. Every string is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

#: Okabe–Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
INK = "#1b1f24"
MUTED = "#5b6470"
GRID = "#d8dde3"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif"

_counter = 0


def _id(prefix: str) -> str:
    global _counter
    _counter = (_counter + 1) % 1_000_000
    return f"{prefix}-{_counter}"


def _a(value: object) -> str:
    return escape(str(value), quote=True)


def _num(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def fmt_int(v: float) -> str:
    return f"{round(v):,}".replace(",", " ")


def fmt_duration(seconds: float | None) -> str:
    """Seconds as a short human duration: 45 s, 12 min, 3.5 h, 2.1 d."""
    if seconds is None:
        return "—"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def _open(width: int, height: int, title: str, desc: str, kind: str) -> tuple[list[str], str]:
    tid, did = _id("t"), _id("d")
    head = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{_a(kind)}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-labelledby="{tid} {did}" font-family="{_a(FONT)}" font-size="12" fill="{INK}">',
        f'<title id="{tid}">{escape(title)}</title>',
        f'<desc id="{did}">{escape(desc)}</desc>',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="8" y="18" font-size="14" font-weight="600">{escape(title)}</text>',
    ]
    return head, tid


def _empty(width: int, height: int, title: str, desc: str, kind: str, note: str) -> str:
    out, _ = _open(width, height, title, desc, kind)
    out.append(
        f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" fill="{MUTED}">'
        f"{escape(note)}</text>"
    )
    out.append("</svg>")
    return "\n".join(out)


def _nice_max(v: float, steps: int = 4) -> float:
    """The smallest ``steps * step >= v`` with a round step (1, 2, 2.5, 5 x 10^k, >= 1)."""
    if v <= 0:
        return float(steps)
    raw = v / steps
    exp = 10.0 ** math.floor(math.log10(raw))
    for m in (1.0, 2.0, 2.5, 5.0, 10.0):
        step = m * exp
        if step >= raw and (step >= 1 or m != 2.5):
            return float(max(1.0, step) * steps)
    return float(10 * exp * steps)


def bar_chart(
    title: str,
    rows: Sequence[tuple[str, float]],
    *,
    desc: str = "",
    width: int = 560,
    value_format: str = "int",
    color: str = PALETTE[0],
) -> str:
    """Horizontal bars, one per row, with the value printed after each bar."""
    fmt = fmt_duration if value_format == "duration" else fmt_int
    desc = desc or "; ".join(f"{label}: {fmt(v)}" for label, v in rows)
    if not rows:
        return _empty(width, 80, title, desc or "no data", "bar", "no data yet")
    bar_h, gap, top = 18, 6, 30
    label_w = min(170, 12 + 7 * max(len(label) for label, _ in rows))
    value_w = 70
    height = top + len(rows) * (bar_h + gap) + 10
    out, _ = _open(width, height, title, desc, "bar")
    span = width - label_w - value_w - 10
    vmax = max((v for _, v in rows), default=0) or 1.0
    for i, (label, v) in enumerate(rows):
        y = top + i * (bar_h + gap)
        w = max(0.0, span * v / vmax)
        out.append(
            f'<text x="{label_w - 6}" y="{y + bar_h * 0.72:.1f}" text-anchor="end">'
            f"{escape(label)}</text>"
        )
        out.append(
            f'<rect x="{label_w}" y="{y}" width="{_num(w)}" height="{bar_h}" fill="{_a(color)}">'
            f"<title>{escape(label)}: {escape(fmt(v))}</title></rect>"
        )
        out.append(
            f'<text x="{label_w + w + 4:.1f}" y="{y + bar_h * 0.72:.1f}">{escape(fmt(v))}</text>'
        )
    out.append("</svg>")
    return "\n".join(out)


def stacked_bars(
    title: str,
    rows: Sequence[tuple[str, Sequence[float]]],
    series: Sequence[str],
    *,
    desc: str = "",
    width: int = 560,
    legend_columns: int = 3,
    colors: Sequence[str] = PALETTE,
) -> str:
    """Horizontal stacked bars (e.g. items per platform split by state) with a legend;
    series ``j`` is drawn in ``colors[j]`` (repeating when there are more series)."""
    if not desc:
        desc = "; ".join(
            f"{label}: " + ", ".join(f"{s} {fmt_int(v)}" for s, v in zip(series, vals, strict=True))
            for label, vals in rows
        )
    if not rows:
        return _empty(width, 80, title, desc or "no data", "stacked", "no data yet")
    bar_h, gap, top = 18, 6, 30
    legend_rows = math.ceil(len(series) / legend_columns)
    label_w = min(170, 12 + 7 * max(len(label) for label, _ in rows))
    total_w = 60
    height = top + len(rows) * (bar_h + gap) + 10 + legend_rows * 18 + 6
    out, _ = _open(width, height, title, desc, "stacked")
    span = width - label_w - total_w - 10
    vmax = max((sum(vals) for _, vals in rows), default=0) or 1.0
    for i, (label, vals) in enumerate(rows):
        y = top + i * (bar_h + gap)
        x = float(label_w)
        out.append(
            f'<text x="{label_w - 6}" y="{y + bar_h * 0.72:.1f}" text-anchor="end">'
            f"{escape(label)}</text>"
        )
        for j, v in enumerate(vals):
            if v <= 0:
                continue
            w = span * v / vmax
            out.append(
                f'<rect x="{_num(x)}" y="{y}" width="{_num(w)}" height="{bar_h}" '
                f'fill="{colors[j % len(colors)]}"><title>{escape(label)}, '
                f"{escape(series[j])}: {fmt_int(v)}</title></rect>"
            )
            x += w
        out.append(f'<text x="{x + 4:.1f}" y="{y + bar_h * 0.72:.1f}">{fmt_int(sum(vals))}</text>')
    ly = top + len(rows) * (bar_h + gap) + 10
    col_w = (width - 16) / legend_columns
    for j, name in enumerate(series):
        lx = 8 + (j % legend_columns) * col_w
        yy = ly + (j // legend_columns) * 18
        fill = colors[j % len(colors)]
        out.append(f'<rect x="{lx:.1f}" y="{yy}" width="12" height="12" fill="{fill}"/>')
        out.append(f'<text x="{lx + 16:.1f}" y="{yy + 10}">{escape(name)}</text>')
    out.append("</svg>")
    return "\n".join(out)


@dataclass(frozen=True, slots=True)
class Axis:
    """Tick positions (in data units) and their labels for the x axis."""

    ticks: Sequence[tuple[float, str]]


def _frame(
    out: list[str], x0: float, y0: float, w: float, h: float, ymax: float, yfmt: str
) -> None:
    for k in range(5):
        v = ymax * k / 4
        y = y0 + h - h * k / 4
        out.append(
            f'<line x1="{x0}" y1="{y:.1f}" x2="{x0 + w}" y2="{y:.1f}" stroke="{GRID}" '
            'stroke-width="1"/>'
        )
        label = f"{v * 100:.0f} %" if yfmt == "share" else fmt_int(v)
        out.append(
            f'<text x="{x0 - 6}" y="{y + 4:.1f}" text-anchor="end" fill="{MUTED}">{label}</text>'
        )


#: A generous width of one character at font-size 12 (digits and dashes of tick labels).
CHAR_W = 7.0


def _half_label(label: str) -> float:
    return len(label) * CHAR_W / 2


def line_chart(
    title: str,
    points: Sequence[tuple[float, float]],
    *,
    axis: Axis,
    desc: str = "",
    width: int = 560,
    height: int = 240,
    step: bool = True,
    y_label: str = "",
) -> str:
    """A cumulative count over time (step line); x in any unit, labelled by ``axis``."""
    desc = desc or (
        f"{len(points)} points; last value {fmt_int(points[-1][1])}" if points else "no data"
    )
    if not points:
        return _empty(width, 80, title, desc, "line", "no data yet")
    # The x labels are centred on their ticks: keep half of the first and last label inside.
    ends = sorted(axis.ticks)
    left = max(56.0, _half_label(ends[0][1]) + 4) if ends else 56.0
    right = max(16.0, _half_label(ends[-1][1]) + 4) if ends else 16.0
    x0, y0, w, h = left, 46.0, width - left - right, height - 80.0
    out, _ = _open(width, height, title, desc, "line")
    xs = [p[0] for p in points]
    xmin = min([*xs, *(t for t, _ in axis.ticks)])
    xmax = max([*xs, *(t for t, _ in axis.ticks)])
    xspan = (xmax - xmin) or 1.0
    ymax = _nice_max(max(p[1] for p in points))
    _frame(out, x0, y0, w, h, ymax, "int")

    def px(x: float) -> float:
        return x0 + w * (x - xmin) / xspan

    def py(y: float) -> float:
        return y0 + h - h * y / ymax

    d = [f"M{px(points[0][0]):.1f},{py(0):.1f}"]
    prev_y = 0.0
    for x, y in points:
        if step:
            d.append(f"L{px(x):.1f},{py(prev_y):.1f}")
        d.append(f"L{px(x):.1f},{py(y):.1f}")
        prev_y = y
    out.append(f'<path d="{" ".join(d)}" fill="none" stroke="{PALETTE[0]}" stroke-width="2"/>')
    lx, ly = points[-1]
    out.append(
        f'<text x="{min(px(lx), x0 + w) - 2:.1f}" y="{py(ly) - 6:.1f}" text-anchor="end" '
        f'font-weight="600">{fmt_int(ly)}</text>'
    )
    for t, label in axis.ticks:
        out.append(
            f'<text x="{px(t):.1f}" y="{y0 + h + 16:.1f}" text-anchor="middle" fill="{MUTED}">'
            f"{escape(label)}</text>"
        )
    if y_label:
        out.append(f'<text x="8" y="{y0 - 14}" fill="{MUTED}">{escape(y_label)}</text>')
    out.append("</svg>")
    return "\n".join(out)


def survival_curve(
    title: str,
    curves: Sequence[tuple[str, Sequence[tuple[float, float, float | None, float | None]]]],
    *,
    horizon_seconds: float,
    desc: str = "",
    width: int = 560,
    height: int = 260,
    marks: Sequence[tuple[float, str]] = ((3600, "1 h"), (86400, "24 h"), (604800, "7 d")),
    measure: str = "still online",
) -> str:
    """Kaplan–Meier step curves (share still online vs time since referral), with the
    first curve's 95 % band shaded; x on a log-like time axis so 1 h and 7 d both show."""
    desc = desc or "Share of referred items still online by time since referral."
    if not curves or not any(pts for _, pts in curves):
        return _empty(width, 80, title, desc, "survival", "no referred items yet")
    legend_rows = math.ceil(len(curves) / 2)
    height += 16 * (legend_rows - 1)
    x0, y0, w, h = 56.0, 46.0, width - 72.0, height - 96.0 - 16 * (legend_rows - 1)
    out, _ = _open(width, height, title, desc, "survival")
    tmax = max(horizon_seconds, 60.0)

    def px(t: float) -> float:
        # log1p in minutes keeps the first hour readable next to a week
        return x0 + w * math.log1p(max(t, 0.0) / 60) / math.log1p(tmax / 60)

    def py(s: float) -> float:
        return y0 + h - h * s

    _frame(out, x0, y0, w, h, 1.0, "share")
    for t, label in marks:
        if t <= tmax:
            out.append(
                f'<line x1="{px(t):.1f}" y1="{y0}" x2="{px(t):.1f}" y2="{y0 + h}" '
                f'stroke="{GRID}" stroke-dasharray="3 3"/>'
            )
            out.append(
                f'<text x="{px(t):.1f}" y="{y0 + h + 16:.1f}" text-anchor="middle" '
                f'fill="{MUTED}">{escape(label)}</text>'
            )
    for idx, (name, pts) in enumerate(curves):
        color = PALETTE[idx % len(PALETTE)]
        clipped = [p for p in pts if p[0] <= tmax]
        if idx == 0:
            band_hi: list[str] = []
            band_lo: list[str] = []
            prev_lo, prev_hi = 1.0, 1.0
            for t, _s, lo, hi in clipped:
                lo_v = prev_lo if lo is None else lo
                hi_v = prev_hi if hi is None else hi
                band_hi += [f"{px(t):.1f},{py(prev_hi):.1f}", f"{px(t):.1f},{py(hi_v):.1f}"]
                band_lo += [f"{px(t):.1f},{py(prev_lo):.1f}", f"{px(t):.1f},{py(lo_v):.1f}"]
                prev_lo, prev_hi = lo_v, hi_v
            if band_hi:
                band_hi.append(f"{px(tmax):.1f},{py(prev_hi):.1f}")
                band_lo.append(f"{px(tmax):.1f},{py(prev_lo):.1f}")
                poly = " ".join([f"{px(0):.1f},{py(1):.1f}", *band_hi, *reversed(band_lo)])
                out.append(f'<polygon points="{poly}" fill="{color}" fill-opacity="0.15"/>')
        d = [f"M{px(0):.1f},{py(1):.1f}"]
        s_prev = 1.0
        for t, s, _lo, _hi in clipped:
            d.append(f"L{px(t):.1f},{py(s_prev):.1f}")
            d.append(f"L{px(t):.1f},{py(s):.1f}")
            s_prev = s
        d.append(f"L{px(tmax):.1f},{py(s_prev):.1f}")
        out.append(f'<path d="{" ".join(d)}" fill="none" stroke="{color}" stroke-width="2"/>')
        ly = y0 + h + 34 + 16 * (idx // 2)
        lx = 8 + (idx % 2) * ((width - 16) / 2)
        out.append(f'<rect x="{lx:.1f}" y="{ly - 10}" width="12" height="12" fill="{color}"/>')
        out.append(
            f'<text x="{lx + 16:.1f}" y="{ly}">{escape(name)}: '
            f"{s_prev * 100:.0f} % {escape(measure)}</text>"
        )
    out.append(f'<text x="8" y="{y0 - 14}" fill="{MUTED}">share {escape(measure)}</text>')
    out.append("</svg>")
    return "\n".join(out)
