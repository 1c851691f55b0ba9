"""Banks, signals and matching: the logic. Takes a session, never commits.

Who sees what: an agency matches against and reads its own banks, banks
marked TLP:CLEAR or GREEN, and banks it explicitly shared that are not RED.
A TLP:RED signal never leaves its owning agency, even inside a shared bank.
Only the owning agency changes a bank.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from takedown.accounts.models import Role
from takedown.accounts.principal import Principal
from takedown.audit.service import record
from takedown.kit.clock import utcnow
from takedown.kit.errors import Forbidden, InvalidInput, NotFound
from takedown.matching import repository as repo
from takedown.matching.base import HashResult, MediaError, MediaInput, read_input
from takedown.matching.engine import INDEXED_TYPES, MatchingEngine, codes_for, get_engine
from takedown.matching.hashers.crypto import digest
from takedown.matching.hashers.image import PdqOptions, hash_image, hex_to_bytes
from takedown.matching.hashers.text import TextSimHasher
from takedown.matching.hashers.video import (
    VideoOptions,
    decode_entries,
    decode_frames,
    encode_frames,
    hash_video,
)
from takedown.matching.models import (
    DERIVED_TYPES,
    REMOVED_CONTENT_BANK,
    STALE_VARIANT,
    Bank,
    BankKind,
    MatchResult,
    Signal,
    Tlp,
)
from takedown.matching.schemas import (
    BankCreate,
    HashOut,
    Labels,
    MatchHit,
    MatchReport,
    SignalIn,
)

MAX_MEDIA_BYTES = 512 * 1024 * 1024
_VIDEO_TYPES = ("video_pdq", "video_pdq_inner")
#: A video matches a signal when at least this share of sampled frames match (either side).
DEFAULT_VIDEO_MIN_FRACTION = 0.5
_WRITE_ROLES = (Role.ANALYST, Role.SUPERVISOR, Role.ADMIN)


# ---- media typing and hashing ---------------------------------------------


def sniff_media_type(data: bytes) -> str:
    """``image``, ``video``, ``text`` or ``file`` from the first bytes (never from a file name)."""
    head = data[:16]
    if head.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"BM")):
        return "image"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "image"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image"
    if head[4:8] == b"ftyp" or head.startswith((b"\x1aE\xdf\xa3", b"FLV")):
        return "video"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "video"
    if head.startswith(b"\x00\x00\x01\xba") or (len(data) > 188 and data[0] == 0x47 == data[188]):
        return "video"
    try:
        data[:65536].decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the 64 KiB boundary is still text.
        if exc.start < 65530:
            return "file"
    return "text" if data else "file"


def hash_media(
    data: MediaInput, media_type: str | None = None, *, query: bool = True
) -> tuple[str, list[HashResult]]:
    """(media type, every hash of it): SHA-256 and MD5 always, plus PDQ/frame-PDQ/SimHash.

    ``query=False`` (hashing media to store it) skips the query-only window hashes.
    """
    raw = read_input(data, max_bytes=MAX_MEDIA_BYTES)
    if not raw:
        raise MediaError("the file is empty")
    kind = media_type or sniff_media_type(raw)
    out = [HashResult("sha256", digest(raw, "sha256")), HashResult("md5", digest(raw, "md5"))]
    if kind == "image":
        # Banks store no band (the inner region leaves logo bars out); a query still hashes
        # its band, which banks enrolled before that, and their exports, hold.
        out.extend(hash_image(raw, PdqOptions(windows=query, band=query)))
    elif kind == "video":
        out.extend(hash_video(raw, VideoOptions(inner=True, band=True, windows=query, trim=query)))
    elif kind == "text":
        out.extend(TextSimHasher().hash(raw))
    return kind, out


def signal_digest(value: str) -> str:
    return value if len(value) <= 64 else hashlib.sha256(value.encode()).hexdigest()


def normalise_value(signal_type: str, value: str) -> str:
    """Validate a signal value and return its canonical form (lower-case hex)."""
    v = value.strip()
    if signal_type in ("video_pdq", "video_pdq_inner"):
        frames, bands = decode_entries(v)
        if bands and signal_type == "video_pdq":
            raise InvalidInput("band entries (b<t>:hex) belong to video_pdq_inner signals only")
        return encode_frames(frames, bands)
    v = v.lower()
    sizes = {"sha256": 64, "md5": 32, "pdq": 64, "pdq_inner": 64, "text_simhash": 16}
    want = sizes.get(signal_type)
    if want is None:
        raise InvalidInput(f"unknown signal type {signal_type!r}")
    if len(v) != want:
        raise InvalidInput(f"a {signal_type} value is {want} hex characters, got {len(v)}")
    try:
        bytes.fromhex(v)
    except ValueError:
        raise InvalidInput(f"a {signal_type} value must be hexadecimal") from None
    return v


# ---- access ----------------------------------------------------------------


def _agency_of(actor: Principal | None) -> int | None:
    if actor is None or actor.via == "system":
        return None
    return actor.agency_id


def _user_of(actor: Principal | None) -> int | None:
    if actor is None or actor.via == "system" or actor.user_id <= 0:
        return None
    return actor.user_id


def _effective_tlp(signal: Signal, bank: Bank) -> str:
    return signal.tlp or bank.tlp


def _signal_visible(signal: Signal, bank: Bank, agency_id: int | None) -> bool:
    if agency_id is None or bank.agency_id == agency_id:
        return True
    return _effective_tlp(signal, bank) != Tlp.RED.value


def list_banks(session: Session, actor: Principal | None) -> list[Bank]:
    return repo.visible_banks(session, _agency_of(actor))


def get_bank(session: Session, actor: Principal | None, bank_id: int) -> Bank:
    bank = repo.get_bank(session, bank_id)
    agency = _agency_of(actor)
    if bank is None or (
        agency is not None and bank.id not in {b.id for b in repo.visible_banks(session, agency)}
    ):
        raise NotFound(f"no bank {bank_id}")
    return bank


def _writable_bank(session: Session, actor: Principal | None, bank_id: int) -> Bank:
    bank = get_bank(session, actor, bank_id)
    agency = _agency_of(actor)
    if agency is not None and bank.agency_id != agency:
        raise Forbidden("only the agency that owns a bank changes it")
    if actor is not None and actor.via != "system" and actor.role not in _WRITE_ROLES:
        raise Forbidden("this role cannot change banks")
    return bank


def signal_counts(session: Session, banks: Sequence[Bank]) -> dict[int, int]:
    return repo.count_signals(session, [b.id for b in banks])


def stale_counts(session: Session, banks: Sequence[Bank]) -> dict[int, int]:
    """Per bank, derived signals an older hasher made (``STALE_VARIANT``): adding the bank's
    media again renews them."""
    return repo.count_stale(session, [b.id for b in banks])


# ---- banks and signals -------------------------------------------------------


def create_bank(
    session: Session, actor: Principal, data: BankCreate, *, agency_id: int | None = None
) -> Bank:
    owner = agency_id if agency_id is not None and actor.via == "system" else actor.agency_id
    if actor.via != "system" and not actor.is_supervisor:
        raise Forbidden("creating a bank needs the supervisor or admin role")
    if repo.bank_by_name(session, owner, data.name):
        from takedown.kit.errors import Conflict

        raise Conflict(f"your agency already has a bank named {data.name!r}")
    bank = Bank(
        agency_id=owner,
        name=data.name,
        kind=data.kind.value,
        tlp=data.tlp,
        shared=data.shared,
        description=data.description,
        thresholds=dict(data.thresholds),
        created_by=_user_of(actor),
    )
    repo.add(session, bank)
    record(
        session,
        actor,
        "matching.bank.create",
        "bank",
        bank.id,
        {"name": bank.name, "tlp": bank.tlp, "kind": bank.kind},
    )
    return bank


def _new_signal(bank: Bank, data: SignalIn, actor: Principal | None, item_id: int | None) -> Signal:
    value = normalise_value(data.signal_type, data.value)
    now = utcnow()
    return Signal(
        bank_id=bank.id,
        signal_type=data.signal_type,
        value=value,
        digest=signal_digest(value),
        variant=data.variant,
        labels=data.labels.as_dict(),
        tlp=data.tlp,
        source=data.source,
        external_id=data.external_id,
        added_by=_user_of(actor),
        item_id=item_id,
        enabled=data.enabled,
        created_at=now,
        updated_at=now,
    )


def add_signal(
    session: Session,
    actor: Principal | None,
    bank_id: int,
    data: SignalIn,
    *,
    item_id: int | None = None,
    engine: MatchingEngine | None = None,
) -> Signal:
    """Add (or re-enable) one signal; it is matchable in this process at once."""
    bank = _writable_bank(session, actor, bank_id)
    value = normalise_value(data.signal_type, data.value)
    existing = repo.bank_signal(session, bank.id, data.signal_type, signal_digest(value))
    if existing is not None:
        if not existing.enabled and data.enabled:
            return set_signal_enabled(session, actor, existing.id, True, engine=engine)
        return existing
    sig = _new_signal(bank, data, actor, item_id)
    repo.add(session, sig)
    record(
        session,
        actor,
        "matching.signal.add",
        "signal",
        sig.id,
        {"bank_id": bank.id, "signal_type": sig.signal_type},
    )
    if engine is not None:
        engine.apply_one(sig.id, sig.signal_type, sig.value, sig.enabled)
    return sig


def set_signal_enabled(
    session: Session,
    actor: Principal | None,
    signal_id: int,
    enabled: bool,
    *,
    engine: MatchingEngine | None = None,
) -> Signal:
    """Disable (or re-enable) without deleting: takes effect on the next lookup."""
    sig = repo.get_signal(session, signal_id)
    if sig is None:
        raise NotFound(f"no signal {signal_id}")
    _writable_bank(session, actor, sig.bank_id)
    if sig.enabled != enabled:
        sig.enabled = enabled
        sig.updated_at = utcnow()
        for child in repo.derived_signals(session, sig.id):
            if child.enabled != enabled:
                child.enabled = enabled
                child.updated_at = sig.updated_at
                if engine is not None:
                    engine.apply_one(child.id, child.signal_type, child.value, enabled)
        session.flush()
        record(
            session,
            actor,
            "matching.signal." + ("enable" if enabled else "disable"),
            "signal",
            sig.id,
            {"bank_id": sig.bank_id},
        )
    if engine is not None:
        engine.apply_one(sig.id, sig.signal_type, sig.value, sig.enabled)
    return sig


#: PDQ variants a bank stores for an image it has the pixels of (see hashers.image): the
#: original only. Banks stored its middle band too before the inner region left logo bars
#: out (``hashers.windows.IMAGE_REGION``); those band signals are still matched.
STORED_PDQ_VARIANTS = ("original",)


def signals_from_media(hashes: Sequence[HashResult]) -> list[tuple[str, str, str]]:
    """(signal_type, value, variant) to store for a piece of media.

    Exact digests; the unaltered PDQ; the PDQ of the image's inner region
    (``pdq_inner``, derived: it lets crops, small rotations and logo bars or
    captions over the top or bottom match, see ``hashers.windows``); a video's frame
    list, and its frames' inner regions and bands (``video_pdq_inner``,
    derived); or a text's SimHash.
    """
    out: list[tuple[str, str, str]] = []
    frames: list[tuple[float, str]] = []
    inner_frames: list[tuple[float, str]] = []
    band_frames: list[tuple[float, str]] = []
    for h in hashes:
        if h.signal_type in ("sha256", "md5"):
            out.append((h.signal_type, h.value, "original"))
        elif h.signal_type == "pdq" and h.variant in STORED_PDQ_VARIANTS and h.usable:
            out.append(("pdq", h.value, h.variant))
        elif h.signal_type == "pdq_inner" and h.variant == "inner" and h.usable:
            out.append(("pdq_inner", h.value, h.variant))
        elif h.signal_type == "text_simhash" and h.usable:
            out.append(("text_simhash", h.value, "original"))
        elif h.signal_type == "video_pdq" and h.usable:
            frames.append((float(h.extra.get("t", 0.0)), h.value))
        elif h.signal_type == "video_pdq_inner" and h.variant == "inner" and h.usable:
            inner_frames.append((float(h.extra.get("t", 0.0)), h.value))
        elif h.signal_type == "video_pdq_inner" and h.variant == "band" and h.usable:
            band_frames.append((float(h.extra.get("t", 0.0)), h.value))
    if frames:
        out.append(("video_pdq", encode_frames(frames), "original"))
        if inner_frames or band_frames:
            # One derived signal per video: its frames' inner regions and their bands.
            out.append(("video_pdq_inner", encode_frames(inner_frames, band_frames), "inner"))
    return out


def add_media(
    session: Session,
    actor: Principal | None,
    bank_id: int,
    data: MediaInput,
    *,
    labels: Labels | None = None,
    source: str = "",
    item_id: int | None = None,
    engine: MatchingEngine | None = None,
) -> list[Signal]:
    """Hash a file and add its signals to a bank.

    Derived signals (``DERIVED_TYPES``) are linked to the media's original PDQ
    (``parent_id``); when the original could not be stored they are dropped.
    """
    _, hashes = hash_media(data, query=False)
    stored = signals_from_media(hashes)
    out = [
        add_signal(
            session,
            actor,
            bank_id,
            SignalIn(signal_type=t, value=v, variant=var, labels=labels or Labels(), source=source),
            item_id=item_id,
            engine=engine,
        )
        for t, v, var in stored
        if t not in DERIVED_TYPES
    ]
    for t, v, var in stored:
        if t not in DERIVED_TYPES:
            continue
        base = DERIVED_TYPES[t]
        parent = next((s for s in out if (s.signal_type, s.variant) == (base, "original")), None)
        if parent is not None:
            out.append(_add_derived(session, actor, parent, t, v, var, engine=engine))
    return out


def _add_derived(
    session: Session,
    actor: Principal | None,
    parent: Signal,
    signal_type: str,
    value: str,
    variant: str,
    *,
    engine: MatchingEngine | None = None,
) -> Signal:
    """A derived signal of ``parent`` (same bank, labels, provenance and state). One that an
    older hasher made from the same parent (``STALE_VARIANT``) is renewed in place."""
    value = normalise_value(signal_type, value)
    digest_ = signal_digest(value)
    existing = repo.bank_signal(session, parent.bank_id, signal_type, digest_)
    if existing is not None:
        return existing
    now = utcnow()
    stale = next(
        (s for s in repo.derived_of(session, parent.id, signal_type) if s.variant == STALE_VARIANT),
        None,
    )
    if stale is not None:
        stale.value, stale.digest, stale.variant, stale.updated_at = value, digest_, variant, now
        session.flush()
        record(
            session, actor, "matching.signal.renew", "signal", stale.id,
            {"bank_id": stale.bank_id, "parent_id": parent.id, "signal_type": signal_type},
        )  # fmt: skip
        if engine is not None:
            engine.apply_one(stale.id, stale.signal_type, stale.value, stale.enabled)
        return stale
    sig = Signal(
        bank_id=parent.bank_id,
        signal_type=signal_type,
        value=value,
        digest=digest_,
        variant=variant,
        labels=dict(parent.labels or {}),
        tlp=parent.tlp,
        source=parent.source,
        external_id=parent.external_id,
        added_by=parent.added_by,
        item_id=parent.item_id,
        enabled=parent.enabled,
        parent_id=parent.id,
        created_at=now,
        updated_at=now,
    )
    repo.add(session, sig)
    if engine is not None:
        engine.apply_one(sig.id, sig.signal_type, sig.value, sig.enabled)
    return sig


def removed_content_bank(session: Session, agency_id: int | None = None) -> Bank:
    """The instance's "removed-content" bank, made on first use (owner: given or first agency)."""
    owner = agency_id if agency_id is not None else repo.first_agency_id(session)
    if owner is None:
        raise InvalidInput("there is no agency to own the removed-content bank")
    bank = repo.bank_by_name(session, owner, REMOVED_CONTENT_BANK)
    if bank is None:
        bank = Bank(
            agency_id=owner,
            name=REMOVED_CONTENT_BANK,
            kind=BankKind.KNOWN.value,
            tlp=Tlp.AMBER.value,
            shared=True,
            description="Media of items that were taken down: catches their re-uploads.",
            thresholds={},
        )
        repo.add(session, bank)
        record(session, None, "matching.bank.create", "bank", bank.id, {"name": bank.name})
    return bank


