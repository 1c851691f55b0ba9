"""The detector registry for this instance: built-ins bound to the platform records' domains."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.orm import Session

from takedown.platforms import repository as platforms_repository
from takedown.platforms.detectors.bindings import HostBinding, registry_for
from takedown.platforms.detectors.registry import DetectorRegistry


def parse_rocketchat_auth(entries: list[str]) -> dict[str, dict[str, str]]:
    """``host=USER_ID:TOKEN`` entries -> {host: {"X-User-Id": ..., "X-Auth-Token": ...}}."""
    out: dict[str, dict[str, str]] = {}
    for e in entries:
        host, sep, cred = e.partition("=")
        uid, sep2, token = cred.partition(":")
        if not sep or not sep2 or not host or not uid or not token:
            raise ValueError(f"{e!r} is not host=USER_ID:TOKEN")
        out[host.strip().lower()] = {"X-User-Id": uid.strip(), "X-Auth-Token": token.strip()}
    return out


def registry_from_db(
    session: Session, rocketchat_auth: Mapping[str, Mapping[str, str]] | None = None
) -> DetectorRegistry:
    bindings = []
    auth = rocketchat_auth or {}
    seen: set[str] = set()
    for p in platforms_repository.all_platforms(session):
        domains = tuple(d.lower() for d in (p.domains or []))
        if auth and p.kind == "chat_server":
            for d in domains:
                bindings.append(HostBinding(p.kind, (d,), dict(auth.get(d, {})), p.slug))
                seen.add(d)
            continue
        bindings.append(HostBinding(p.kind, domains, {}, p.slug))
    for host, creds in auth.items():  # servers not in the registry (yet)
        if host in seen:
            continue
        bindings.append(HostBinding("rocketchat", (host,), dict(creds)))
    return registry_for(bindings)
