"""STIX 2.1 mapping of what takedown shares, built with OASIS's ``stix2`` library.

- An item is a ``url`` (posts, messages, files, pages) or a ``user-account`` (accounts and
  channels) observable; an ``indicator`` whose pattern matches it carries the sharer's
  assessment, the removal outcome and any deconfliction hold in takedown's property
  extension (declared by an ``extension-definition``); an ``observed-data`` ties the
  observable to the reports; each report of the sharing agency is a ``sighting`` of the
  indicator, sighted by the sharer's ``identity``.
- A piece of banked media is a ``file`` whose hashes are ``SHA-256``, ``MD5`` and
  ``x_pdq`` (PDQ has no standard hash name); its labels, bank and the signals that are
  no hash of the file (PDQ of the middle band, video frame PDQs, text SimHash) ride in
  the extension. Matching stays local: STIX patterns only test equality.
- An operation's summary is a ``report`` over the indicators of its shared items.
- Every object carries the OASIS TLP 2.0 marking of what it describes.

Ids are deterministic: the same item shared twice by the same organisation is the same
indicator (a new version when something changed), and observables use STIX's own
UUIDv5 ids, so two organisations reporting one URL name one ``url`` object. Timestamps
come from the data, never from the clock, so mapping unchanged data gives identical JSON
(and no new version).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import stix2

from takedown.sharing.facts import (
    ItemFact,
    MediaFact,
    OperationFact,
    Producer,
)
from takedown.sharing.tlp import MARKING_IDS, Tlp, marking_definition

#: takedown's UUIDv5 namespace for the ids it derives (identities, indicators, sightings).
NAMESPACE = uuid.UUID("5b0e6f55-1c47-4b0e-9d1e-0d4a6f7a2c11")
PROJECT_IDENTITY_ID = "identity--3b9e2c54-8f0a-4d6b-a1c7-2e5f9d8b4a10"
EXTENSION_ID = "extension-definition--7d4c1f0e-9a2b-4c8d-b5e6-1f3a2d4c6b80"
EXTENSION_SCHEMA = "https://takedown.invalid/stix/extension-definition-1.json"
EPOCH = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)

#: Item kinds that are accounts (a ``user-account``); the rest are ``url`` observables.
ACCOUNT_KINDS = frozenset({"account", "channel"})
#: STIX's account-type vocabulary (account-type-ov) for the platforms it has an entry for;
#: other platforms' accounts leave ``account_type`` out (the platform is in the extension)
#: and their indicator matches the account's address instead.
ACCOUNT_TYPES = {"x": "twitter", "facebook": "facebook"}
PLATFORM_OF_ACCOUNT_TYPE = {v: k for k, v in ACCOUNT_TYPES.items()}
HASH_NAMES = {"sha256": "SHA-256", "md5": "MD5", "pdq": "x_pdq"}


def _ms(t: dt.datetime) -> dt.datetime:
    """STIX timestamps with millisecond precision (what every consumer round-trips)."""
    t = t.astimezone(dt.UTC)
    return t.replace(microsecond=(t.microsecond // 1000) * 1000)


def _uid(kind: str, *parts: str) -> str:
    """A deterministic id shaped as a UUIDv4 (what STIX asks of SDOs and SROs): the same
    parts always give the same id, and nobody can tell the parts from it."""
    digest = hashlib.sha256("|".join((str(NAMESPACE), kind, *parts)).encode()).digest()
    return f"{kind}--{uuid.UUID(bytes=digest[:16], version=4)}"


def _ts(t: dt.datetime | None) -> str | None:
    """A STIX timestamp string (for values inside the extension)."""
    if t is None:
        return None
    t = _ms(t)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def identity_id(producer: Producer) -> str:
    return _uid("identity", producer.name.strip().casefold(), producer.country.upper())


def _markings(tlp: Tlp) -> list[str]:
    return [MARKING_IDS[tlp]]


def _ext(**props: Any) -> dict[str, Any]:
    clean = {k: v for k, v in props.items() if v not in (None, "", [], {}, ())}
    return {EXTENSION_ID: {"extension_type": "property-extension", **clean}}


def escape_pattern(value: str) -> str:
    """A STIX pattern string literal: backslashes and quotes escaped."""
    return value.replace("\\", "\\\\").replace("'", "\\'")


# --- objects every bundle or collection needs -----------------------------------------------


def project_identity() -> stix2.Identity:
    return stix2.Identity(
        id=PROJECT_IDENTITY_ID,
        name="takedown",
        identity_class="system",
        description="The open-source takedown platform; creator of takedown's STIX extension.",
        created=EPOCH,
        modified=EPOCH,
    )


def extension_definition() -> stix2.ExtensionDefinition:
    return stix2.ExtensionDefinition(
        id=EXTENSION_ID,
        created_by_ref=PROJECT_IDENTITY_ID,
        name="takedown",
        description=(
            "Property extension of takedown: an item's URL identity, the sharer's assessment "
            "(verdict, TCO Art. 2(7) categories, group, outlet, language), the removal "
            "outcome, a deconfliction hold's contact point, and a banked file's labels and "
            "non-standard signals (PDQ band, video frame PDQs, text SimHash)."
        ),
        schema=EXTENSION_SCHEMA,
        version="1.0.0",
        extension_types=["property-extension"],
        created=EPOCH,
        modified=EPOCH,
    )


def producer_identity(producer: Producer) -> stix2.Identity:
    return stix2.Identity(
        id=identity_id(producer),
        name=producer.name,
        identity_class="organization",
        sectors=["government-national"],
        contact_information=producer.contact_point or None,
        created=EPOCH,
        modified=EPOCH,
        created_by_ref=None,
    )


def common_objects(producer: Producer, tlps: Iterable[Tlp]) -> list[Any]:
    """The identities, the extension definition and the TLP marking definitions in use."""
    out: list[Any] = [project_identity(), extension_definition(), producer_identity(producer)]
    for tlp in sorted(set(tlps), key=lambda t: t.value):
        out.append(stix2.MarkingDefinition(**marking_definition(tlp), allow_custom=True))
    return out


# --- items ------------------------------------------------------------------------------------


def _handle(item: ItemFact) -> str:
    """The account's login as its platform writes it: the last part of its key."""
    return item.key.rsplit("/", 1)[-1]