def add_removed_media(
    session: Session,
    item_id: int,
    data: MediaInput,
    *,
    agency_id: int | None = None,
    labels: Labels | None = None,
    engine: MatchingEngine | None = None,
) -> list[Signal]:
    """Called when an item is confirmed removed: its media becomes a signal for re-uploads."""
    bank = removed_content_bank(session, agency_id)
    return add_media(
        session,
        None,
        bank.id,
        data,
        labels=labels,
        source=f"item:{item_id}",
        item_id=item_id,
        engine=engine,
    )


# ---- matching ------------------------------------------------------------


def _codes(values: Sequence[str]) -> np.ndarray:
    return np.frombuffer(
        b"".join(hex_to_bytes(v) if len(v) == 64 else bytes.fromhex(v) for v in values),
        dtype=np.uint8,
    ).reshape(len(values), -1)


def _hit(sig: Signal, bank: Bank, distance: int, variant: str, threshold: int) -> MatchHit:
    return MatchHit(
        bank_id=bank.id,
        bank_name=bank.name,
        bank_kind=bank.kind,
        signal_id=sig.id,
        signal_type=sig.signal_type,
        distance=distance,
        threshold=threshold,
        variant=variant,
        labels=dict(sig.labels or {}),
        tlp=_effective_tlp(sig, bank),
        source=sig.source,
        external_id=sig.external_id,
        item_id=sig.item_id,
    )


