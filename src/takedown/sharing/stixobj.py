"""Reading STIX objects as they arrive: versions, markings and the checks every object passes.

Shared by the TAXII server (objects posted to a collection), the TAXII client (objects
pulled from a partner) and the importers, so an object is judged the same way whichever
door it came through.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from typing import Any

from takedown.sharing.tlp import Tlp, tlp_of_refs

#: Objects without markings are treated as AMBER: shared with us, not for passing on.
UNMARKED = Tlp.AMBER
MAX_OBJECT_BYTES = 1_000_000
_ID = re.compile(
    r"^[a-z0-9][a-z0-9-]{0,62}--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
)
_TS = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?Z$")
#: Object types with no ``modified`` of their own: their version is when they were added.
SCO_TYPES = frozenset(
    {
        "artifact", "autonomous-system", "directory", "domain-name", "email-addr",
        "email-message", "file", "ipv4-addr", "ipv6-addr", "mac-addr", "mutex",
        "network-traffic", "process", "software", "url", "user-account",
        "windows-registry-key", "x509-certificate",
    }
)  # fmt: skip


class BadObject(ValueError):
    """An object that cannot be taken in; the message says why, for the sender's report."""


def parse_timestamp(value: object) -> dt.datetime:
    """A STIX timestamp (``YYYY-MM-DDTHH:MM:SS[.s+]Z``) as an aware datetime (µs precision)."""
    m = _TS.match(value) if isinstance(value, str) else None
    if m is None:
        raise BadObject(f"{value!r} is not a STIX timestamp (YYYY-MM-DDTHH:MM:SS[.sss]Z)")
    frac = (m.group(7) or "0")[:6].ljust(6, "0")
    try:
        y, mo, d, h, mi, sec = (int(g) for g in m.groups()[:6])
        return dt.datetime(y, mo, d, h, mi, sec, int(frac), tzinfo=dt.UTC)
    except ValueError as exc:
        raise BadObject(f"{value!r} is not a valid time ({exc})") from None


def timestamp_key(t: dt.datetime) -> str:
    """Fixed-width UTC text with microseconds: sorts like the instants it names."""
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def format_timestamp(t: dt.datetime) -> str:
    """A STIX/TAXII timestamp with microseconds (what ``date_added`` is served as)."""
    return timestamp_key(t)


def check(obj: object) -> dict[str, Any]:
    """The object if it has what every STIX 2.1 object must; BadObject otherwise."""
    if not isinstance(obj, dict):
        raise BadObject("not a JSON object")
    kind = obj.get("type")
    oid = obj.get("id")
    if not isinstance(kind, str) or not isinstance(oid, str) or not _ID.match(oid):
        raise BadObject(f"id {str(oid)[:80]!r} is not a STIX identifier")
    if not oid.startswith(kind + "--"):
        raise BadObject(f"id {oid} does not match its type {kind!r}")
    spec = obj.get("spec_version", "2.1" if kind in SCO_TYPES else None)
    if spec != "2.1":
        raise BadObject(f"{oid}: spec_version {spec!r} is not 2.1")
    for prop in ("created", "modified"):
        if prop in obj:
            parse_timestamp(obj[prop])
    if kind not in SCO_TYPES and not ({"created", "modified"} & obj.keys()):
        raise BadObject(f"{oid}: an SDO or SRO needs created and modified")
    refs = obj.get("object_marking_refs", [])
    if not isinstance(refs, list) or not all(isinstance(r, str) for r in refs):
        raise BadObject(f"{oid}: object_marking_refs must be a list of ids")
    return obj


def version_of(obj: dict[str, Any], date_added: dt.datetime) -> tuple[str, str]:
    """(version as written, its sortable key): modified, else created, else date_added."""
    for prop in ("modified", "created"):
        raw = obj.get(prop)
        if isinstance(raw, str):
            return raw, timestamp_key(parse_timestamp(raw))
    key = timestamp_key(date_added)
    return key, key


def content_version(obj: dict[str, Any]) -> str:
    """A version for de-duplicating what comes in: modified, else created, else (objects
    without timestamps, observables) a digest of the content, which is all they are."""
    for prop in ("modified", "created"):
        raw = obj.get(prop)
        if isinstance(raw, str):
            return raw
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def tlp_of(obj: dict[str, Any]) -> Tlp:
    """The object's TLP: the strictest of its markings; unmarked objects count as AMBER."""
    if obj.get("type") == "marking-definition":
        return Tlp.CLEAR
    return tlp_of_refs(obj.get("object_marking_refs")) or UNMARKED
