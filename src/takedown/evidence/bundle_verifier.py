#!/usr/bin/env python3
"""Verify a takedown evidence bundle offline, with nothing but Python 3.8+.

Usage:  python3 verify_bundle.py [BUNDLE.zip | UNPACKED_DIR]
        (with no argument: the zip or directory this script sits in)

It checks, and prints one line per finding:
  1. every file listed in SHA256SUMS is present and has that SHA-256;
  2. every capture's manifest has the SHA-256 recorded in the chain-of-custody
     log when the capture was made, and every file the manifest lists is
     present with the listed SHA-256 and size;
  3. the chain-of-custody log is one unbroken segment of the instance's
     hash-chained audit log: each event's prev_hash is the previous event's
     hash, and each full event's hash is recomputed from its content.
Exit status 0 means every check passed; 1 means at least one failed.

This file is part of takedown (AGPL-3.0-or-later). It deliberately uses only
the standard library so that a court's expert can read and run it as is.
"""

from __future__ import annotations

import hashlib
import json
import sys
import zipfile
from pathlib import Path
from typing import Any

GENESIS = "0" * 64


class Bundle:
    """Read files from a zip or from an unpacked directory, the same way."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.zip: zipfile.ZipFile | None = None
        if path.is_file():
            self.zip = zipfile.ZipFile(path)

    def names(self) -> list[str]:
        if self.zip is not None:
            return [n for n in self.zip.namelist() if not n.endswith("/")]
        return [
            str(p.relative_to(self.path)).replace("\\", "/")
            for p in self.path.rglob("*")
            if p.is_file()
        ]

    def read(self, name: str) -> bytes | None:
        if ".." in name.split("/") or name.startswith("/"):
            return None
        if self.zip is not None:
            try:
                return self.zip.read(name)
            except KeyError:
                return None
        p = self.path / name
        return p.read_bytes() if p.is_file() else None


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def event_hash(ev: dict[str, Any]) -> str:
    """The audit log's hash of one event (same rule as takedown.audit.service.compute_hash)."""
    payload = canonical_json(
        [
            ev["prev_hash"],
            ev["at"],
            ev["actor_user_id"],
            ev["actor_agency_id"],
            ev["action"],
            ev["subject_type"],
            ev["subject_id"],
            ev["details"],
        ]
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def check_sums(b: Bundle, problems: list[str]) -> int:
    raw = b.read("SHA256SUMS")
    if raw is None:
        problems.append("SHA256SUMS is missing")
        return 0
    n = 0
    listed = set()
    for line in raw.decode("utf-8").splitlines():
        if not line.strip():
            continue
        digest, _, name = line.partition("  ")
        listed.add(name)
        data = b.read(name)
        n += 1
        if data is None:
            problems.append(f"missing file: {name}")
        elif sha256(data) != digest:
            problems.append(f"HASH MISMATCH: {name} (expected {digest}, found {sha256(data)})")
    for name in b.names():
        if name not in listed and name not in ("SHA256SUMS", "verify_bundle.py"):
            problems.append(f"file not listed in SHA256SUMS: {name}")
    return n


def check_chain(events: list[dict[str, Any]], problems: list[str]) -> tuple[int, str | None]:
    prev: str | None = None
    full = 0
    for ev in events:
        if prev is not None and ev.get("prev_hash") != prev:
            problems.append(
                f"custody chain broken before event {ev.get('id')}: prev_hash does not match"
            )
        if ev.get("kind") == "event":
            full += 1
            if event_hash(ev) != ev.get("hash"):
                problems.append(
                    f"custody event {ev.get('id')} was altered: its hash does not match its content"
                )
        prev = ev.get("hash")
    return full, prev


def check_captures(
    b: Bundle, index: dict[str, Any], events: list[dict[str, Any]], problems: list[str]
) -> int:
    recorded: dict[str, str] = {}
    for ev in events:
        if ev.get("kind") == "event" and ev.get("action") == "evidence.captured":
            details = json.loads(ev["details"])
            recorded[ev["subject_id"]] = details.get("manifest_sha256", "")
    files = 0
    for cap in index.get("captures", []):
        cid = str(cap["capture_id"])
        folder = f"captures/{cid}/"
        mraw = b.read(folder + "manifest.json")
        if mraw is None:
            problems.append(f"capture {cid}: manifest.json missing")
            continue
        mhash = sha256(mraw)
        if mhash != cap.get("manifest_sha256"):
            problems.append(f"capture {cid}: manifest hash differs from bundle.json")
        if cid in recorded and recorded[cid] != mhash:
            problems.append(f"capture {cid}: manifest hash differs from the one in the custody log")
        if cid not in recorded and cap.get("status") == "complete":
            problems.append(f"capture {cid}: no capture event in the custody log")
        manifest = json.loads(mraw.decode("utf-8"))
        for f in manifest.get("files", []):
            data = b.read(folder + f["name"])
            files += 1
            if data is None:
                problems.append(f"capture {cid}: file {f['name']} missing")
            elif sha256(data) != f["sha256"] or len(data) != f["size"]:
                problems.append(f"capture {cid}: HASH MISMATCH in {f['name']}")
    return files


def verify(path: Path) -> list[str]:
    b = Bundle(path)
    problems: list[str] = []
    n_sums = check_sums(b, problems)
    raw_index = b.read("bundle.json")
    if raw_index is None:
        return [*problems, "bundle.json is missing"]
    index = json.loads(raw_index.decode("utf-8"))
    raw_chain = b.read("custody/chain.jsonl") or b""
    events = [json.loads(line) for line in raw_chain.decode("utf-8").splitlines() if line.strip()]
    full, head = check_chain(events, problems)
    if head != index.get("custody_head_hash"):
        problems.append("custody log head differs from bundle.json")
    n_files = check_captures(b, index, events, problems)
    print(f"files checked against SHA256SUMS: {n_sums}")
    print(
        f"capture files checked against manifests: {n_files} "
        f"in {len(index.get('captures', []))} captures"
    )
    print(f"custody chain: {len(events)} links, {full} full events, head {head}")
    return problems


def main(argv: list[str]) -> int:
    here = Path(__file__).resolve()
    target = Path(argv[1]) if len(argv) > 1 else here.parent
    if len(argv) <= 1 and here.parent.suffix == ".zip":
        target = here.parent
    problems = verify(target)
    for p in problems:
        print("FAIL: " + p)
    print(
        "RESULT: "
        + (
            "OK, every hash and the custody chain check out"
            if not problems
            else f"FAILED ({len(problems)} problems)"
        )
    )
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