def _ranges(times: Sequence[float], gap: float = 1.5) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for t in sorted(times):
        if out and t - out[-1][1] <= gap:
            out[-1] = (out[-1][0], t)
        else:
            out.append((t, t))
    return out


def _video_fractions(
    sources: Sequence[Signal],
    matched_by_signal: dict[int, dict[float, str]],
    query_times: dict[str, set[float]],
    threshold: int,
) -> tuple[float, float, list[float]]:
    """(share of the query's sampled frames that matched, share of the video's stored
    frames covered by them, the matched query times) for one video.

    A frame counts once whichever of the video's signals it matched through: the frame
    list (``video_pdq``: frame, trimmed), or the derived inner signal (inner region,
    band, windows). Judging each signal alone missed a clip whose frames matched
    partly through their PDQ and partly through their inner region.
    """
    matched: set[float] = set()
    stored: set[float] = set()
    covered: set[float] = set()
    for src in sources:
        hits = matched_by_signal.get(src.id, {})
        matched.update(hits)
        # The signal's frames by time: a frame of an inner signal counts once, covered
        # through its inner region or its band.
        sig_times = np.array([t for t, _ in decode_frames(src.value)])
        stored.update(sig_times.tolist())
        if hits:
            sig_codes = codes_for(src.signal_type, src.value)
            q_codes = _codes(list(hits.values()))
            d = np.bitwise_count(
                sig_codes.view(np.uint64)[:, None, :] ^ q_codes.view(np.uint64)[None, :, :]
            ).sum(axis=2)
            covered.update(sig_times[d.min(axis=1) <= threshold].tolist())
    n_query = len(set[float]().union(*query_times.values()))
    return (
        len(matched) / max(1, n_query),
        len(covered) / max(1, len(stored)),
        sorted(matched),
    )


