"""Anchors for the audit chain's head: signed checkpoints, the anchor file, exported heads.

Why: the hash chain shows an event edited or removed *inside* it, but two
attacks leave a chain that still links: deleting the last events (truncation),
and editing an event then recomputing every later hash with our own, public
function. An anchor is a statement, made at a time, that event N had hash H,
kept where whoever rewrites the chain cannot also rewrite it:

- **signed checkpoints in the database** (HMAC-SHA256 with a key derived from
  ``TAKEDOWN_SECRET_KEY``, and/or Ed25519 with ``TAKEDOWN_AUDIT_SIGNING_KEY``):
  someone who can write the database but does not hold a key cannot make or
  alter one. Someone who holds the key can.
- **the anchor file** (the same checkpoints appended to
  ``TAKEDOWN_AUDIT_ANCHOR_FILE``): someone who controls the database but not
  the file system cannot remove them, and a checkpoint in the file that the
  database lacks shows the rows were deleted.
- **an exported head** (``takedown audit head --output FILE``), kept off the
  machine: nothing done on the machine, key or not, changes it. It is the only
  anchor against an administrator of the whole machine.

Events after the newest anchor are covered by none of these: checkpoints are
written every ``TAKEDOWN_AUDIT_CHECKPOINT_EVENTS`` events or
``TAKEDOWN_AUDIT_CHECKPOINT_SECONDS`` seconds, whichever comes first.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy.orm import Session

from takedown.audit import repository
from takedown.audit.models import AuditCheckpoint
from takedown.audit.service import canonical_json, canonical_time
from takedown.kit.clock import Clock, SystemClock
from takedown.kit.errors import InvalidInput

KIND = "takedown-audit-checkpoint"
_HMAC_LABEL = b"takedown audit anchor v1"


@dataclass(frozen=True)
class Anchor:
    """One checkpoint, wherever it was read from (``source``)."""

    seq: int | None
    at: str
    event_id: int
    event_hash: str
    hmac: str | None = None
    ed25519: str | None = None
    key_id: str | None = None
    source: str = "database"

    def payload(self) -> bytes:
        """The signed bytes: everything but the signatures, in one canonical form."""
        body = {
            "kind": KIND,
            "v": 1,
            "seq": self.seq,
            "at": self.at,
            "event_id": self.event_id,
            "event_hash": self.event_hash,
        }
        return canonical_json(body).encode("utf-8")

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": KIND,
            "seq": self.seq,
            "at": self.at,
            "event_id": self.event_id,
            "event_hash": self.event_hash,
            "hmac": self.hmac,
            "ed25519": self.ed25519,
            "key_id": self.key_id,
        }

    def same_statement(self, other: Anchor) -> bool:
        fields = ("seq", "at", "event_id", "event_hash", "hmac", "ed25519", "key_id")
        return all(getattr(self, f) == getattr(other, f) for f in fields)

    @classmethod
    def of(cls, row: AuditCheckpoint) -> Anchor:
        return cls(
            row.id, canonical_time(row.at), row.event_id, row.event_hash,
            row.hmac, row.ed25519, row.key_id,
        )  # fmt: skip

    @classmethod
    def parse(cls, data: Any, source: str) -> Anchor:
        if not isinstance(data, dict) or data.get("kind") != KIND:
            raise ValueError(f"{source}: not a takedown audit checkpoint")
        try:
            return cls(
                seq=int(data["seq"]) if data.get("seq") is not None else None,
                at=str(data["at"]),
                event_id=int(data["event_id"]),
                event_hash=str(data["event_hash"]),
                hmac=data.get("hmac"),
                ed25519=data.get("ed25519"),
                key_id=data.get("key_id"),
                source=source,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{source}: malformed checkpoint ({exc})") from exc


@dataclass(frozen=True)
class AnchorKeys:
    """What signs and checks anchors, and where the anchor file is. Empty: nothing to check."""

    hmac_key: bytes | None = None
    signer: Ed25519PrivateKey | None = None
    file: Path | None = None

    @property
    def public_key(self) -> Ed25519PublicKey | None:
        return self.signer.public_key() if self.signer is not None else None

    @property
    def key_id(self) -> str | None:
        pub = self.public_key
        return key_id_of(pub) if pub is not None else None


def key_id_of(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def hmac_key_from_secret(secret: str) -> bytes:
    """A key of its own for anchors, so no other use of the secret can produce one."""
    return hmac.new(secret.encode("utf-8"), _HMAC_LABEL, hashlib.sha256).digest()


def load_signing_key(path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path}: not an Ed25519 private key")
    return key


def new_signing_key_pem() -> tuple[bytes, bytes]:
    """A fresh Ed25519 key: (private PEM, public PEM)."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public


