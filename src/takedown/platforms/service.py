"""Reading and editing platform records. Every edit is audited; nothing commits here."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from takedown.accounts.principal import Principal
from takedown.audit.service import record
from takedown.kit import countries
from takedown.kit.clock import Clock, SystemClock
from takedown.kit.errors import InvalidInput, NotFound
from takedown.platforms import repository
from takedown.platforms.canon.parse import norm_host
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
        if host not in out:
            out.append(host)
    return out


def field_errors(changes: Mapping[str, object]) -> dict[str, str]:
    """Every field's validation message at once (a form shows each beside its field).

    ``update`` stops at the first bad field; a page wants them all. Same rules.
    """
    errors: dict[str, str] = {}
    for name, value in changes.items():
        try:
            _clean(name, value)
        except InvalidInput as exc:
            errors[name] = exc.detail
    return errors


def update(
    session: Session,
    actor: Principal | None,
    slug: str,
    changes: Mapping[str, object],
    *,
    clock: Clock | None = None,
) -> Platform:
    """Apply the given fields (only those present); audit what actually changed."""
    platform = get(session, slug)
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise InvalidInput(f"cannot change {', '.join(unknown)}", fields=unknown)
    diff: dict[str, dict[str, Any]] = {}
    cleaned = {name: _clean(name, value) for name, value in changes.items()}
    for name, value in cleaned.items():
        old = getattr(platform, name)
        if old != value:
            diff[name] = {"from": old, "to": value}
            setattr(platform, name, value)
    if diff:
        platform.updated_at = (clock or SystemClock()).now()
        session.flush()
        record(session, actor, "platform.update", "platform", slug, {"changed": diff}, clock=clock)
    return platform
