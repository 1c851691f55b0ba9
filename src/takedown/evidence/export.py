"""Court export: one zip a court's expert can check without takedown installed.

Layout::

    README.txt            what is inside and how to check it
    verify_bundle.py      standard-library verifier (bundle_verifier.py)
    bundle.json           index: items, captures, manifest hashes, custody head
    SHA256SUMS            every file's SHA-256 (``sha256sum -c`` works too)
    captures/<id>/manifest.json and the files it lists
    custody/chain.jsonl   the audit-log segment from the first event about
                          these captures to the export itself

The custody segment holds every event about these captures (capture,
views, downloads, verifications, working copies, holds, this export) in
full, and every other event in between as a bare link (id, prev_hash, hash)
so the chain can be checked without disclosing other cases' activity.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from takedown import __version__
from takedown.accounts.principal import Principal
from takedown.audit.models import AuditEvent
from takedown.audit.service import canonical_time, record
from takedown.evidence import repository
from takedown.evidence.models import CaptureStatus
from takedown.evidence.service import get_capture
from takedown.evidence.storage import EvidenceStore, sha256_hex
from takedown.kit.clock import Clock, SystemClock
from takedown.kit.errors import Conflict, Forbidden, NotFound

STORED = (".gz", ".png", ".jpg", ".jpeg", ".gif", ".webp", ".mp4", ".webm", ".zip")

README = """takedown evidence bundle
========================

Created {created} by {who} with takedown {version}.
Items: {items}
Captures: {captures}

What is inside
- captures/<id>/manifest.json: the capture record (URL as reported and canonical,
  capture time in UTC, collector, tool and version, access context, response
  headers, TLS certificate) and the SHA-256 of every file of the capture.
- captures/<id>/capture.warc.gz: the full HTTP exchange (requests, responses,
  redirects, media) in WARC 1.1; open it with any WARC tool.
- captures/<id>/media/, text.txt, screenshot.png: media, extracted text, screenshot.
- custody/chain.jsonl: the chain-of-custody log, a segment of the instance's
  hash-chained audit log. Lines with "kind": "event" are events about these
  captures (capture, views, downloads, verifications, copies, this export);
  lines with "kind": "link" are other events, reduced to their hashes so the
  chain can be checked without disclosing unrelated cases.
- SHA256SUMS: the SHA-256 of every file in this bundle.

How to check it (offline, Python 3.8 or later, nothing to install)
    python3 verify_bundle.py {name}
It re-computes every hash, checks each manifest against the hash recorded in
the custody log when the capture was made, and checks that the custody log is
one unbroken chain. The last custody hash ({head}) can be compared with the
head reported by `takedown audit verify` on the issuing instance.

