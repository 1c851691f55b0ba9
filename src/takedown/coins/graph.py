"""An address's flows as an SVG graph, rendered on the server (the page and a report share it).

Rings by hop: the traced address in the middle, its direct counterparties on the first
ring, theirs on the second, each near the one it came through. Edge width grows with
the value moved; known services are coloured (mixer red, exchange orange).
"""

from __future__ import annotations

import math
from html import escape
from typing import Any

WIDTH, HEIGHT = 760, 640
COLOURS = {"root": "#1d4ed8", "mixer": "#b91c1c", "exchange": "#c2410c", None: "#4b5563"}
MAX_NODES = 60


def short(address: str) -> str:
    return address if len(address) <= 14 else f"{address[:7]}…{address[-5:]}"


def btc(sats: int) -> str:
    return f"{sats / 100_000_000:.8f}".rstrip("0").rstrip(".") + " BTC"


def _layout(
    root: str, nodes: list[dict[str, Any]], edges: list[dict[str, Any]]
) -> dict[str, tuple[float, float]]:
    cx, cy = WIDTH / 2, HEIGHT / 2
    pos: dict[str, tuple[float, float]] = {root: (cx, cy)}
    angle: dict[str, float] = {root: 0.0}
    by_hop: dict[int, list[str]] = {}
    for n in nodes:
        if n["id"] != root:
            by_hop.setdefault(int(n.get("hop", 1)), []).append(n["id"])
    parent: dict[str, str] = {}
    for e in edges:
        for a, b in ((e["source"], e["target"]), (e["target"], e["source"])):
            if a in angle or a in parent.values():
                parent.setdefault(b, a)
    radius = {1: 170.0, 2: 275.0, 3: 300.0, 4: 310.0}
    for hop in sorted(by_hop):
        ids = by_hop[hop]
        if hop == 1:
            for i, nid in enumerate(ids):
                angle[nid] = 2 * math.pi * i / max(1, len(ids))
        else:
            ids.sort(key=lambda x: angle.get(parent.get(x, root), 0.0))
            for i, nid in enumerate(ids):
                angle[nid] = 2 * math.pi * i / max(1, len(ids))
        r = radius.get(hop, 310.0)
        for nid in ids:
            pos[nid] = (cx + r * math.cos(angle[nid]), cy + r * math.sin(angle[nid]))
    return pos


def render_svg(root: str, graph: dict[str, Any], *, title: str = "Flows") -> str:
    nodes = list(graph.get("nodes", []))
    edges = list(graph.get("edges", []))
    if len(nodes) > MAX_NODES:  # keep the nodes carrying the most value
        weight: dict[str, int] = {}
        for e in edges:
            for k in (e["source"], e["target"]):
                weight[k] = weight.get(k, 0) + int(e.get("value", 0))
        keep = {root} | set(sorted(weight, key=lambda k: -weight[k])[: MAX_NODES - 1])
        nodes = [n for n in nodes if n["id"] in keep]
        edges = [e for e in edges if e["source"] in keep and e["target"] in keep]
    pos = _layout(root, nodes, edges)
    top = max([int(e.get("value", 0)) for e in edges] + [1])
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="100%" role="img" aria-labelledby="flow-title" class="flow-graph">',
        f'<title id="flow-title">{escape(title)}</title>',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" '
        'markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" '
        'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" '
        'fill="#6b7280"/></marker></defs>',
    ]
    for e in edges:
        if e["source"] not in pos or e["target"] not in pos:
            continue
        (x1, y1), (x2, y2) = pos[e["source"]], pos[e["target"]]
        d = math.hypot(x2 - x1, y2 - y1) or 1.0
        # stop short of the target's circle so the arrow shows
        x2s, y2s = x2 - (x2 - x1) * 14 / d, y2 - (y2 - y1) * 14 / d
        w = 1 + 5 * math.log10(1 + 9 * int(e.get("value", 0)) / top)
        out.append(
            f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2s:.1f}" y2="{y2s:.1f}" '
            f'stroke="#9ca3af" stroke-width="{w:.1f}" marker-end="url(#arrow)">'
            f"<title>{escape(short(e['source']))} → {escape(short(e['target']))}: "
            f"{escape(btc(int(e.get('value', 0))))} in {int(e.get('txs', 1))} tx</title></line>"
        )
    for n in nodes:
        nid = n["id"]
        if nid not in pos:
            continue
        x, y = pos[nid]
        label = n.get("label")
        colour = COLOURS["root"] if nid == root else COLOURS.get(label, COLOURS[None])
        r = 13 if nid == root else 9
        name = n.get("name") or ""
        out.append(
            f'<g class="flow-node" data-address="{escape(nid)}">'
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" fill="{colour}" stroke="#fff" '
            f'stroke-width="2"><title>{escape(nid)}{" (" + escape(name) + ")" if name else ""}'
            f"</title></circle>"
            f'<text x="{x:.1f}" y="{y + r + 13:.1f}" text-anchor="middle" font-size="11" '
            f'fill="#111827">{escape(name or short(nid))}</text></g>'
        )
    out.append("</svg>")
    return "".join(out)
