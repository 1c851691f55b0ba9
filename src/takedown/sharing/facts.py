"""What leaves the instance, as plain values: the input of the STIX and MISP mappings.

``sharing.gather`` reads these from the other capabilities' services (under the
sharing agency's visibility, its own sightings and assessments only); the mappings in
``stixmap`` and ``misp`` turn them into objects and never touch the database, so they
are pure, fast to test and the same for every exit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from takedown.matching.models import Tlp


@dataclass(frozen=True)
class Producer:
    """The organisation that shares: its STIX identity is derived from name and country,
    so one organisation has one identity on every instance."""

    name: str
    country: str
    contact_point: str = ""


@dataclass(frozen=True)
class SightingFact:
    """One report of the item by the sharing agency: when, nothing of the reporter's notes."""

    id: int
    reported_at: dt.datetime


@dataclass(frozen=True)
class AssessmentFact:
    verdict: str
    categories: tuple[str, ...] = ()
    group: str | None = None
    outlet: str | None = None
    language: str | None = None
    assessed_at: dt.datetime | None = None


@dataclass(frozen=True)
class ItemFact:
    """An item as shared: its URL identity (the canonical URL, never the fetch URL, which
    can carry keys), what the sharer saw, judged and learnt of its removal."""

    identity: str
    platform: str
    kind: str
    key: str
    canonical_url: str
    first_seen_at: dt.datetime
    last_seen_at: dt.datetime
    status: str
    status_changed_at: dt.datetime
    tlp: Tlp
    parent_identity: str | None = None
    title: str | None = None
    first_referred_at: dt.datetime | None = None
    sightings: tuple[SightingFact, ...] = ()
    assessment: AssessmentFact | None = None
    #: The sharer's deconfliction hold: whom to call (never the reason).
    hold_contact_point: str | None = None


@dataclass(frozen=True)
class SignalFact:
    signal_type: str
    value: str
    variant: str = "original"


@dataclass(frozen=True)
class MediaFact:
    """The signals of one piece of media in a bank (its SHA-256, MD5, PDQ... together)."""

    key: str
    bank: str
    signals: tuple[SignalFact, ...]
    tlp: Tlp
    labels: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None


@dataclass(frozen=True)
class OperationFact:
    """An operation's summary: its name, window and totals (no other agency's data)."""

    id: int
    name: str
    starts_at: dt.datetime
    ends_at: dt.datetime | None
    status: str
    totals: dict[str, Any]
    item_identities: tuple[str, ...]
    tlp: Tlp
    published_at: dt.datetime


@dataclass(frozen=True)
class ObservableFact:
    """A value another capability shares through the mappings' extension point
    (``sharing.observables``): for example a watched cryptocurrency address."""

    kind: str
    value: str
    tlp: Tlp
    labels: dict[str, Any] = field(default_factory=dict)
    first_seen_at: dt.datetime | None = None