def observable(item: ItemFact) -> stix2.URL | stix2.UserAccount:
    ext = _ext(
        identity=item.identity,
        platform=item.platform,
        kind=item.kind,
        url=item.canonical_url,
        parent_identity=item.parent_identity,
    )
    marks = _markings(item.tlp)
    if item.kind in ACCOUNT_KINDS:
        return stix2.UserAccount(
            account_login=_handle(item),
            account_type=ACCOUNT_TYPES.get(item.platform),
            display_name=item.title or None,
            object_marking_refs=marks,
            extensions=ext,
        )
    return stix2.URL(value=item.canonical_url, object_marking_refs=marks, extensions=ext)


def pattern_of(obs: stix2.URL | stix2.UserAccount, url: str) -> str:
    if obs.type == "url" or "account_type" not in obs:
        return f"[url:value = '{escape_pattern(url)}']"
    return (
        f"[user-account:account_login = '{escape_pattern(obs.account_login)}' AND "
        f"user-account:account_type = '{escape_pattern(obs.account_type)}']"
    )


def _item_modified(item: ItemFact) -> dt.datetime:
    times = [item.first_seen_at, item.last_seen_at, item.status_changed_at]
    times += [s.reported_at for s in item.sightings]
    if item.assessment and item.assessment.assessed_at:
        times.append(item.assessment.assessed_at)
    return _ms(max(times))


def indicator_id(producer: Producer, identity: str) -> str:
    return _uid("indicator", identity_id(producer), identity)


