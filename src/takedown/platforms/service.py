"""Reading, creating and editing platform records. Every change is audited; nothing
commits here.

A platform's domains are how the canonicaliser knows its URLs (``platforms.hosts``), so
a host belongs to one platform only: a domain another registry row lists, or one a
built-in rule gives to another platform (``x.com`` is X's), is refused. A sub-domain of
another platform's domain may be claimed: the most specific claim wins
(``canon.dispatch.registry_platform``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from takedown.accounts.principal import Principal
from takedown.audit.service import record
from takedown.kit import countries
from takedown.kit.clock import Clock, SystemClock
from takedown.kit.errors import Conflict, Forbidden, InvalidInput, NotFound, TakedownError
from takedown.platforms import hosts, repository
from takedown.platforms.canon.dispatch import builtin_platform
from takedown.platforms.canon.parse import norm_host, strip_host_prefixes
from takedown.platforms.canon.types import InvalidURL
from takedown.platforms.models import DeliveryChannel, Platform, PlatformKind

EDITABLE = (
    "name",
    "kind",
    "country",
    "domains",
    "legal_representative",
    "tco_contact_point",
    "delivery_channel",
    "api_endpoint",
    "notes",
)
SLUG_RE = re.compile(r"[a-z0-9][a-z0-9_\-]{0,63}")
# Page routes next to /admin/platforms/{slug}; and the canonicaliser's catch-all slugs.
RESERVED_SLUGS = frozenset({"new", "website", "onion"})
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z0-9\-]{2,}")
_URL_RE = re.compile(r"https?://[^\s/?#]+\.[^\s/?#]+(?:[/?#]\S*)?")


def get(session: Session, slug: str) -> Platform:
    platform = repository.by_slug(session, slug)
    if platform is None:
        raise NotFound(f"no platform {slug!r}")
    return platform


def list_platforms(
    session: Session, *, kind: str | None = None, limit: int = 500, offset: int = 0
) -> tuple[list[Platform], int]:
    if kind is not None:
        _enum(PlatformKind, kind, "kind")
    return repository.list_platforms(session, kind=kind, limit=limit, offset=offset)


def _enum(enum: type[PlatformKind] | type[DeliveryChannel], value: object, name: str) -> str:
    allowed = [e.value for e in enum]
    if value not in allowed:
        raise InvalidInput(f"{name} must be one of {', '.join(allowed)}", field=name)
    return str(value)


def _text(value: object, name: str, max_len: int, *, optional: bool) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if optional:
            return None
        raise InvalidInput(f"{name} must not be empty", field=name)
    if not isinstance(value, str):
        raise InvalidInput(f"{name} must be text", field=name)
    value = value.strip()
    # Notes may span lines; nothing may hold NUL, which PostgreSQL cannot store.
    bad = "\x00" in value if name == "notes" else _CONTROL_RE.search(value) is not None
    if bad:
        raise InvalidInput(f"{name} contains control characters", field=name)
    if len(value) > max_len:
        raise InvalidInput(f"{name} is longer than {max_len} characters", field=name)
    return value


def _clean(name: str, value: object) -> Any:
    if name == "name":
        return _text(value, name, 200, optional=False)
    if name == "kind":
        return _enum(PlatformKind, value, name)
    if name == "delivery_channel":
        return _enum(DeliveryChannel, value, name)
    if name == "country":
        text = _text(value, name, 64, optional=True)
        code = None if text is None else text.upper()
        # A platform is established in a state; "EU" (ISO's reserved code) names no such place.
        if code is not None and (code == countries.EU or not countries.is_country(code)):
            raise InvalidInput("country must be an ISO 3166-1 alpha-2 code, e.g. IE", field=name)
        return code
    if name == "tco_contact_point":
        text = _text(value, name, 500, optional=True)
        if text is not None and not (_EMAIL_RE.fullmatch(text) or _URL_RE.fullmatch(text)):
            raise InvalidInput(
                "tco_contact_point must be an e-mail address or an http(s) URL", field=name
            )
        return text
    if name == "api_endpoint":
        text = _text(value, name, 500, optional=True)
        if text is not None and not _URL_RE.fullmatch(text):
            raise InvalidInput("api_endpoint must be an http(s) URL", field=name)
        return text
    if name == "legal_representative":
        return _text(value, name, 500, optional=True)
    if name == "notes":
        return _text(value, name, 10_000, optional=True) or ""
    if name == "domains":
        return _domains(value)
    raise InvalidInput(f"{name} cannot be changed", field=name)


def _domains(value: object) -> list[str]:
    if not isinstance(value, list | tuple) or not all(isinstance(d, str) for d in value):
        raise InvalidInput("domains must be a list of host names", field="domains")
    out: list[str] = []
    for raw in value:
        try:
            host = norm_host(raw.strip())
        except (InvalidURL, UnicodeError, ValueError) as exc:
            raise InvalidInput(f"domains: {raw!r} is not a host name", field="domains") from exc
        # A platform is named by host names: no IP literal, no "localhost", no bare label.
        if "." not in host or host.startswith("[") or host.replace(".", "").isdigit():
            raise InvalidInput(f"domains: {raw!r} is not a host name", field="domains")
        if host not in out:
            out.append(host)
    return out


def _check_claims(session: Session, slug: str, domains: list[str]) -> None:
    """Each domain may belong to this platform only (see the module docstring)."""
    owners = {
        strip_host_prefixes(d): other
        for other, ds in repository.domains_by_slug(session)
        if other != slug
        for d in ds
    }
    for domain in domains:
        bare = strip_host_prefixes(domain)
        other = owners.get(bare)
        if other is None:
            try:
                builtin = builtin_platform(domain)
            except (InvalidURL, UnicodeError, ValueError) as exc:
                detail = exc.detail if isinstance(exc, InvalidURL) else str(exc)
                raise InvalidInput(f"domains: {domain}: {detail}", field="domains") from exc
            other = builtin if builtin != slug else None
        if other is not None:
            raise Conflict(
                f"domains: {domain} already belongs to the platform {other!r}", field="domains"
            )


def _slug(session: Session, value: object) -> str:
    if not isinstance(value, str) or not SLUG_RE.fullmatch(value.strip()):
        raise InvalidInput(
            "slug must be 1 to 64 lower-case letters, digits, '-' or '_', starting with a "
            "letter or digit",
            field="slug",
        )
    slug = value.strip()
    if slug in RESERVED_SLUGS:
        raise InvalidInput(f"slug {slug!r} is reserved", field="slug")
    if repository.by_slug(session, slug) is not None:
        raise Conflict(f"slug {slug!r}: a platform with this slug already exists", field="slug")
    return slug


def field_errors(
    changes: Mapping[str, object], *, session: Session | None = None, slug: str | None = None
) -> dict[str, str]:
    """Every field's validation message at once (a form shows each beside its field).

    ``update`` and ``create_platform`` stop at the first bad field; a page wants them all.
    Same rules. With a ``session``, also whether the domains are free for ``slug``, and,
    when ``changes`` has a ``slug`` (a new platform), whether that slug is.
    """
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    for name, value in changes.items():
        try:
            cleaned[name] = _slug_or_clean(session, name, value)
        except TakedownError as exc:
            errors[name] = exc.detail
    if session is not None and "domains" in cleaned:
        try:
            _check_claims(session, cleaned.get("slug") or slug or "", cleaned["domains"])
        except TakedownError as exc:
            errors["domains"] = exc.detail
    return errors


def _slug_or_clean(session: Session | None, name: str, value: object) -> Any:
    if name != "slug":
        return _clean(name, value)
    if session is None:
        raise InvalidInput("cannot change slug", field="slug")
    return _slug(session, value)


REQUIRED = ("slug", "name", "kind")

#: Why an agency's administrator may not edit the registry: every agency's orders go to the
#: contact points it holds, so one agency must not be able to redirect another's.
SHARED = (
    "the platform registry is shared by every agency (their orders go to the contact points "
    "it holds): only the instance operator edits it"
)


def create_platform(
    session: Session,
    actor: Principal,
    fields: Mapping[str, object],
    *,
    clock: Clock | None = None,
) -> Platform:
    """Add a platform to the registry (admins); audited as ``platform.create``.

    ``fields``: ``slug``, ``name`` and ``kind`` are required; every other field of
    ``EDITABLE`` is optional (``delivery_channel`` defaults to export, the channel that
    needs nothing of the platform). The new domains are the canonicaliser's at once.
    """
    if not actor.instance_wide:
        raise Forbidden(SHARED)
    unknown = sorted(set(fields) - set(EDITABLE) - {"slug"})
    if unknown:
        raise InvalidInput(f"cannot set {', '.join(unknown)}", fields=unknown)
    missing = [f for f in REQUIRED if fields.get(f) in (None, "")]
    if missing:
        raise InvalidInput(f"{missing[0]} must not be empty", field=missing[0])
    slug = _slug(session, fields["slug"])
    cleaned = {name: _clean(name, value) for name, value in fields.items() if name != "slug"}
    cleaned.setdefault("delivery_channel", DeliveryChannel.EXPORT.value)
    cleaned.setdefault("domains", [])
    cleaned.setdefault("notes", "")
    _check_claims(session, slug, cleaned["domains"])
    now = (clock or SystemClock()).now()
    platform = Platform(slug=slug, created_at=now, updated_at=now, **cleaned)
    repository.add(session, platform)
    record(session, actor, "platform.create", "platform", slug, {"fields": cleaned}, clock=clock)
    hosts.load(session)
    return platform


def update(
    session: Session,
    actor: Principal | None,
    slug: str,
    changes: Mapping[str, object],
    *,
    clock: Clock | None = None,
) -> Platform:
    """Apply the given fields (only those present); audit what actually changed."""
    if actor is not None and not actor.instance_wide:
        raise Forbidden(SHARED)
    platform = get(session, slug)
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise InvalidInput(f"cannot change {', '.join(unknown)}", fields=unknown)
    diff: dict[str, dict[str, Any]] = {}
    cleaned = {name: _clean(name, value) for name, value in changes.items()}
    if "domains" in cleaned:
        _check_claims(session, slug, cleaned["domains"])
    for name, value in cleaned.items():
        old = getattr(platform, name)
        if old != value:
            diff[name] = {"from": old, "to": value}
            setattr(platform, name, value)
    if diff:
        platform.updated_at = (clock or SystemClock()).now()
        session.flush()
        record(session, actor, "platform.update", "platform", slug, {"changed": diff}, clock=clock)
        if "domains" in diff:
            hosts.load(session)
    return platform
