"""MISP events and feeds, with PyMISP: exported for an audience, imported through the inbox.

Export: one event per subject (an item, a bank or an operation), by the sharing agency's
organisation, with MISP object templates ``url`` (posts, pages, files' addresses,
accounts elsewhere), ``telegram-account`` (Telegram channels and accounts) and ``file``
(banked media: ``sha256``, ``md5``, and the PDQ as ``text`` ``pdq:<hex>``: MISP has no
PDQ type), TLP tags (``tlp:clear`` … ``tlp:amber+strict``) on the event and on each
object, and the distribution that matches (AMBER and AMBER+STRICT: your organisation
only; GREEN: this community; CLEAR: all communities). Only what the audience may
receive goes in (RED never). A feed is what PyMISP's feed generator writes: one
``<uuid>.json`` per event, then ``manifest.json`` and ``hashes.csv`` from
``pymisp.tools.feed.feed_meta_generator`` itself.

Other capabilities add value types (``ObservableFact``; the coins capability's ``btc``
and ``xmr`` watch lists) through ``register_observable``: a MISP attribute type, and
optionally a STIX builder.

Import: MISP events (a file, or a feed's directory or URL) become STIX-shaped objects
(``url`` and ``file`` observables, with their attribute's uuid and TLP) that enter the
partner's inbox like anything pulled over TAXII: once, checked against its ceiling,
imported at once or reviewed.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pymisp import MISPEvent, MISPObject, MISPOrganisation
from pymisp.tools.feed import feed_meta_generator
from sqlalchemy.orm import Session

from takedown.accounts.principal import Principal
from takedown.audit.service import record
from takedown.config import Settings
from takedown.kit.clock import SystemClock
from takedown.kit.errors import Forbidden, InvalidInput
from takedown.kit.http import make_sync_client
from takedown.sharing import gather, inbox, partners, publish
from takedown.sharing.facts import ItemFact, MediaFact, ObservableFact, Producer
from takedown.sharing.stixmap import NAMESPACE
from takedown.sharing.tlp import MARKING_IDS, Audience, Tlp, may_leave, parse_tlp, strictest

DISTRIBUTION = {Tlp.CLEAR: 3, Tlp.GREEN: 1, Tlp.AMBER: 0, Tlp.AMBER_STRICT: 0}


def tlp_tag(tlp: Tlp) -> str:
    return f"tlp:{tlp.value.lower()}"


# --- the extension point for other capabilities' values ---------------------------------------


@dataclass(frozen=True)
class ObservableMapper:
    kind: str
    misp_type: str
    category: str = "Financial fraud"
    #: Optional STIX objects for the value (e.g. a wallet as a custom observable).
    to_stix: Callable[[ObservableFact, Producer], list[Any]] | None = None


OBSERVABLES: dict[str, ObservableMapper] = {}


def register_observable(mapper: ObservableMapper) -> None:
    if mapper.kind in OBSERVABLES and OBSERVABLES[mapper.kind] != mapper:
        raise ValueError(f"two observable mappers for {mapper.kind!r}")
    OBSERVABLES[mapper.kind] = mapper


register_observable(ObservableMapper("btc", "btc"))
register_observable(ObservableMapper("xmr", "xmr"))


# --- export -----------------------------------------------------------------------------------


def _org(producer: Producer) -> MISPOrganisation:
    org = MISPOrganisation()
    org.name = producer.name
    org.uuid = str(uuid.uuid5(NAMESPACE, f"org|{producer.name.casefold()}|{producer.country}"))
    return org


def _item_object(item: ItemFact) -> MISPObject:
    if item.platform == "telegram" and item.kind in ("channel", "account"):
        obj = MISPObject("telegram-account", standalone=False)
        obj.add_attribute("username", value=item.key.rsplit("/", 1)[-1])
    else:
        obj = MISPObject("url", standalone=False)
        obj.add_attribute("url", value=item.canonical_url)
        obj.add_attribute("first-seen", value=item.first_seen_at)
        obj.add_attribute("last-seen", value=item.last_seen_at)
    a = item.assessment
    notes = [f"takedown {item.platform} {item.kind}, status {item.status}"]
    if a:
        notes.append(
            f"assessed {a.verdict}" + (f", TCO {''.join(a.categories)}" if a.categories else "")
        )
        if a.group:
            notes.append(f"group {a.group}")
    if item.hold_contact_point:
        notes.append(f"deconfliction hold: contact {item.hold_contact_point}")
    obj.comment = "; ".join(notes)
    obj.first_seen = item.first_seen_at
    return obj


def _media_object(media: MediaFact) -> MISPObject | None:
    obj = MISPObject("file", standalone=False)
    have = False
    for s in media.signals:
        if s.variant != "original":
            continue
        if s.signal_type in ("sha256", "md5"):
            obj.add_attribute(s.signal_type, value=s.value)
            have = True
        elif s.signal_type == "pdq" and not any(
            a.object_relation == "text" for a in obj.attributes
        ):
            obj.add_attribute("text", value=f"pdq:{s.value}")
            have = True
    if not have:
        return None
    obj.comment = ", ".join(f"{k}: {v}" for k, v in sorted(media.labels.items())) or media.bank
    return obj


def _tag(obj: MISPObject, tlp: Tlp) -> None:
    obj.distribution = DISTRIBUTION[tlp]
    for attr in obj.attributes:
        attr.add_tag(tlp_tag(tlp))
        attr.distribution = DISTRIBUTION[tlp]


@dataclass
class Built:
    event: MISPEvent
    objects: int
    withheld: int


def build_event(
    session: Session,
    principal: Principal,
    subject_type: str,
    subject_id: int,
    *,
    tlp: str | Tlp | None,
    audience: Audience | str,
    observables: Iterable[ObservableFact] = (),
    now: dt.datetime | None = None,
) -> Built:
    """One subject as a MISP event for one audience (what may not go there stays out)."""
    aud = Audience(audience)
    marking = parse_tlp(tlp)
    if marking is Tlp.RED:
        raise Forbidden("TLP:RED never leaves the instance")
    if not may_leave(marking, aud):
        raise Forbidden(f"TLP:{marking.value} may not go to a {aud.value} audience")
    now = now or SystemClock().now()
    actor = publish.acting_for(principal.agency_id)
    producer = gather.producer(session, principal.agency_id)
    event = MISPEvent()
    event.uuid = str(uuid.uuid5(NAMESPACE, f"misp|{producer.name}|{subject_type}|{subject_id}"))
    event.Orgc = _org(producer)
    event.date = now.date()
    event.analysis = 2
    event.threat_level_id = 2
    used: list[Tlp] = []
    withheld = added = 0

    def add(obj: MISPObject | None, obj_tlp: Tlp) -> None:
        nonlocal withheld, added
        if obj is None:
            return
        if not may_leave(obj_tlp, aud):
            withheld += 1
            return
        _tag(obj, obj_tlp)
        event.add_object(obj)
        used.append(obj_tlp)
        added += 1

    if subject_type == "item":
        item = gather.own_item(session, actor, subject_id)
        event.info = f"takedown: {item.platform} {item.kind} {item.canonical_url}"[:250]
        add(_item_object(gather.item_fact(session, actor, item, marking)), marking)
    elif subject_type == "bank":
        bank_tlp = gather.own_bank_tlp(session, actor, subject_id)
        event.info = f"takedown: banked media ({subject_id})"
        for media in gather.bank_media(session, actor, subject_id):
            add(
                _media_object(media),
                strictest(media.tlp, bank_tlp) if tlp is None else strictest(media.tlp, marking),
            )
    elif subject_type == "operation":
        op, own = gather.operation_fact(session, actor, subject_id, marking, now)
        event.info = f"takedown: operation {op.name}"[:250]
        t = op.totals
        event.add_attribute(
            "text",
            f"{t.get('items', 0)} items, {t.get('referred', 0)} referred, "
            f"{t.get('removed', 0)} removed",
            category="Other",
            comment="operation summary",
        )
        for item in own:
            add(_item_object(gather.item_fact(session, actor, item, marking)), marking)
    else:
        raise InvalidInput(f"one exports an item, a bank or an operation, not {subject_type!r}")
    for fact in observables:
        mapper = OBSERVABLES.get(fact.kind)
        if mapper is None or not may_leave(fact.tlp, aud):
            withheld += 1
            continue
        added_attr = event.add_attribute(mapper.misp_type, fact.value, category=mapper.category)
        for attr in added_attr if isinstance(added_attr, list) else [added_attr]:
            attr.add_tag(tlp_tag(fact.tlp))
            attr.distribution = DISTRIBUTION[fact.tlp]
        used.append(fact.tlp)
    top = strictest(*used) if used else marking
    event.add_tag(tlp_tag(top))
    event.distribution = DISTRIBUTION[top]
    record(
        session, principal, "sharing.export.misp", subject_type, subject_id,
        {"audience": aud.value, "tlp": top.value, "objects": added, "withheld": withheld},
    )  # fmt: skip
    return Built(event, added, withheld)


def subject_event(
    session: Session,
    principal: Principal,
    subject_type: str,
    subject_id: int,
    *,
    tlp: str | None,
    audience: str,
) -> str:
    built = build_event(session, principal, subject_type, subject_id, tlp=tlp, audience=audience)
    return built.event.to_json(indent=1)


def write_feed(
    session: Session,
    principal: Principal,
    subjects: Sequence[tuple[str, int]],
    directory: Path,
    *,
    tlp: str | None,
    audience: str,
) -> int:
    """A MISP feed of the subjects: ``<uuid>.json`` each, then PyMISP's manifest and hashes."""
    directory.mkdir(parents=True, exist_ok=True)
    for subject_type, subject_id in subjects:
        built = build_event(
            session, principal, subject_type, subject_id, tlp=tlp, audience=audience
        )
        feed = built.event.to_feed(with_meta=False)
        (directory / f"{built.event.uuid}.json").write_text(json.dumps(feed), encoding="utf-8")
    feed_meta_generator(directory)
    return len(subjects)


