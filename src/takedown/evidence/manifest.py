"""The per-capture manifest: every file with its SHA-256, plus the capture record.

The manifest is what a court relies on, so its bytes are deterministic
(sorted keys, fixed separators, UTF-8) and it is stored as an object of its
own; its SHA-256 goes into the audit chain when the capture completes. It
follows the Berkeley Protocol's capture record: unique id, URL and platform
id, UTC capture time, collector, tool and version, access context, a hash per
file, and the storage location.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from takedown.evidence.models import EvidenceCapture, EvidenceFile

MANIFEST_VERSION = 1


def _iso(value: Any) -> Any:
    return value.isoformat().replace("+00:00", "Z") if hasattr(value, "isoformat") else value


def manifest_dict(
    capture: EvidenceCapture,
    files: Sequence[EvidenceFile],
    *,
    item_identity: str,
    platform: str,
    collector: dict[str, Any],
    storage_locations: dict[str, str],
    redirect_chain: list[dict[str, Any]],
    warnings: list[str],
) -> dict[str, Any]:
    return {
        "manifest_version": MANIFEST_VERSION,
        "capture_id": capture.id,
        "item": {"id": capture.item_id, "identity": item_identity, "platform": platform},
        "status": capture.status,
        "failure": capture.failure_reason,
        "url_reported": capture.url_reported,
        "url_canonical": capture.url_canonical,
        "final_url": capture.final_url,
        "redirect_chain": redirect_chain,
        "http_status": capture.http_status,
        "content_type": capture.content_type,
        "title": capture.title,
        "captured_at": _iso(capture.captured_at),
        "collector": collector,
        "tool": {"name": capture.tool, "version": capture.tool_version},
        "access_context": capture.access_context,
        "response_headers": capture.response_headers,
        "tls_certificate": capture.tls_certificate,
        "storage": {"backend": capture.storage_backend, "locations": storage_locations},
        "hash_algorithm": "sha256",
        "files": [
            {
                "name": f.name,
                "role": f.role,
                "sha256": f.sha256,
                "size": f.size,
                "media_type": f.media_type,
                "source_url": f.source_url,
            }
            for f in files
        ],
        "warnings": warnings,
    }


def manifest_bytes(data: dict[str, Any]) -> bytes:
    return (json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
