"""The control API (``/_sim/...``), served on its own port, never beside platform traffic.

Why separate: nothing a crawler or connector could reach may move the clock
or reveal the ground truth.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
from typing import TYPE_CHECKING, Any

from takedown.sim.app import Fault
from takedown.sim.pages import json_response
from takedown.sim.server import Request, Response
from takedown.sim.urls import locate
from takedown.sim.world import iso

if TYPE_CHECKING:
    from takedown.sim.runtime import Sim


def _body(req: Request) -> dict[str, Any]:
    data: dict[str, Any] = dict(req.query)
    if req.body:
        try:
            loaded = json.loads(req.body)
        except ValueError:
            loaded = None
        if isinstance(loaded, dict):
            data.update(loaded)
    return data


def clock_state(sim: Sim) -> dict[str, Any]:
    w = sim.world
    return {
        "now": iso(sim.clock.ts()),
        "speed": sim.clock.speed,
        "start": iso(w.start),
        "next_event_at": iso(w.next_event_at()),
    }


def handle(sim: Sim, req: Request) -> Response:
    path = req.path.rstrip("/")
    w = sim.world
    app = sim.app
    now = sim.clock.ts()
    w.tick(now)
    try:
        if path == "/_sim/health":
            return json_response({"ok": True, "scenario": w.sc.name, "seed": w.seed})
        if path == "/_sim/clock":
            return json_response(clock_state(sim))
        if path == "/_sim/clock/advance" and req.method == "POST":
            b = _body(req)
            secs = (
                float(b.get("seconds", 0))
                + 60 * float(b.get("minutes", 0))
                + 3600 * float(b.get("hours", 0))
            )
            sim.clock.advance(secs)
            w.tick(sim.clock.ts())
            return json_response(clock_state(sim))
        if path == "/_sim/clock/set" and req.method == "POST":
            when = dt.datetime.fromisoformat(str(_body(req)["now"]).replace("Z", "+00:00"))
            sim.clock.set(when if when.tzinfo else when.replace(tzinfo=dt.UTC))
            w.tick(sim.clock.ts())
            return json_response(clock_state(sim))
        if path == "/_sim/clock/speed" and req.method == "POST":
            sim.clock.set_speed(float(_body(req)["speed"]))
            return json_response(clock_state(sim))
        if path == "/_sim/ground-truth":
            body = "".join(line + "\n" for line in w.ground_truth(now)).encode("utf-8")
            return Response(200, body, "application/x-ndjson")
        if path == "/_sim/items":
            q = req.query
            items = [
                {
                    "id": it.id,
                    "platform": it.platform,
                    "kind": it.kind,
                    "url": it.url,
                    "alive": it.alive(now),
                    "access": it.access,
                    "parent": it.parent,
                }
                for it in w.items.values()
                if it.appeared_at <= now
                and (not q.get("platform") or it.platform == q["platform"])
                and (not q.get("kind") or it.kind == q["kind"])
                and (not q.get("alive") or it.alive(now) == (q["alive"] in ("1", "true")))
            ]
            return json_response(items[: int(q.get("limit", "100000"))])
        if path == "/_sim/referrals":
            return Response(
                200,
                "".join(
                    line + "\n" for line in w.ground_truth(now) if line.startswith('{"ack"')
                ).encode(),
                "application/x-ndjson",
            )
        if path == "/_sim/inbox":
            return json_response(app.state.inbox)
        if path == "/_sim/resolve":
            return json_response(sim.info())
        if path == "/_sim/faults" and req.method == "POST":
            b = _body(req)
            pid = str(b["platform"])
            if pid not in w.platforms:
                return json_response({"error": f"unknown platform {pid}"}, 404)
            f = Fault(
                int(b.get("status", 503)),
                int(b.get("count", 1)),
                int(b["retry_after"]) if b.get("retry_after") is not None else None,
                bool(b.get("drop", False)),
                float(b.get("delay", 0.0)),
            )
            app.state.faults.setdefault(pid, collections.deque()).append(f)
            return json_response({"queued": sum(x.count for x in app.state.faults[pid])})
        if path == "/_sim/faults" and req.method == "DELETE":
            app.state.faults.clear()
            return json_response({"queued": 0})
        if path == "/_sim/behaviour" and req.method == "POST":
            app.state.inject = bool(_body(req).get("inject", True))
            return json_response({"inject": app.state.inject})
        if path == "/_sim/remove" and req.method == "POST":
            b = _body(req)
            it = (
                w.items.get(str(b.get("item_id", "")))
                if b.get("item_id")
                else locate(w, str(b.get("url")))[1]
            )
            if it is None:
                return json_response({"error": "no such item"}, 404)
            w.remove_now(it, now, str(b.get("reason", "forced")))
            return json_response({"id": it.id, "removed_at": iso(it.removed_at)})
        if path == "/_sim/stats":
            return json_response(
                {
                    "requests": app.state.requests,
                    "items": len(w.items),
                    "media": len(w.media),
                    "hosts": app.host_load(),
                }
            )
    except (KeyError, ValueError, TypeError) as exc:
        return json_response({"error": f"bad control request: {exc}"}, 400)
    return json_response({"error": "not found"}, 404)