# --- import -----------------------------------------------------------------------------------


def _tlp_of_tags(tags: Iterable[Any], default: Tlp) -> Tlp:
    found = []
    for t in tags:
        name = getattr(t, "name", None) or (t.get("name") if isinstance(t, dict) else None)
        if isinstance(name, str) and name.lower().startswith("tlp:"):
            try:
                found.append(parse_tlp(name))
            except InvalidInput:
                continue
    return strictest(*found) if found else default


def _sco(kind: str, uid: str, tlp: Tlp, **props: Any) -> dict[str, Any]:
    try:
        uid = str(uuid.UUID(uid))
    except ValueError:
        uid = str(uuid.uuid5(NAMESPACE, uid))
    return {
        "type": kind,
        "spec_version": "2.1",
        "id": f"{kind}--{uid}",
        "object_marking_refs": [MARKING_IDS[tlp]],
        **props,
    }


def event_objects(event: MISPEvent) -> list[dict[str, Any]]:
    """A MISP event as STIX-shaped observables the importer understands."""
    event_tlp = _tlp_of_tags(event.tags, Tlp.AMBER)
    out: list[dict[str, Any]] = []
    for attr in event.attributes:
        tlp = strictest(event_tlp, _tlp_of_tags(attr.tags, event_tlp))
        if attr.type == "url":
            out.append(_sco("url", attr.uuid, tlp, value=attr.value))
        elif attr.type in ("sha256", "md5"):
            name = "SHA-256" if attr.type == "sha256" else "MD5"
            out.append(_sco("file", attr.uuid, tlp, hashes={name: attr.value}))
    for obj in event.objects:
        tags = [t for a in obj.attributes for t in a.tags]
        tlp = strictest(event_tlp, _tlp_of_tags(tags, event_tlp))
        rel = {a.object_relation: a.value for a in obj.attributes}
        if obj.name == "url" and rel.get("url"):
            out.append(_sco("url", obj.uuid, tlp, value=rel["url"]))
        elif obj.name == "telegram-account" and rel.get("username"):
            out.append(_sco("url", obj.uuid, tlp, value=f"https://t.me/{rel['username']}"))
        elif obj.name == "file":
            hashes = {}
            if rel.get("sha256"):
                hashes["SHA-256"] = rel["sha256"]
            if rel.get("md5"):
                hashes["MD5"] = rel["md5"]
            text = rel.get("text")
            if isinstance(text, str) and text.startswith("pdq:"):
                hashes["x_pdq"] = text[4:]
            if hashes:
                out.append(_sco("file", obj.uuid, tlp, hashes=hashes))
    return out