def match_hashes(
    session: Session,
    hashes: Sequence[HashResult],
    *,
    agency_id: int | None,
    engine: MatchingEngine,
) -> tuple[list[MatchHit], list[MatchHit], list[MatchHit]]:
    """(known matches, suppressed known matches, allow-list hits) for a set of hashes."""
    banks = {b.id: b for b in repo.visible_banks(session, agency_id)}
    if not banks:
        return [], [], []
    engine.sync(session)
    best: dict[int, tuple[int, str]] = {}
    # Video: per signal, the query frame times that matched and the query codes that did.
    video: dict[int, dict[float, str]] = defaultdict(dict)
    video_times = {
        t: {float(h.extra.get("t", 0.0)) for h in hashes if h.signal_type == t and h.usable}
        for t in _VIDEO_TYPES
    }

    exact = [(h.signal_type, h.value) for h in hashes if h.signal_type in ("sha256", "md5")]
    for sig in repo.signals_by_digest(session, exact):
        best[sig.id] = (0, sig.signal_type)

    for stype in INDEXED_TYPES:
        qs = [h for h in hashes if h.signal_type == stype and h.usable]
        if not qs:
            continue
        thr = max(b.threshold(stype) for b in banks.values())
        found = engine.search(stype, _codes([h.value for h in qs]), thr)
        for h, hits in zip(qs, found, strict=True):
            for hit in hits:
                if stype in _VIDEO_TYPES:
                    video[hit.id].setdefault(float(h.extra.get("t", 0.0)), h.value)
                cur = best.get(hit.id)
                if cur is None or hit.distance < cur[0]:
                    best[hit.id] = (hit.distance, h.variant)

    # A derived signal's hit is reported as a hit on its original (the closest one wins).
    found_sigs = repo.signals_by_ids(session, best)
    parents = {
        p.id: p
        for p in repo.signals_by_ids(
            session, {s.parent_id for s in found_sigs if s.parent_id is not None}
        )
    }
    reported: dict[int, tuple[Signal, int, str, Signal]] = {}
    # Video: every signal of a video that had hits (its frame list, its inner signal).
    video_sources: dict[int, list[Signal]] = defaultdict(list)
    for sig in found_sigs:
        bank = banks.get(sig.bank_id)
        if bank is None or not sig.enabled or not _signal_visible(sig, bank, agency_id):
            continue
        distance, variant = best[sig.id]
        if distance > bank.threshold(sig.signal_type):
            continue
        target = sig
        if sig.signal_type in DERIVED_TYPES:
            parent = parents.get(sig.parent_id or 0)
            if parent is None or not parent.enabled:
                continue
            target = parent
        # A stale inner signal (an older hasher's region) is still the image's inner region.
        stored = "inner" if sig.variant == STALE_VARIANT else sig.variant
        if stored not in ("original", variant):
            variant = f"{variant}/{stored}"
        prev = reported.get(target.id)
        if prev is None or distance < prev[1]:
            reported[target.id] = (target, distance, variant, sig)
        if sig.signal_type in _VIDEO_TYPES:
            video_sources[target.id].append(sig)

    known: list[MatchHit] = []
    allow: list[MatchHit] = []
    for sig, distance, variant, source in reported.values():
        bank = banks[sig.bank_id]
        thr = bank.threshold(sig.signal_type)
        mh = _hit(sig, bank, distance, variant, thr)
        if source.signal_type in _VIDEO_TYPES:
            frac, sig_frac, times = _video_fractions(video_sources[sig.id], video, video_times, thr)
            pct = (bank.thresholds or {}).get("video_min_percent")
            min_frac = DEFAULT_VIDEO_MIN_FRACTION if pct is None else float(pct) / 100
            if max(frac, sig_frac) < min_frac:
                continue
            mh.fraction = round(frac, 3)
            mh.signal_fraction = round(sig_frac, 3)
            mh.ranges = _ranges(times)
        (allow if bank.kind == BankKind.ALLOW.value else known).append(mh)
    known.sort(key=lambda m: (m.distance, m.signal_id))
    allow.sort(key=lambda m: (m.distance, m.signal_id))
    if allow:
        return [], known, allow
    return known, [], []


