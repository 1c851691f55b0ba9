"""Import and export of bank signals: CSV, JSON, and Tech Against Terrorism's hash list.

A bad row never loses the good rows beside it: each row is validated on its
own, errors are reported with their row number, and the good rows are
written in the caller's transaction. Importing the same file twice changes
nothing (signals are keyed by bank, type and value).

The TAT format is the one python-threatexchange's Tech Against Terrorism
exchange reads (``TATHashListEntry``): a JSON list, or an envelope
``{"count", "next", "previous", "checkpoint", "results": [...]}``, of entries
with ``id``, ``hash_digest``, ``algorithm`` (MD5, SHA256, PDQ), ``ideology``,
``file_type``, ``deleted``, ``created_on`` and ``updated_on``. A ``deleted``
entry disables the signal it names.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from takedown.accounts.principal import Principal
from takedown.audit.service import record
from takedown.kit import csvfile
from takedown.kit.clock import utcnow
from takedown.kit.csvfile import restore
from takedown.kit.errors import InvalidInput, TakedownError
from takedown.kit.progress import NullProgress, ProgressSink
from takedown.matching import repository as repo
from takedown.matching import service
from takedown.matching.base import MediaInput
from takedown.matching.engine import MatchingEngine
from takedown.matching.models import DERIVED_TYPES, LABEL_KEYS, Signal
from takedown.matching.schemas import ImportReport, Labels, MediaAdded, SignalIn, SignalOut

FORMATS = ("csv", "json", "tat")
#: Rows parsed, looked up and written together by ``import_signals``.
IMPORT_CHUNK = 1000
CSV_FIELDS = (
    "signal_type", "value", *LABEL_KEYS, "tlp", "source", "external_id", "enabled", "variant",
)  # fmt: skip
_TAT_ALGORITHMS = {"md5": "md5", "sha256": "sha256", "sha-256": "sha256", "pdq": "pdq"}
_TRUE = {"1", "true", "yes", "y", "t"}


def _bool(value: Any, default: bool = True) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in _TRUE


def _from_flat(row: dict[str, Any]) -> SignalIn:
    labels = {k: row.get(k) for k in LABEL_KEYS if row.get(k) not in (None, "")}
    extra = row.get("labels")
    if isinstance(extra, dict):
        labels = {**extra, **labels}
    return SignalIn(
        signal_type=str(row.get("signal_type") or ""),
        value=str(row.get("value") or ""),
        labels=Labels(**labels),
        tlp=(row.get("tlp") or None),
        source=str(row.get("source") or ""),
        external_id=(str(row["external_id"]) if row.get("external_id") not in (None, "") else None),
        enabled=_bool(row.get("enabled")),
        variant=str(row.get("variant") or "original"),
    )


def _from_tat(row: dict[str, Any]) -> SignalIn:
    algorithm = str(row.get("algorithm") or "").strip().lower()
    stype = _TAT_ALGORITHMS.get(algorithm)
    if stype is None:
        raise InvalidInput(f"unsupported TAT algorithm {row.get('algorithm')!r}")
    ideology = row.get("ideology")
    if isinstance(ideology, dict):  # an enum serialised as {"value": ...}
        ideology = ideology.get("value")
    labels: dict[str, Any] = {"content_type": row.get("file_type") or None}
    if ideology:
        labels["ideology"] = str(ideology)
    return SignalIn(
        signal_type=stype,
        value=str(row.get("hash_digest") or ""),
        labels=Labels(**labels),
        source="tat",
        external_id=str(row["id"]) if row.get("id") is not None else None,
        enabled=not _bool(row.get("deleted"), default=False),
    )


def parse(data: bytes, fmt: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """(row number, raw row) pairs; raises InvalidInput when the file itself is unreadable."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput("import files must be UTF-8") from exc
    if fmt == "csv":
        reader = csv.DictReader(io.StringIO(text))
        if not reader.fieldnames or "value" not in reader.fieldnames:
            raise InvalidInput("a CSV import needs a header with at least signal_type,value")
        for n, row in enumerate(reader, start=2):
            # Our exports mark spreadsheet-formula cells ("'=..."): read them back as written.
            yield n, {k: restore(v) if isinstance(v, str) else v for k, v in row.items()}
        return
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"not valid JSON: {exc.msg} at line {exc.lineno}") from exc
    if isinstance(doc, dict):
        doc = doc.get("signals", doc.get("results"))
    if not isinstance(doc, list):
        raise InvalidInput("expected a list of entries (or an object with 'signals'/'results')")
    for n, row in enumerate(doc, start=1):
        yield n, row if isinstance(row, dict) else {"_invalid": row}