def keys_from_settings(settings: Any) -> AnchorKeys:
    """``settings``: a ``takedown.config.Settings`` (typed loosely: config stays a leaf)."""
    secret = settings.secret_key
    signing = settings.audit_signing_key
    try:
        signer = load_signing_key(Path(signing)) if signing else None
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"TAKEDOWN_AUDIT_SIGNING_KEY {signing}: {exc}") from exc
    return AnchorKeys(
        hmac_key=hmac_key_from_secret(secret) if secret else None,
        signer=signer,
        file=Path(settings.audit_anchor_path),
    )


def sign(keys: AnchorKeys, anchor: Anchor) -> Anchor:
    payload = anchor.payload()
    mac = hmac.new(keys.hmac_key, payload, hashlib.sha256).hexdigest() if keys.hmac_key else None
    sig = keys.signer.sign(payload).hex() if keys.signer is not None else None
    return replace(anchor, hmac=mac, ed25519=sig, key_id=keys.key_id if sig else None)


def signature_problem(keys: AnchorKeys, anchor: Anchor) -> str | None:
    """Why this anchor's signatures fail, or None. A signature we hold no key for is skipped."""
    payload = anchor.payload()
    if anchor.hmac is not None and keys.hmac_key is not None:
        expected = hmac.new(keys.hmac_key, payload, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, anchor.hmac):
            return "its HMAC does not match (the checkpoint was altered or forged)"
    public = keys.public_key
    if anchor.ed25519 is not None and public is not None and anchor.key_id == key_id_of(public):
        try:
            public.verify(bytes.fromhex(anchor.ed25519), payload)
        except (InvalidSignature, ValueError):
            return "its Ed25519 signature does not verify (the checkpoint was altered or forged)"
    return None


def is_checked(keys: AnchorKeys, anchor: Anchor) -> bool:
    """True when at least one of the anchor's signatures was checked with a key we hold."""
    if anchor.hmac is not None and keys.hmac_key is not None:
        return True
    pub = keys.public_key
    return anchor.ed25519 is not None and pub is not None and anchor.key_id == key_id_of(pub)


# --- writing --------------------------------------------------------------------------------


def is_due(session: Session, *, every_events: int, every_seconds: float, now: dt.datetime) -> bool:
    """A checkpoint is due when the head moved and enough events or time passed."""
    head = repository.last_event(session)
    if head is None:
        return False
    last = repository.last_checkpoint(session)
    if last is None:
        return True
    if last.event_id >= head.id:
        return False
    return head.id - last.event_id >= every_events or (
        (now - last.at).total_seconds() >= every_seconds
    )


def write_checkpoint(
    session: Session, keys: AnchorKeys, *, clock: Clock | None = None
) -> Anchor | None:
    """Sign the current head into a new checkpoint row (None: no events, or already anchored).

    The caller commits, then calls :func:`append_to_file`: a checkpoint reaches the file
    only once the database holds it, so the file is never ahead of the database unless
    someone deleted rows.
    """
    repository.lock_chain(session)
    head = repository.last_event(session)
    if head is None:
        return None
    last = repository.last_checkpoint(session)
    if last is not None and last.event_id == head.id and last.event_hash == head.hash:
        return None
    at = (clock or SystemClock()).now()
    row = AuditCheckpoint(at=at, event_id=head.id, event_hash=head.hash)
    repository.add_checkpoint(session, row)
    anchor = sign(keys, Anchor(row.id, canonical_time(at), head.id, head.hash))
    row.hmac, row.ed25519, row.key_id = anchor.hmac, anchor.ed25519, anchor.key_id
    session.flush()
    return anchor


