"""Destination checks for outbound requests (the SSRF guard).

Why a separate module: the rule "never connect to a private, loopback,
link-local, multicast or reserved address unless allow-listed" must be applied
to the *resolved* address, on every connection (redirects included), and be
testable without a network. ``kit.backends`` calls these functions from the
network backend under ``kit.http``'s pools, so a check always sits right
before ``connect()`` (or before the proxy is told the address, ``kit.proxy``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping

from takedown.kit.errors import Forbidden

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class BlockedDestination(Forbidden):
    """A request was refused because its destination is not a public address."""

    title = "Blocked destination"
    type_slug = "blocked-destination"


def parse_resolve(text: str) -> dict[str, str]:
    """Parse ``TAKEDOWN_RESOLVE``: ``host=ip:port`` entries separated by commas or spaces.

    ``*.example.com=127.0.0.1:8000`` maps example.com and every subdomain of it.
    ``takedown.config.Settings`` parses the setting with this function.
    """
    out: dict[str, str] = {}
    for raw in text.replace("\n", ",").replace(" ", ",").split(","):
        entry = raw.strip()
        if not entry:
            continue
        host, sep, target = entry.partition("=")
        if not sep or not host or not target:
            raise ValueError(f"resolver entry {entry!r} is not host=ip:port")
        out[host.strip().lower().rstrip(".")] = target.strip()
    return out


def format_resolve(resolve: Mapping[str, str]) -> str:
    return ",".join(f"{h}={t}" for h, t in sorted(resolve.items()))


def lookup_resolve(resolve: Mapping[str, str], host: str) -> tuple[str, int | None] | None:
    """Return ``(ip, port|None)`` for ``host`` from the map, honouring ``*.`` wildcards."""
    h = host.lower().rstrip(".")
    target = resolve.get(h)
    if target is None:
        parts = h.split(".")
        for i in range(len(parts)):
            target = resolve.get("*." + ".".join(parts[i:]))
            if target is not None:
                break
    if target is None:
        return None
    return split_hostport(target)


def split_hostport(target: str) -> tuple[str, int | None]:
    if target.startswith("["):
        ip, _, rest = target[1:].partition("]")
        return ip, int(rest[1:]) if rest.startswith(":") else None
    if target.count(":") == 1:
        ip, _, port = target.partition(":")
        return ip, int(port)
    return target, None


def parse_allow(entries: Iterable[str]) -> tuple[list[IPNetwork], set[str]]:
    """Split allow-list entries into networks (``10.0.0.0/8``, ``127.0.0.1``) and hostnames."""
    nets: list[IPNetwork] = []
    names: set[str] = set()
    for e in entries:
        e = e.strip()
        if not e:
            continue
        try:
            nets.append(ipaddress.ip_network(e, strict=False))
        except ValueError:
            names.add(e.lower().rstrip("."))
    return nets, names


def is_public(ip: IPAddress) -> bool:
    """True only for globally routable unicast addresses (IPv4-mapped IPv6 is unwrapped)."""
    if isinstance(ip, ipaddress.IPv6Address):
        mapped = ip.ipv4_mapped or ip.sixtofour
        if mapped is not None:
            return is_public(mapped)
        if ip.teredo is not None:
            return False
    if ip.is_multicast or ip.is_unspecified or ip.is_reserved:
        return False
    if ip.is_loopback or ip.is_link_local or ip.is_private:
        return False
    return ip.is_global


def check_address(
    host: str,
    address: str,
    allow_nets: Iterable[IPNetwork] = (),
    allow_names: Iterable[str] = (),
) -> None:
    """Raise ``BlockedDestination`` unless ``address`` (what ``host`` resolved to) may be used."""
    try:
        ip: IPAddress = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError as exc:
        raise BlockedDestination(f"{host}: {address!r} is not an IP address") from exc
    if is_public(ip):
        return
    if host.lower().rstrip(".") in set(allow_names):
        return
    check = ip
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        check = ip.ipv4_mapped
    for net in allow_nets:
        if check.version == net.version and check in net:
            return
    raise BlockedDestination(
        f"refusing to connect to {host} ({ip}): not a public address "
        "(private, loopback, link-local, multicast or reserved); allow-list it if intended",
        host=host,
        address=str(ip),
    )