def import_signals(
    session: Session,
    actor: Principal | None,
    bank_id: int,
    data: bytes,
    fmt: str,
    *,
    engine: MatchingEngine | None = None,
    progress: ProgressSink | None = None,
) -> ImportReport:
    if fmt not in FORMATS:
        raise InvalidInput(f"format must be one of {', '.join(FORMATS)}")
    bank = service._writable_bank(session, actor, bank_id)
    progress = progress or NullProgress()
    report = ImportReport()
    convert = _from_tat if fmt == "tat" else _from_flat
    rows = list(parse(data, fmt))
    progress.set_total(len(rows))
    now = utcnow()
    # The bank is looked up a chunk at a time (never loaded whole): a chunk's rows are
    # parsed, the signals they name are read by digest, and the chunk's new signals are
    # flushed before the next chunk reads, so a repeat in a later chunk finds them.
    for start in range(0, len(rows), IMPORT_CHUNK):
        parsed: list[tuple[SignalIn, tuple[str, str]]] = []
        for n, raw in rows[start : start + IMPORT_CHUNK]:
            progress.advance()
            try:
                if "_invalid" in raw:
                    raise InvalidInput("entry is not an object")
                item = convert(raw)
                value = service.normalise_value(item.signal_type, item.value)
            except ValidationError as exc:
                err = exc.errors()[0]
                loc = ".".join(str(p) for p in err["loc"])
                report.errors.append({"row": n, "error": f"{loc}: {err['msg']}"})
                continue
            except TakedownError as exc:
                report.errors.append({"row": n, "error": exc.detail})
                continue
            parsed.append((item, (item.signal_type, service.signal_digest(value))))
        existing = repo.bank_signals_by_key(session, bank.id, {key for _, key in parsed})
        pending: list[Signal] = []
        for item, key in parsed:
            sig = existing.get(key)
            if sig is None:
                if not item.enabled:
                    report.unchanged += 1  # a deletion of something we never had
                    continue
                sig = service._new_signal(bank, item, actor, None)
                existing[key] = sig
                pending.append(sig)
                report.added += 1
            elif sig.enabled != item.enabled or (
                item.labels.as_dict() and sig.labels != {**sig.labels, **item.labels.as_dict()}
            ):
                if sig.enabled and not item.enabled:
                    report.disabled += 1
                else:
                    report.updated += 1
                sig.enabled = item.enabled
                sig.labels = {**(sig.labels or {}), **item.labels.as_dict()}
                sig.updated_at = now
            else:
                report.unchanged += 1
        repo.add_many(session, pending)
    session.flush()
    record(
        session,
        actor,
        "matching.bank.import",
        "bank",
        bank.id,
        {"format": fmt, **report.model_dump(exclude={"errors"}), "errors": len(report.errors)},
    )
    if engine is not None:
        engine.sync(session, force=True)
    return report


def _signal_row(sig: Signal) -> dict[str, Any]:
    labels = dict(sig.labels or {})
    row: dict[str, Any] = {"signal_type": sig.signal_type, "value": sig.value}
    for k in LABEL_KEYS:
        row[k] = labels.pop(k, None)
    row.update(
        tlp=sig.tlp,
        source=sig.source,
        external_id=sig.external_id,
        enabled=sig.enabled,
        variant=sig.variant,
    )
    if labels:
        row["labels"] = labels
    return row


def export_signals(
    session: Session, actor: Principal | None, bank_id: int, fmt: str
) -> tuple[bytes, str]:
    """(file bytes, media type). RED signals of another agency's bank are never exported."""
    bank = service.get_bank(session, actor, bank_id)
    agency = service._agency_of(actor)
    signals: Iterable[Signal] = (
        s
        for s in repo.iter_bank_signals(session, bank.id)
        # Derived signals are re-made from the pixels on import, never exported.
        if s.signal_type not in DERIVED_TYPES and service._signal_visible(s, bank, agency)
    )
    record(session, actor, "matching.bank.export", "bank", bank.id, {"format": fmt})
    if fmt == "json":
        doc = {
            "bank": {
                "name": bank.name,
                "kind": bank.kind,
                "tlp": bank.tlp,
                "thresholds": bank.thresholds,
                "description": bank.description,
            },
            "signals": [_signal_row(s) for s in signals],
        }
        return json.dumps(doc, ensure_ascii=False, indent=1).encode(), "application/json"
    if fmt == "csv":
        buf = io.StringIO()
        w = csvfile.dict_writer(buf, fieldnames=list(CSV_FIELDS), lineterminator="\n")
        w.writeheader()
        for s in signals:
            w.writerow(_signal_row(s))
        return buf.getvalue().encode(), "text/csv"
    raise InvalidInput("export format must be csv or json")


def add_media_files(
    session: Session,
    actor: Principal | None,
    bank_id: int,
    files: Iterable[tuple[str, MediaInput]],
    *,
    labels: Labels | None = None,
    source: str = "",
    engine: MatchingEngine | None = None,
    progress: ProgressSink | None = None,
) -> list[MediaAdded]:
    """Hash media files as matching does (the original and its derived signals) and add their
    signals to a bank: ``takedown bank add``, ``POST /api/v1/banks/{id}/media`` and the
    bank page's upload. Each file goes in a savepoint: one that cannot be hashed is
    reported and leaves nothing behind; the others are added."""
    service._writable_bank(session, actor, bank_id)  # 404/403 before reading anything
    progress = progress or NullProgress()
    out: list[MediaAdded] = []
    for name, data in files:
        try:
            with session.begin_nested():
                signals = service.add_media(
                    session, actor, bank_id, data, labels=labels, source=source or name,
                    engine=engine,
                )  # fmt: skip
        except TakedownError as exc:
            out.append(MediaAdded(file=name, error=exc.detail))
        else:
            out.append(
                MediaAdded(file=name, signals=[SignalOut.model_validate(s) for s in signals])
            )
        progress.advance()
    return out