def _report(
    kind: str,
    sha: str,
    hashes: Sequence[HashResult],
    matched: tuple[list[MatchHit], list[MatchHit], list[MatchHit]],
) -> MatchReport:
    perceptual = [h for h in hashes if h.signal_type not in ("sha256", "md5")]
    return MatchReport(
        media_type=kind,
        sha256=sha,
        # The inner-region hashes (dozens of query windows) are matching's own: not listed.
        hashes=[
            HashOut(
                signal_type=h.signal_type,
                value=h.value,
                variant=h.variant,
                quality=h.quality,
                usable=h.usable,
                extra=dict(h.extra),
            )
            for h in hashes
            if h.signal_type not in DERIVED_TYPES
        ],
        matches=matched[0],
        suppressed=matched[1],
        allowed_by=matched[2],
        no_usable_hash=bool(perceptual) and not any(h.usable for h in perceptual),
    )


def match_media(
    session: Session,
    actor: Principal | None,
    data: MediaInput,
    *,
    media_type: str | None = None,
    engine: MatchingEngine | None = None,
) -> MatchReport:
    engine = engine or get_engine()
    kind, hashes = hash_media(data, media_type)
    matched = match_hashes(session, hashes, agency_id=_agency_of(actor), engine=engine)
    return _report(kind, hashes[0].value, hashes, matched)