def append_to_file(path: Path, anchor: Anchor) -> None:
    """Append one line and fsync it (O_APPEND: lines from several processes do not mix)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(anchor.to_json(), sort_keys=True) + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)


def head_document(anchor: Anchor, keys: AnchorKeys, instance: str = "") -> dict[str, Any]:
    """An exported head: the checkpoint, and the public key that can check its signature."""
    doc = anchor.to_json()
    doc["exported_for"] = instance
    pub = keys.public_key
    if pub is not None:
        doc["public_key_pem"] = pub.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode("ascii")
    return doc


# --- reading --------------------------------------------------------------------------------


def read_anchor_file(path: Path, source: str | None = None) -> tuple[list[Anchor], list[str]]:
    """Anchors from an exported head (one JSON object) or an anchor file (JSON lines)."""
    label = source or str(path)
    text = path.read_text(encoding="utf-8")
    anchors: list[Anchor] = []
    problems: list[str] = []
    stripped = text.strip()
    if stripped.startswith("{") and "\n" in stripped and stripped.endswith("}"):
        try:  # a pretty-printed head document
            return [Anchor.parse(json.loads(stripped), label)], []
        except ValueError:
            pass
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            anchors.append(Anchor.parse(json.loads(line), f"{label}:{n}"))
        except ValueError as exc:
            problems.append(f"{label} line {n}: {exc}")
    return anchors, problems


@dataclass
class AnchorCheck:
    """Anchors to hold the chain to, and what is already wrong with them."""

    expected: dict[int, list[Anchor]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    count: int = 0

    def add(self, anchor: Anchor) -> None:
        self.expected.setdefault(anchor.event_id, []).append(anchor)
        self.count += 1


def gather(session: Session, keys: AnchorKeys, extra: Sequence[Anchor] = ()) -> AnchorCheck:
    """Every anchor (database, anchor file, given), their signatures checked."""
    out = AnchorCheck()
    db = [replace(Anchor.of(r), source="database") for r in repository.checkpoints(session)]
    in_file: list[Anchor] = []
    if keys.file is not None and keys.file.exists():
        in_file, bad = read_anchor_file(keys.file, "anchor file")
        out.problems.extend(bad)
    by_seq = {a.seq: a for a in db}
    for a in in_file:
        twin = by_seq.get(a.seq)
        if twin is None:
            out.problems.append(
                f"checkpoint {a.seq} (event {a.event_id}) is in the anchor file but not in "
                "the database: checkpoint rows were deleted"
            )
        elif not twin.same_statement(a):
            out.problems.append(
                f"checkpoint {a.seq} differs between the database and the anchor file: "
                "one of them was altered"
            )
    file_seqs = {a.seq for a in in_file}
    if keys.file is not None:
        missing = [a.seq for a in db if a.seq not in file_seqs]
        if missing:
            out.notes.append(
                f"{len(missing)} checkpoint(s) of the database are not in the anchor file "
                f"(first: {missing[0]}; a crash between commit and append, or a new file)"
            )
    unchecked = 0
    for a in _unique([*db, *in_file, *extra]):
        problem = signature_problem(keys, a)
        if problem is not None:
            out.problems.append(f"checkpoint {a.seq} ({a.source}): {problem}")
            continue
        if not is_checked(keys, a) and a.source == "database":
            unchecked += 1
        out.add(a)
    if unchecked:
        out.notes.append(
            f"{unchecked} checkpoint(s) carry no signature this instance can check "
            "(set TAKEDOWN_SECRET_KEY or TAKEDOWN_AUDIT_SIGNING_KEY)"
        )
    return out


def _unique(anchors: Iterable[Anchor]) -> list[Anchor]:
    seen: set[tuple[Any, ...]] = set()
    out = []
    for a in anchors:
        key = (a.seq, a.at, a.event_id, a.event_hash, a.hmac, a.ed25519)
        if key not in seen:
            seen.add(key)
            out.append(a)
    return out
