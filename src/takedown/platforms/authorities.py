"""The registry of TCO competent authorities, one per EU Member State (Art. 4, Art. 12).

A removal order to a provider established in another Member State is copied to the
competent authority of that state, which may scrutinise it within 72 hours (Art. 4);
Annex I, Section D names it. It used to be looked up among the *agencies* of that
country, so an order to X (established in IE) named "X Corp (platform)", the
platform's own liaison agency. The authority is now a row of this registry:

- seeded from ``takedown/data/tco_authorities.json`` (the Commission's published list,
  as far as it could be recalled offline): every seeded row is *unconfirmed*, and no
  contact point is seeded ("to be confirmed by the admin" rather than an invented
  address); seeding adds missing states and never overwrites an edit;
- edited by admins (page, API, CLI), every change audited as ``tco_authority.update``;
- read by ``referrals.annex`` for Section D, with a warning whenever the registry
  cannot give a confirmed name and contact point, so an order preview says what is
  missing instead of printing a wrong name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from sqlalchemy.orm import Session

from takedown.accounts.principal import Principal
from takedown.audit.service import record
from takedown.kit import countries
from takedown.kit.clock import Clock, SystemClock
from takedown.kit.errors import Forbidden, InvalidInput, NotFound
from takedown.platforms import repository
from takedown.platforms.models import TcoAuthority

EU_MEMBER_STATES = frozenset(
    {
        "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
        "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
    }
)  # fmt: skip
TO_CONFIRM = "to be confirmed by the admin"
EDITABLE = ("name", "contact_point", "confirmed", "notes")

_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z0-9\-]{2,}")
_URL_RE = re.compile(r"https?://[^\s/?#]+\.[^\s/?#]+(?:[/?#]\S*)?")


@dataclass(frozen=True, slots=True)
class HostAuthority:
    """What Section D can say about a host state's authority, and what is missing."""

    country: str
    name: str | None
    contact_point: str | None
    confirmed: bool
    warning: str | None


def seed_rows() -> list[dict[str, Any]]:
    text = resources.files("takedown").joinpath("data/tco_authorities.json").read_text("utf-8")
    rows: list[dict[str, Any]] = json.loads(text)["authorities"]
    return rows


def ensure_seeded(session: Session, *, clock: Clock | None = None) -> list[str]:
    """Add the Member States missing from the registry (unconfirmed); never overwrites."""
    have = repository.authority_countries(session)
    now = (clock or SystemClock()).now()
    added = []
    for row in seed_rows():
        if row["country"] in have:
            continue
        repository.add_authority(
            session,
            TcoAuthority(
                country=row["country"],
                name=row.get("name"),
                contact_point=None,
                confirmed=False,
                notes="Seeded from the Commission's list as recalled offline: confirm the name "
                "and fill in the contact point.",
                updated_at=now,
            ),
        )
        added.append(row["country"])
    return added


def list_authorities(session: Session) -> list[TcoAuthority]:
    return repository.authorities(session)


def get(session: Session, country: str) -> TcoAuthority:
    row = repository.authority(session, _country(country))
    if row is None:
        raise NotFound(f"no TCO authority is recorded for {country.upper()}")
    return row


def _country(value: object) -> str:
    code = value.strip().upper() if isinstance(value, str) else ""
    if code not in EU_MEMBER_STATES:
        raise InvalidInput(
            f"{value!r} is not an EU Member State (ISO 3166-1 alpha-2, e.g. IE)", field="country"
        )
    return code


def _clean(name: str, value: object) -> Any:
    if name == "confirmed":
        if not isinstance(value, bool):
            raise InvalidInput("confirmed must be true or false", field=name)
        return value
    if value is not None and not isinstance(value, str):
        raise InvalidInput(f"{name} must be text", field=name)
    text = (value or "").strip()
    limit = {"name": 300, "contact_point": 500, "notes": 10_000}[name]
    if len(text) > limit:
        raise InvalidInput(f"{name} is longer than {limit} characters", field=name)
    if (name == "notes" and "\x00" in text) or (name != "notes" and _CONTROL_RE.search(text)):
        raise InvalidInput(f"{name} contains control characters", field=name)
    if name == "notes":
        return text
    if (
        name == "contact_point"
        and text
        and not (_EMAIL_RE.fullmatch(text) or _URL_RE.fullmatch(text))
    ):
        raise InvalidInput("contact_point must be an e-mail address or an http(s) URL", field=name)
    return text or None


def field_errors(changes: Mapping[str, object]) -> dict[str, str]:
    errors: dict[str, str] = {}
    for name, value in changes.items():
        try:
            _clean(name, value)
        except InvalidInput as exc:
            errors[name] = exc.detail
    return errors


def update(
    session: Session,
    actor: Principal,
    country: str,
    changes: Mapping[str, object],
    *,
    clock: Clock | None = None,
) -> TcoAuthority:
    """Set the given fields of a Member State's authority (admins); audited with the diff.

    A state missing from the registry gets its row. Confirming needs a name and a contact
    point: a confirmed entry is what Section D prints without a warning.
    """
    if not actor.instance_wide:
        raise Forbidden(
            "the TCO authorities are shared by every agency (Section D of their orders "
            "names them): only the instance operator edits them"
        )
    code = _country(country)
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise InvalidInput(f"cannot change {', '.join(unknown)}", fields=unknown)
    cleaned = {name: _clean(name, value) for name, value in changes.items()}
    now = (clock or SystemClock()).now()
    row = repository.authority(session, code)
    if row is None:
        row = TcoAuthority(country=code, confirmed=False, notes="", updated_at=now)
        repository.add_authority(session, row)
    diff: dict[str, dict[str, Any]] = {}
    for name, value in cleaned.items():
        old = getattr(row, name)
        if old != value:
            diff[name] = {"from": old, "to": value}
            setattr(row, name, value)
    if row.confirmed and not (row.name and row.contact_point):
        raise InvalidInput(
            "an authority is confirmed with its name and its contact point", field="confirmed"
        )
    if diff:
        row.updated_at = now
        row.updated_by = actor.user_id if actor.user_id > 0 else None
        session.flush()
        record(session, actor, "tco_authority.update", "tco_authority", code, {"changed": diff},
               clock=clock)  # fmt: skip
    return row


def for_state(session: Session, country: str) -> HostAuthority:
    """The host state's authority for Section D, with a warning when it cannot be trusted."""
    code = (country or "").upper()
    name = f"{countries.country_name(code)} ({code})"
    if code not in EU_MEMBER_STATES:
        return HostAuthority(
            code, None, None, False,
            f"{name} is not an EU Member State: no authority there scrutinises orders under "
            "Art. 4. Record on the platform the Member State of its main establishment or of "
            "its legal representative.",
        )  # fmt: skip
    row = repository.authority(session, code)
    if row is None or not row.name:
        return HostAuthority(
            code, None, None, False,
            f"No competent authority is recorded for {name}: an admin adds it under "
            "Administration → TCO authorities, from the Commission's published list. "
            "Section D names no authority until then.",
        )  # fmt: skip
    warning = None
    if not row.contact_point:
        warning = (
            f"The contact point of {row.name} ({code}) is {TO_CONFIRM}: the copy of this "
            "order under Art. 4 cannot be sent until it is recorded."
        )
    elif not row.confirmed:
        warning = (
            f"{row.name} ({code}) is recorded as seeded and not yet confirmed by an admin "
            "against the Commission's published list."
        )
    return HostAuthority(code, row.name, row.contact_point, row.confirmed, warning)