def item_objects(item: ItemFact, producer: Producer) -> list[Any]:
    """The observable, indicator, observed-data and one sighting per report of one item."""
    who = identity_id(producer)
    marks = _markings(item.tlp)
    obs = observable(item)
    created = _ms(min(item.first_seen_at, item.status_changed_at))
    modified = max(_item_modified(item), created)
    a = item.assessment
    ind = stix2.Indicator(
        id=indicator_id(producer, item.identity),
        created_by_ref=who,
        created=created,
        modified=modified,
        name=f"{item.platform} {item.kind}: {item.canonical_url}"[:250],
        description="Reported to takedown as possible terrorist content online.",
        indicator_types=["malicious-activity"],
        pattern=pattern_of(obs, item.canonical_url),
        pattern_type="stix",
        valid_from=_ms(item.first_seen_at),
        labels=sorted({"terrorist-content", *(f"tco-{c}" for c in (a.categories if a else ()))}),
        object_marking_refs=marks,
        extensions=_ext(
            identity=item.identity,
            platform=item.platform,
            kind=item.kind,
            status=item.status,
            status_changed_at=_ts(item.status_changed_at),
            first_referred_at=_ts(item.first_referred_at),
            assessment={
                k: v
                for k, v in {
                    "verdict": a.verdict,
                    "tco_categories": list(a.categories),
                    "group": a.group,
                    "outlet": a.outlet,
                    "language": a.language,
                    "assessed_at": _ts(a.assessed_at),
                }.items()
                if v not in (None, "", [])
            }
            if a
            else None,
            hold={"contact_point": item.hold_contact_point} if item.hold_contact_point else None,
        ),
    )
    seen = sorted(item.sightings, key=lambda s: (s.reported_at, s.id))
    first = _ms(min([item.first_seen_at, *(s.reported_at for s in seen)]))
    last = max(first, _ms(max([item.last_seen_at, *(s.reported_at for s in seen)])))
    od = stix2.ObservedData(
        id=_uid("observed-data", who, item.identity),
        created_by_ref=who,
        created=created,
        modified=modified,
        first_observed=first,
        last_observed=last,
        number_observed=max(1, len(seen)),
        object_refs=[obs.id],
        object_marking_refs=marks,
    )
    out: list[Any] = [obs, ind, od]
    for s in seen:
        at = _ms(s.reported_at)
        out.append(
            stix2.Sighting(
                id=_uid("sighting", who, item.identity, str(s.id)),
                created_by_ref=who,
                created=at,
                modified=at,
                first_seen=at,
                last_seen=at,
                count=1,
                sighting_of_ref=ind.id,
                observed_data_refs=[od.id],
                where_sighted_refs=[who],
                object_marking_refs=marks,
            )
        )
    return out


# --- banked media -----------------------------------------------------------------------------


def media_object(media: MediaFact, producer: Producer) -> stix2.File | None:
    """A ``file`` with the media's standard hashes; None when it has none (a video's frame
    list or a text's SimHash alone cannot name a file: they go as the extension's signals
    of a file object only beside a hash)."""
    hashes: dict[str, str] = {}
    extra: list[dict[str, str]] = []
    for s in media.signals:
        name = HASH_NAMES.get(s.signal_type)
        if name and s.variant == "original" and name not in hashes:
            hashes[name] = s.value
        else:
            extra.append({"type": s.signal_type, "value": s.value, "variant": s.variant})
    if not hashes:
        return None
    return stix2.File(
        hashes=hashes,
        object_marking_refs=_markings(media.tlp),
        extensions=_ext(
            bank=media.bank,
            labels=dict(sorted(media.labels.items())),
            signals=extra,
            source=media.source,
            shared_by=producer.name,
        ),
        allow_custom=True,  # the x_pdq hash name
    )


# --- operations -------------------------------------------------------------------------------


def operation_report(op: OperationFact, producer: Producer, refs: Sequence[str]) -> stix2.Report:
    """The operation's summary: its totals in the description and the extension, over the
    indicators of the items shared with it (the producer's identity when there are none)."""
    t = op.totals
    share = t.get("removed_share")
    desc = (
        f"Operation {op.name}: {t.get('items', 0)} items on {t.get('platforms', 0)} platforms, "
        f"{t.get('referred', 0)} referred, {t.get('removed', 0)} removed"
        + (f" ({share:.0%} of referred)" if isinstance(share, float) else "")
        + "."
    )
    who = identity_id(producer)
    created = _ms(op.starts_at)
    return stix2.Report(
        id=_uid("report", who, "operation", str(op.id)),
        created_by_ref=who,
        created=created,
        modified=max(created, _ms(op.published_at)),
        name=f"Operation {op.name}"[:250],
        description=desc,
        report_types=["threat-report"],
        published=_ms(op.published_at),
        object_refs=list(refs) or [who],
        object_marking_refs=_markings(op.tlp),
        extensions=_ext(
            operation={
                "status": op.status,
                "starts_at": _ts(op.starts_at),
                "ends_at": _ts(op.ends_at),
                "totals": {k: v for k, v in t.items() if isinstance(v, int | float)},
            }
        ),
    )


def serialize(obj: Any) -> str:
    """One object as compact JSON text (what collections store and serve)."""
    text: str = obj.serialize()
    return text
