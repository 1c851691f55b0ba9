"""Map any URL form the real platforms accept to a testbed item.

Why: referrals and reports arrive in many forms (twitter.com vs x.com,
youtu.be, t.me/s/, mobile hosts, tracking parameters); the simulated
platforms must recognise all of them, as the real ones do.
"""

from __future__ import annotations

import urllib.parse

from takedown.sim.world import Item, World


def split(url: str) -> tuple[str, str, dict[str, str]]:
    u = urllib.parse.urlsplit(url.strip())
    host = (u.hostname or "").lower()
    query = dict(urllib.parse.parse_qsl(u.query))
    return host, u.path or "/", query


def locate(world: World, url: str) -> tuple[str | None, Item | None]:
    """Return ``(platform_id, item)`` for ``url``; either may be None."""
    host, path, query = split(url)
    pid = world.hosts.get(host)
    if pid is None:
        return None, None
    return pid, key_item(world, pid, host, path, query)


def key_item(world: World, pid: str, host: str, path: str, query: dict[str, str]) -> Item | None:
    p = world.platforms[pid]
    parts = [urllib.parse.unquote(x) for x in path.split("/") if x]
    t = p.type
    if t == "microblog":
        if len(parts) >= 3 and parts[1] == "status":
            return world.find(pid, parts[2])
        if len(parts) >= 4 and parts[:3] == ["i", "web", "status"]:
            return world.find(pid, parts[3])
        if len(parts) == 1:
            return world.find(pid, parts[0].lstrip("@"))
        return None
    if t == "video":
        if host == "youtu.be" and parts:
            return world.find(pid, parts[0])
        if parts[:1] == ["watch"] and "v" in query:
            return world.find(pid, query["v"])
        if len(parts) == 2 and parts[0] in ("shorts", "embed", "v", "live"):
            return world.find(pid, parts[1])
        if len(parts) == 1 and parts[0].startswith("@"):
            return world.find(pid, parts[0][1:])
        return None
    if t == "telegram":
        if parts[:1] == ["s"]:
            parts = parts[1:]
        if len(parts) >= 2 and parts[1].isdigit():
            return world.find(pid, f"{parts[0]}/{parts[1]}")
        if len(parts) == 1:
            return world.find(pid, parts[0])
        return None
    if t == "rocketchat":
        if len(parts) == 2 and parts[0] in ("channel", "group"):
            if "msg" in query:
                return world.find(pid, query["msg"])
            return world.find(pid, parts[1])
        return None
    if t in ("filehost", "paste"):
        if len(parts) >= 2 and parts[0] in ("f", "d", "raw", "u"):
            return world.find(pid, parts[1])
        if len(parts) == 1:
            return world.find(pid, parts[0])
        return None
    if t == "website":
        site = world.site_by_host.get(host.removeprefix("www."))
        if not parts:
            return site
        if len(parts) == 3 and parts[2].endswith(".html"):
            it = world.find(pid, f"{parts[0]}/{parts[1]}/{parts[2][:-5]}")
            if it is not None and site is not None and it.parent == site.id:
                return it
        return None
    if t == "onion_forum" and len(parts) == 2 and parts[0] in ("thread", "post"):
        return world.find(pid, parts[1])
    return None