Content warning: the captures may contain violent extremist material.
Media are not blurred in this bundle.
"""


@dataclass(frozen=True)
class ExportResult:
    path: Path
    captures: list[int]
    sha256: str
    custody_events: int


def _event_line(ev: AuditEvent, full: bool) -> dict[str, Any]:
    if not full:
        return {"kind": "link", "id": ev.id, "prev_hash": ev.prev_hash, "hash": ev.hash}
    return {
        "kind": "event",
        "id": ev.id,
        "at": canonical_time(ev.at),
        "actor_user_id": ev.actor_user_id,
        "actor_agency_id": ev.actor_agency_id,
        "action": ev.action,
        "subject_type": ev.subject_type,
        "subject_id": ev.subject_id,
        "details": ev.details,
        "prev_hash": ev.prev_hash,
        "hash": ev.hash,
    }


def _hold_ids(session: Session, item_ids: Sequence[int]) -> list[int]:
    return [h.id for h in repository.holds_of_items(session, item_ids)]


def export_bundle(
    session: Session,
    principal: Principal,
    item_ids: Sequence[int],
    out: Path,
    *,
    store: EvidenceStore,
    recipient: str = "",
    clock: Clock | None = None,
) -> ExportResult:
    """Write the bundle for these items' captures and record the transfer in the audit log."""
    if principal.is_liaison:
        raise Forbidden("platform liaisons cannot export evidence")
    caps, _ = repository.list_captures(
        session,
        agency_id=None if principal.via == "system" else principal.agency_id,
        item_ids=list(item_ids),
        limit=10_000,
    )
    caps = [
        get_capture(session, principal, c.id)
        for c in sorted(caps, key=lambda c: c.id)
        if c.status in (CaptureStatus.COMPLETE.value, CaptureStatus.FAILED.value)
        and c.manifest_sha256
    ]
    if not caps:
        raise NotFound("no stored evidence for these items")
    now = (clock or SystemClock()).now()
    # Read and re-check every byte first: a tampered original is never exported silently.
    payload: dict[str, bytes] = {}
    for cap in caps:
        for f in repository.files_of(session, cap.id):
            data = store.get(f.sha256)
            if sha256_hex(data) != f.sha256:
                raise Conflict(
                    f"capture {cap.id}: {f.name} fails its hash check; run `evidence verify`"
                )
            payload[f"captures/{cap.id}/{f.name}"] = data
    for cap in caps:
        record(
            session,
            principal,
            "evidence.exported",
            repository.SUBJECT,
            cap.id,
            {
                "bundle": out.name,
                "recipient": recipient[:300],
                "hash_checked": True,
                "manifest_sha256": cap.manifest_sha256,
                "items": sorted(set(item_ids)),
            },
            clock=clock,
        )
    cap_ids = [c.id for c in caps]
    item_list = sorted({c.item_id for c in caps})
    hold_ids = _hold_ids(session, item_list)
    relevant = {(repository.SUBJECT, str(i)) for i in cap_ids} | {
        (repository.HOLD_SUBJECT, str(h)) for h in hold_ids
    }
    own = repository.custody_events(session, cap_ids, hold_ids)
    first = min(ev.id for ev in own)
    last = repository.last_event_id(session)
    lines = [
        _event_line(ev, (ev.subject_type, ev.subject_id) in relevant)
        for ev in repository.chain_links(session, first, last)
    ]
    head = lines[-1]["hash"] if lines else None
    chain = "".join(json.dumps(line, sort_keys=True) + "\n" for line in lines).encode()
    index = {
        "format": "takedown-evidence-bundle/1",
        "created_at": now.isoformat(),
        "created_by": {"user_id": principal.user_id, "agency_id": principal.agency_id},
        "recipient": recipient,
        "tool": {"name": "takedown", "version": __version__},
        "items": item_list,
        "captures": [
            {
                "capture_id": c.id,
                "item_id": c.item_id,
                "status": c.status,
                "url_reported": c.url_reported,
                "manifest_sha256": c.manifest_sha256,
            }
            for c in caps
        ],
        "custody_head_hash": head,
        "custody_first_event_id": first,
    }
    payload["bundle.json"] = (json.dumps(index, sort_keys=True, indent=2) + "\n").encode()
    payload["custody/chain.jsonl"] = chain
    payload["README.txt"] = README.format(
        created=now.isoformat(),
        who=principal.email or f"user {principal.user_id} of agency {principal.agency_id}",
        version=__version__,
        items=", ".join(str(i) for i in item_list),
        captures=", ".join(str(i) for i in cap_ids),
        name=out.name,
        head=head,
    ).encode()
    sums = "".join(f"{sha256_hex(data)}  {name}\n" for name, data in sorted(payload.items()))
    verifier = resources.files("takedown.evidence").joinpath("bundle_verifier.py").read_bytes()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    with zipfile.ZipFile(tmp, "w") as zf:
        for name, data in sorted(payload.items()):
            method = zipfile.ZIP_STORED if name.endswith(STORED) else zipfile.ZIP_DEFLATED
            zf.writestr(_info(name, now), data, compress_type=method)
        zf.writestr(_info("SHA256SUMS", now), sums, compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr(_info("verify_bundle.py", now), verifier, compress_type=zipfile.ZIP_DEFLATED)
    tmp.replace(out)
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    return ExportResult(out, cap_ids, digest, len(lines))


def _info(name: str, now: dt.datetime) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=now.timetuple()[:6])
    info.external_attr = 0o644 << 16
    return info