def _read(source: str, settings: Settings, name: str | None = None) -> bytes:
    if source.startswith(("http://", "https://")):
        url = source.rstrip("/") + ("/" + name if name else "")
        with make_sync_client(**settings.http_client_options(), timeout=60.0) as client:
            r = client.get(url)
        if r.status_code != 200:
            raise InvalidInput(f"{url}: {r.status_code}")
        return r.content
    path = Path(source) / name if name else Path(source)
    if not path.is_file():
        raise InvalidInput(f"{path} is not a file")
    return path.read_bytes()


def load_events(source: str, settings: Settings) -> list[MISPEvent]:
    """A feed (a directory or URL with manifest.json) or one event file."""
    is_feed = source.startswith(("http://", "https://")) or Path(source).is_dir()
    if not is_feed:
        event = MISPEvent()
        event.load(_read(source, settings).decode("utf-8"))
        return [event]
    manifest = json.loads(_read(source, settings, "manifest.json"))
    if not isinstance(manifest, dict):
        raise InvalidInput("manifest.json is not a MISP feed manifest")
    events = []
    for event_uuid in sorted(manifest):
        event = MISPEvent()
        event.load(_read(source, settings, f"{uuid.UUID(event_uuid)}.json").decode("utf-8"))
        events.append(event)
    return events


def import_source(
    session: Session, principal: Principal, partner_id: int, source: str, *, settings: Settings
) -> dict[str, int]:
    """MISP events (or a STIX bundle) from a partner into the inbox; returns the counts."""
    partner = partners.get_partner(session, principal, partner_id)
    objects: list[Any] = []
    text = (
        None
        if source.startswith(("http://", "https://")) or Path(source).is_dir()
        else (_read(source, settings).decode("utf-8"))
    )
    if text is not None and '"type": "bundle"' in text.replace(
        '"type":"bundle"', '"type": "bundle"'
    ):
        objects = json.loads(text).get("objects", [])
        channel = "stix"
    else:
        for event in load_events(source, settings):
            objects += event_objects(event)
        channel = "misp"
    got = inbox.receive(
        session,
        owner_agency_id=partner.owner_agency_id,
        source_agency_id=partner.agency_id,
        channel=channel,
        objects=objects,
        now=SystemClock().now(),
        partner=partner,
    )
    record(
        session, principal, "sharing.import", "partner", partner.id,
        {"channel": channel, "objects": len(objects), "stored": len(got.stored),
         "duplicates": got.duplicates, "failed": len(got.failures)},
    )  # fmt: skip
    return {
        "objects": len(objects),
        "stored": len(got.stored),
        "duplicates": got.duplicates,
        "failed": len(got.failures),
    }
