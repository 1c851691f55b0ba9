"""The agencies' report files for an action day, with the mess real files have.

Why the mess: the importer must cope with what agencies actually send: the
same item in other URL forms (twitter.com vs x.com, youtu.be, t.me/s/,
mobile hosts, tracking parameters), duplicates, broken lines, a BOM, CRLF
line ends and one file in cp1252. ``ground-truth-reports.jsonl`` links each
data line back to its item, so an import can be scored.
"""

from __future__ import annotations

import csv
import io
import json
import random
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from takedown.sim.world import Item, World, iso

COUNTRIES = ["BE", "DE", "FR", "NL", "ES", "IT", "AT", "PL", "PT", "SE", "IE", "FI", "CZ", "DK"]
FORMATS = ["csv", "jsonl", "txt"]
NOTES = [
    "",
    "",
    "seen in channel",
    "re-upload",
    "priority",
    "from monitoring",
    "Meldung",
    "signalé",
]
MALFORMED = ["htp:/broken-link", "N/A", "see attachment", "https://", "x.com/", "\u00a0", "t.me/s/"]


@dataclass(slots=True)
class Line:
    url: str
    reported_at: int
    agency: str
    note: str
    kind: str
    item_id: str | None


def agencies(n: int) -> list[str]:
    return [
        f"IRU-{COUNTRIES[i % len(COUNTRIES)]}"
        + (f"-{i // len(COUNTRIES) + 1}" if i >= len(COUNTRIES) else "")
        for i in range(n)
    ]


def messy_form(rng: random.Random, world: World, it: Item) -> str:
    """Another URL for the same item, as an analyst might have copied it."""
    p = world.platforms[it.platform]
    u = urllib.parse.urlsplit(it.url)
    path, query = u.path, u.query
    host = u.netloc
    t = p.type
    choice = rng.random()
    if t == "microblog":
        host = rng.choice([h for h in p.hosts if h != host] or [host])
        if choice < 0.5 and it.kind == "post":
            query = rng.choice(["s=20", "s=46&t=AbCdEf12", "ref_src=twsrc%5Etfw"])
    elif t == "video" and it.kind == "video":
        if choice < 0.4:
            return f"https://youtu.be/{it.key}" + rng.choice(["", "?si=Xy12abCD", "?t=42"])
        if choice < 0.7:
            host, query = "m.youtube.com", f"v={it.key}&feature=share"
        else:
            host, query = "youtube.com", f"v={it.key}&t={rng.randint(1, 90)}s"
    elif t == "telegram":
        if choice < 0.5:
            path = "/s" + path
        elif choice < 0.7:
            host = "telegram.me" if "telegram.me" in p.hosts else host
        else:
            query = "utm_source=share&utm_medium=copy"
    else:
        if choice < 0.4:
            query = (
                query + "&" if query else ""
            ) + "utm_source=twitter&utm_medium=social&utm_campaign=x"
        elif choice < 0.7:
            host = host.upper()
        elif not path.endswith("/") and "." not in path.rsplit("/", 1)[-1] and "?" not in it.url:
            path += "/"
    scheme = "http" if rng.random() < 0.1 and not host.endswith(".onion") else u.scheme
    out = urllib.parse.urlunsplit((scheme, host, path, query, u.fragment))
    if rng.random() < 0.1:
        out = out.split("://", 1)[1]  # no scheme at all
    return out


def build_lines(world: World) -> dict[str, list[Line]]:
    sc = world.sc.reports
    names = agencies(sc.agencies)
    rng = world.rng("reports")
    window = int(sc.window_hours * 3600)
    per: dict[str, list[Line]] = {a: [] for a in names}
    for it in world.items.values():
        if it.appeared_at > world.start or it.successor_of is not None:
            continue
        if rng.random() >= sc.coverage:
            continue
        who = [rng.choice(names)]
        if rng.random() < sc.overlap:
            who.append(rng.choice(names))
        for a in who:
            t = world.start + rng.randint(0, window)
            url = it.url if rng.random() > 0.3 else messy_form(rng, world, it)
            per[a].append(
                Line(url, t, a, rng.choice(NOTES), it.kind if rng.random() < 0.5 else "", it.id)
            )
            if rng.random() < sc.messy_duplicates:
                per[a].append(
                    Line(messy_form(rng, world, it), t + rng.randint(0, 3600), a, "", "", it.id)
                )
    for a in names:
        lines = per[a]
        rng.shuffle(lines)
        for _ in range(sc.malformed_lines):
            lines.insert(
                rng.randrange(len(lines) + 1),
                Line(rng.choice(MALFORMED), world.start, a, "", "", None),
            )
    return per


def export_reports(world: World, out_dir: str | Path) -> dict[str, int]:
    """Write one report file per agency and ``ground-truth-reports.jsonl``; lines per file."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    per = build_lines(world)
    truth: list[str] = []
    counts: dict[str, int] = {}
    for i, (agency, lines) in enumerate(per.items()):
        fmt = FORMATS[i % len(FORMATS)]
        encoding = "utf-8"
        newline = "\n"
        if i % 4 == 1:
            encoding = "utf-8-sig"  # BOM
        if i % 3 == 2 or i % 5 == 0:
            newline = "\r\n"
        if i == 3:
            encoding = "cp1252"
        name = f"{agency.lower()}-report.{fmt}"
        buf = io.StringIO(newline="")
        if fmt == "csv":
            w = csv.writer(buf, lineterminator=newline)
            w.writerow(["url", "reported_at", "agency", "note", "kind"])
            for ln in lines:
                w.writerow([ln.url, iso(ln.reported_at), ln.agency, ln.note, ln.kind])
            first = 2
        elif fmt == "jsonl":
            for ln in lines:
                buf.write(
                    json.dumps(
                        {
                            "url": ln.url,
                            "reported_at": iso(ln.reported_at),
                            "agency": ln.agency,
                            "note": ln.note or None,
                            "kind": ln.kind or None,
                        },
                        ensure_ascii=False,
                    )
                    + newline
                )
            first = 1
        else:
            buf.write(f"# {agency} - URLs reported during the action day{newline}")
            for ln in lines:
                buf.write(ln.url + newline)
            first = 2
        (out / name).write_bytes(buf.getvalue().encode(encoding, errors="replace"))
        for n, ln in enumerate(lines):
            truth.append(
                json.dumps(
                    {
                        "file": name,
                        "line": first + n,
                        "url": ln.url,
                        "item_id": ln.item_id,
                        "agency": agency,
                        "reported_at": iso(ln.reported_at),
                    },
                    ensure_ascii=False,
                )
            )
        counts[name] = len(lines)
    (out / "ground-truth-reports.jsonl").write_text("\n".join(truth) + "\n", encoding="utf-8")
    return counts