def match_value(
    session: Session,
    actor: Principal | None,
    signal_type: str,
    value: str,
    *,
    engine: MatchingEngine | None = None,
) -> MatchReport:
    """Match a hash someone already has (e.g. a PDQ from a partner's alert)."""
    engine = engine or get_engine()
    v = normalise_value(signal_type, value)
    if signal_type == "video_pdq":
        hashes = [HashResult("video_pdq", h, "frame", extra={"t": t}) for t, h in decode_frames(v)]
    else:
        hashes = [HashResult(signal_type, v)]
    matched = match_hashes(session, hashes, agency_id=_agency_of(actor), engine=engine)
    return _report("hash", hashlib.sha256(v.encode()).hexdigest(), hashes, matched)


def match_item_media(
    session: Session,
    item_id: int,
    data: bytes,
    *,
    agency_id: int | None = None,
    media_type: str | None = None,
    engine: MatchingEngine | None = None,
) -> MatchReport:
    """The intake/evidence hook: hash and match an item's media, and keep the matches.

    Each match becomes a ``MatchResult`` row attached to the item (status
    ``new``) so the analyst sees it and the suggested attribution
    (``report.attribution``). ``agency_id`` limits matching to the banks that
    agency may see; ``None`` matches every bank on the instance.
    """
    engine = engine or get_engine()
    kind, hashes = hash_media(data, media_type)
    matched = match_hashes(session, hashes, agency_id=agency_id, engine=engine)
    report = _report(kind, hashes[0].value, hashes, matched)
    rows = [
        MatchResult(
            item_id=item_id,
            agency_id=agency_id,
            signal_id=m.signal_id,
            bank_id=m.bank_id,
            signal_type=m.signal_type,
            distance=m.distance,
            variant=m.variant,
            media_sha256=report.sha256,
            details=_details(m),
        )
        for m in report.matches
    ]
    if rows:
        repo.add_many(session, rows)
        record(
            session,
            None,
            "matching.match",
            "item",
            item_id,
            {"signals": [r.signal_id for r in rows], "sha256": report.sha256},
        )
    return report


