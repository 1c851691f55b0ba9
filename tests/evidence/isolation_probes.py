"""Tenant-isolation probes for the evidence routes; tests/isolation.py imports this module.

The signed viewer is listed in ``PUBLIC``: it needs no cookie by design (an
HMAC-signed, 5-minute, per-user link, checked before anything is read; see
docs/evidence.md), and tests/evidence/test_api_views.py covers its refusals.
"""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy.orm import Session

MARKER = "https://owner-only-evidence-marker.example/"


def _capture(s: Session, a: Any) -> tuple[int, int, int]:
    """A completed capture of agency A with one file, without touching the network."""
    import datetime as dt

    from takedown.evidence.models import EvidenceCapture, EvidenceFile
    from takedown.evidence.storage.base import sha256_hex
    from takedown.items import service as items

    item, _ = items.report_url(s, a.principal, MARKER + "page")
    now = dt.datetime.now(dt.UTC)
    cap = EvidenceCapture(
        item_id=item.id, agency_id=a.agency.id, requested_by=a.user.id, status="complete",
        url_reported=MARKER + "page", url_canonical=item.canonical_url, captured_at=now,
        manifest_sha256=sha256_hex(b"probe manifest"),
    )  # fmt: skip
    s.add(cap)
    s.flush()
    f = EvidenceFile(
        capture_id=cap.id, role="text", name="text.txt", sha256=sha256_hex(b"probe"), size=5,
        media_type="text/plain",
    )  # fmt: skip
    s.add(f)
    s.flush()
    return item.id, cap.id, f.id


def _hold(s: Session, a: Any) -> int:
    from takedown.evidence import service
    from tests.factories import make_actor

    item_id, _, _ = _capture(s, a)
    sup = make_actor(s, a.agency, role="supervisor")
    return service.place_hold(
        s, sup.principal, item_id, kind="investigation", reason="owner-only-hold-marker"
    ).id


def register_evidence_probes(probe: Any, case: Any) -> None:
    probe("GET", "/api/v1/evidence")(lambda s, a: case(marker=MARKER) if _capture(s, a) else None)
    probe("POST", "/api/v1/evidence")(
        lambda s, a: case(params={"_": 1}, body={"item_ids": [_capture(s, a)[0]]}, owner_ok=False)
    )
    probe("GET", "/api/v1/evidence/{capture_id}")(
        lambda s, a: case(params={"capture_id": _capture(s, a)[1]})
    )

    def _file(s: Session, a: Any) -> Any:
        _, cap_id, file_id = _capture(s, a)
        return case(params={"capture_id": cap_id, "file_id": file_id})

    probe("GET", "/api/v1/evidence/{capture_id}/files/{file_id}")(_file)
    probe("POST", "/api/v1/evidence/verify")(
        lambda s, a: case(params={"_": 1}, body={"capture_ids": [_capture(s, a)[1]]})
    )
    probe("POST", "/api/v1/evidence/export", role="supervisor")(
        lambda s, a: case(params={"_": 1}, body={"item_ids": [_capture(s, a)[0]]}, owner_ok=False)
    )
    probe("GET", "/api/v1/evidence/holds", role="supervisor")(
        lambda s, a: case(marker="owner-only-hold-marker") if _hold(s, a) else None
    )
    probe("POST", "/api/v1/evidence/holds", role="supervisor")(
        lambda s, a: case(
            params={"_": 1},
            body={"item_id": _capture(s, a)[0], "kind": "investigation", "reason": "probe"},
        )
    )
    probe("DELETE", "/api/v1/evidence/holds/{hold_id}", role="supervisor")(
        lambda s, a: case(params={"hold_id": _hold(s, a)})
    )
    probe("GET", "/evidence")(lambda s, a: case(marker=MARKER) if _capture(s, a) else None)
    probe("GET", "/evidence/{capture_id}")(
        lambda s, a: case(params={"capture_id": _capture(s, a)[1]})
    )


from tests.isolation import PUBLIC, Case, probe  # noqa: E402

PUBLIC.add(("GET", "/evidence-view/{capture_id}/{target}/{exp}/{uid}/{aid}/{sig}"))
register_evidence_probes(probe, Case)


_cap_n = itertools.count(88_000)


# The item page's latest capture and "Capture now" (#13.5): another agency's item is a 404.
def _item(s: Session, a: Any) -> Any:
    from takedown.items import service as items

    item, _ = items.report_url(s, a.principal, f"https://x.com/capprobe/status/{next(_cap_n)}")
    return Case(params={"item_id": item.id})


probe("POST", "/evidence/items/{item_id}/capture")(_item)
probe("GET", "/evidence/items/{item_id}/latest")(_item)