def _details(m: MatchHit) -> dict[str, Any]:
    out: dict[str, Any] = {"labels": m.labels, "bank": m.bank_name, "tlp": m.tlp}
    if m.fraction is not None:
        out.update(fraction=m.fraction, signal_fraction=m.signal_fraction, ranges=m.ranges)
    return out


def results_for_item(session: Session, item_id: int) -> list[MatchResult]:
    return repo.results_for_item(session, item_id)


def visible_results_for_item(
    session: Session, principal: Principal, item_id: int
) -> list[MatchResult]:
    """The item's match results this principal may see (the caller checked the item).

    A result made for another agency stays theirs; one made instance-wide (no
    agency) is shown unless its signal is TLP:RED in a bank of another agency.
    """
    agency = _agency_of(principal)
    out: list[MatchResult] = []
    banks: dict[int, Bank | None] = {}
    for r in repo.results_for_item(session, item_id):
        if agency is not None and r.agency_id not in (None, agency):
            continue
        if r.bank_id not in banks:
            banks[r.bank_id] = repo.get_bank(session, r.bank_id)
        bank = banks[r.bank_id]
        if bank is None:
            continue
        tlp = str((r.details or {}).get("tlp") or bank.tlp)
        if agency is not None and bank.agency_id != agency and tlp == Tlp.RED.value:
            continue
        out.append(r)
    return out
