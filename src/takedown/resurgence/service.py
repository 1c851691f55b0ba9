"""Resurgence logic: scan items for successors, let analysts decide, refer in one step.

Work arrives two ways, both as rows in ``resurgence_due`` (the database says
what is due): an account or channel is *seen* (intake, later monitoring:
``items.hooks.on_items_created``), or one is *removed* (verification's
``on_removal_confirmed``). ``run_due`` scores each seen one against every
removal, and each removal against what was seen since it. A scan on demand
(``scan``) does the same for given items. Services never commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from takedown.accounts.principal import Principal
from takedown.audit.service import record
from takedown.items.core import now_of, require_agency_user, user_id_of
from takedown.items.models import Item
from takedown.kit.clock import Clock
from takedown.kit.errors import Conflict, InvalidInput, NotFound
from takedown.resurgence import figures, repository
from takedown.resurgence.models import Candidate, CandidateStatus
from takedown.resurgence.signals.engine import RemovedIndex
from takedown.resurgence.signals.score import THRESHOLD, Profile, Score

#: Best candidates below the threshold are kept (as evidence) from this score up.
KEEP_BELOW = 0.3
#: A removal is compared with what was seen up to this long before it (a successor
#: created just before the removal was confirmed still counts).
LOOKBACK = dt.timedelta(days=2)
#: Platforms' handle lengths where they cut (a suffix may be cut off).
MAX_LEN = {"x": 15}


def handle_of(item: Item) -> str:
    """The account's or channel's handle: the last segment of its key, without ``@``."""
    return item.key.rstrip("/").rsplit("/", 1)[-1].lstrip("@")


@dataclass(frozen=True, slots=True)
class ScanReport:
    seen: int = 0
    removed: int = 0
    proposed: int = 0
    kept_below: int = 0


def _profiles(
    session: Session, items: Sequence[Item], *, removed: bool
) -> dict[str, tuple[Profile, Item]]:
    ids = [i.id for i in items]
    idents = [i.identity for i in items]
    removal = repository.removal_times(session, ids) if removed else {}
    media = {} if removed else repository.reposted_from(session, idents, repository.MEDIA_SIGNALS)
    texts = {} if removed else repository.reposted_from(session, idents, repository.TEXT_SIGNALS)
    ann = {} if removed else repository.announcements(session, ids)
    linked = repository.linked_in(session, sorted({c for v in ann.values() for c, _ in v}))
    pred = _predecessors(session, ids) if removed else {}
    out: dict[str, tuple[Profile, Item]] = {}
    for it in items:
        p = Profile(
            key=it.identity,
            platform=it.platform,
            handle=handle_of(it),
            title=it.title or "",
            url=it.canonical_url,
            first_seen_at=it.first_seen_at,
            removed_at=removal.get(it.id),
            max_len=MAX_LEN.get(it.platform),
            media_from=media.get(it.identity, set()),
            text_from=texts.get(it.identity, set()),
            announced_in=[
                (ch, at, frozenset(linked.get(ch, set()) - {it.identity}))
                for ch, at in ann.get(it.id, [])
            ],
            predecessor=pred.get(it.id),
        )
        out[it.identity] = (p, it)
    return out


def _suggestion(session: Session, predecessor_id: int) -> dict[str, Any]:
    a = repository.latest_terrorist_assessment(session, predecessor_id)
    if a is None:
        return {}
    return {
        "assessment_id": a.id,
        "verdict": a.verdict,
        "categories": list(a.categories),
        "group": a.group,
        "outlet": a.outlet,
        "language": a.language,
    }


def _generation(session: Session, predecessor_id: int) -> int:
    prev = repository.confirmed_predecessor(session, predecessor_id)
    return (prev.generation + 1) if prev is not None else 1


def _store(
    session: Session, score: Score, pred: Item, succ: Item, now: dt.datetime
) -> Candidate | None:
    """Insert or refresh one candidate; decided ones keep the analyst's decision."""
    if score.score < KEEP_BELOW:
        return None
    status = CandidateStatus.PROPOSED if score.proposed else CandidateStatus.BELOW
    row = repository.candidate(session, pred.id, succ.id)
    if row is None:
        row = Candidate(
            predecessor_id=pred.id,
            successor_id=succ.id,
            score=score.score,
            reasons=score.reasons_json(),
            status=status.value,
            suggestion=_suggestion(session, pred.id),
            generation=_generation(session, pred.id),
            created_at=now,
            updated_at=now,
        )
        repository.add(session, row)
        return row
    if row.status in (CandidateStatus.CONFIRMED.value, CandidateStatus.REJECTED.value):
        return row
    if row.score != score.score or row.status != status.value:
        row.score, row.reasons, row.status = score.score, score.reasons_json(), status.value
        row.updated_at = now
    return row


def _predecessors(session: Session, ids: Sequence[int]) -> dict[int, str]:
    """Item id -> the identity of its proposed or confirmed predecessor (lineages of names)."""
    rows = [
        c
        for c in repository.candidates_of_successors(session, ids)
        if c.status in (CandidateStatus.PROPOSED.value, CandidateStatus.CONFIRMED.value)
    ]
    preds = {i.id: i.identity for i in repository.owners(session, {c.predecessor_id for c in rows})}
    out: dict[int, str] = {}
    for c in sorted(rows, key=lambda c: c.status != CandidateStatus.CONFIRMED.value):
        if c.predecessor_id in preds:
            out.setdefault(c.successor_id, preds[c.predecessor_id])
    return out


def _score_seen(
    session: Session,
    index: RemovedIndex,
    removed: dict[str, Item],
    seen: Sequence[Item],
    now: dt.datetime,
) -> tuple[int, int]:
    proposed = below = 0
    for prof, it in _profiles(session, seen, removed=False).values():
        best = index.best(prof)
        if best is None:
            continue
        row = _store(session, best, removed[best.removed], it, now)
        if row is None:
            continue
        if row.status == CandidateStatus.PROPOSED.value:
            proposed += 1
        elif row.status == CandidateStatus.BELOW.value:
            below += 1
    return proposed, below


def _index(session: Session, items: Sequence[Item]) -> tuple[RemovedIndex, dict[str, Item]]:
    profs = _profiles(session, items, removed=True)
    return RemovedIndex(p for p, _ in profs.values()), {k: it for k, (_, it) in profs.items()}


def scan(
    session: Session,
    *,
    seen_ids: Sequence[int] = (),
    removed_ids: Sequence[int] = (),
    clock: Clock | None = None,
) -> ScanReport:
    """Score ``seen_ids`` against every removal, and ``removed_ids`` against what was seen
    since each of them; store the best candidate of each seen item."""
    now = now_of(clock)
    proposed = below = 0
    seen = repository.owners(session, seen_ids)
    if seen:
        index, removed = _index(session, repository.removed_owners(session))
        p, b = _score_seen(session, index, removed, seen, now)
        proposed, below = proposed + p, below + b
    newly = repository.owners(session, removed_ids)
    if newly:
        times = repository.removal_times(session, [i.id for i in newly])
        known = [t for t in times.values()]
        if known:
            since = min(known) - LOOKBACK
            later = [s for s in repository.seen_owners_since(session, since) if s.id not in times]
            index, removed = _index(session, repository.removed_owners(session))
            p, b = _score_seen(session, index, removed, later, now)
            proposed, below = proposed + p, below + b
    return ScanReport(len(seen), len(newly), proposed, below)


def enqueue_seen(session: Session, item_ids: Sequence[int], *, clock: Clock | None = None) -> int:
    """``items.hooks.on_items_created``: newly seen accounts and channels become due."""
    owners = repository.owners(session, item_ids)
    return repository.enqueue(session, [o.id for o in owners], "seen", now_of(clock))


def enqueue_removed(session: Session, item_id: int, *, clock: Clock | None = None) -> int:
    """``verification.on_removal_confirmed``: a removed account or channel becomes due."""
    owners = repository.owners(session, [item_id])
    return repository.enqueue(session, [o.id for o in owners], "removed", now_of(clock))


def run_due(session: Session, *, limit: int = 500, clock: Clock | None = None) -> ScanReport:
    """Take due rows (oldest first) and scan them; idempotent (rows go with the commit)."""
    rows = repository.take_due(session, now_of(clock), limit)
    return scan(
        session,
        seen_ids=[r.item_id for r in rows if r.reason == "seen"],
        removed_ids=[r.item_id for r in rows if r.reason == "removed"],
        clock=clock,
    )


# --- analysts ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CandidateView:
    candidate: Candidate
    predecessor: Item
    successor: Item


def list_candidates(
    session: Session,
    principal: Principal,
    *,
    status: Sequence[str] = (CandidateStatus.PROPOSED.value,),
    platform: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[CandidateView], int]:
    for s in status:
        if s not in {c.value for c in CandidateStatus}:
            raise InvalidInput(
                f"status {s!r} is not one of {', '.join(c.value for c in CandidateStatus)}"
            )
    rows, total = repository.list_candidates(
        session, principal, status=status, platform=platform, limit=limit, offset=offset
    )
    return [CandidateView(c, p, s) for c, p, s in rows], total


def get_candidate(session: Session, principal: Principal, candidate_id: int) -> CandidateView:
    row = repository.visible_candidate(session, principal, candidate_id)
    if row is None:
        raise NotFound(f"candidate {candidate_id} does not exist")
    return CandidateView(*row)


def _decide(
    session: Session,
    principal: Principal,
    candidate_id: int,
    status: CandidateStatus,
    note: str,
    clock: Clock | None,
) -> CandidateView:
    require_agency_user(principal, f"{status.value[:-2]} a successor")
    if "\x00" in note or len(note) > 2000:
        raise InvalidInput("the note has a NUL character or is longer than 2000 characters")
    view = get_candidate(session, principal, candidate_id)
    c = view.candidate
    if c.status in (CandidateStatus.CONFIRMED.value, CandidateStatus.REJECTED.value):
        raise Conflict(f"candidate {c.id} is already {c.status}")
    now = now_of(clock)
    c.status, c.decided_by, c.decided_at, c.updated_at = (
        status.value,
        user_id_of(principal),
        now,
        now,
    )
    c.note = note.strip()
    record(
        session,
        principal,
        f"resurgence.{status.value[:-2]}",
        "resurgence_candidate",
        c.id,
        {
            "predecessor": view.predecessor.identity,
            "successor": view.successor.identity,
            "score": c.score,
        },
        clock=clock,
    )
    return view


def confirm(
    session: Session,
    principal: Principal,
    candidate_id: int,
    *,
    note: str = "",
    refer: bool = False,
    clock: Clock | None = None,
) -> CandidateView:
    """Link the successor to its predecessor; with ``refer``, accept the predecessor's
    assessment for the successor and send a ToS referral of it (one step)."""
    view = _decide(session, principal, candidate_id, CandidateStatus.CONFIRMED, note, clock)
    if refer:
        refer_successor(session, principal, view, clock=clock)
    return view


def reject(
    session: Session,
    principal: Principal,
    candidate_id: int,
    *,
    note: str = "",
    clock: Clock | None = None,
) -> CandidateView:
    return _decide(session, principal, candidate_id, CandidateStatus.REJECTED, note, clock)


def refer_successor(
    session: Session, principal: Principal, view: CandidateView, *, clock: Clock | None = None
) -> int:
    """Assess the successor as its predecessor was (the suggestion) and refer it; the id of
    the referral. Conflict when there is no suggestion to inherit."""
    from takedown.items.assessments import assess
    from takedown.referrals import issuing
    from takedown.referrals import service as referrals

    c = view.candidate
    if c.status != CandidateStatus.CONFIRMED.value:
        raise Conflict(f"candidate {c.id} is {c.status}; confirm it before referring")
    sug = c.suggestion or _suggestion(session, view.predecessor.id)
    if not sug.get("categories"):
        raise Conflict(
            f"{view.predecessor.canonical_url} has no terrorist-content assessment to inherit; "
            "assess the successor first"
        )
    assess(
        session,
        principal,
        view.successor.id,
        sug["verdict"],
        sug["categories"],
        group=sug.get("group"),
        outlet=sug.get("outlet"),
        language=sug.get("language"),
        notes=f"inherited from its predecessor {view.predecessor.canonical_url} "
        f"(resurgence candidate {c.id})",
        clock=clock,
    )
    batches = referrals.create_batches(
        session, principal, item_ids=[view.successor.id], kind="tos", clock=clock
    )
    ref = batches[0].referral
    if batches[0].included:
        issuing.submit(session, principal, ref.id, clock=clock)
    c.referral_id = ref.id
    record(
        session,
        principal,
        "resurgence.refer",
        "resurgence_candidate",
        c.id,
        {"referral": ref.reference},
        clock=clock,
    )
    return ref.id


def threshold() -> float:
    return THRESHOLD


def register_hooks() -> None:
    """Connect to items (newly seen) and verification (confirmed removals); idempotent.
    Called by the composition root (``bootstrap.wire_hooks``)."""
    from takedown.items.hooks import register_on_items_created
    from takedown.verification.service import on_removal_confirmed

    register_on_items_created(_on_items_created)
    if _on_removal not in on_removal_confirmed:
        on_removal_confirmed.append(_on_removal)


def _on_items_created(session: Session, item_ids: Sequence[int]) -> None:
    enqueue_seen(session, item_ids)


def _on_removal(session: Session, item_id: int) -> None:
    from takedown.resurgence import predictions

    enqueue_removed(session, item_id)
    predictions.generate(session, item_id)  # idempotent: at most PER_REMOVED per removal


# --- figures ----------------------------------------------------------------------------


def figure_records(
    session: Session, principal: Principal, *, by: str = "platform", operation_id: int | None = None
) -> tuple[list[figures.Return], list[figures.Successor]]:
    """The records the figures are computed from: every removed account or channel the
    principal sees, and the proposed or confirmed successors found for them.

    ``by`` is ``platform`` or ``operation`` (a removal in two operations counts in both).
    """
    if by not in ("platform", "operation"):
        raise InvalidInput("figures are split by 'platform' or 'operation'")
    visible = {i.id for i in repository.visible_items(session, principal, repository.OWNER_KINDS)}
    removed = [i for i in repository.removed_owners(session) if i.id in visible]
    if operation_id is not None:
        members = set(repository.operation_item_ids(session, operation_id))
        removed = [i for i in removed if i.id in members]
    times = repository.removal_times(session, [i.id for i in removed])
    ops = repository.operations_of(session, [i.id for i in removed]) if by == "operation" else {}

    def groups(it: Item) -> list[str]:
        return ops.get(it.id, ["(none)"]) if by == "operation" else [it.platform]

    first_back: dict[int, dt.datetime] = {}
    successors: list[figures.Successor] = []
    pairs = [
        (c, p, s)
        for c, p, s in repository.candidates_for_figures(session)
        if p.id in times and s.id in visible
    ]
    succ_removed = repository.removal_times(session, [s.id for _, _, s in pairs])
    for c, p, s in pairs:
        if p.id not in first_back or s.first_seen_at < first_back[p.id]:
            first_back[p.id] = s.first_seen_at
        for g in groups(p):
            successors.append(
                figures.Successor(g, s.first_seen_at, c.created_at, succ_removed.get(s.id),
                                  c.generation)
            )  # fmt: skip
    returns = [
        figures.Return(g, times[it.id], first_back.get(it.id)) for it in removed for g in groups(it)
    ]
    return returns, successors


def figures_by(
    session: Session,
    principal: Principal,
    *,
    by: str = "platform",
    operation_id: int | None = None,
    clock: Clock | None = None,
) -> dict[str, figures.Figures]:
    returns, successors = figure_records(session, principal, by=by, operation_id=operation_id)
    return figures.by_group(returns, successors, now_of(clock))


# --- handles from elsewhere -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HandleLink:
    seen: str
    predecessor: str | None
    score: float
    verdict: str
    reasons: list[dict[str, Any]]


MAX_HANDLE = 200


def clean_handles(lines: Sequence[str], what: str) -> tuple[list[str], list[str]]:
    """Handles from a list (one a line, ``@`` and URLs' last segment accepted); bad lines are
    reported by number and the good ones kept."""
    out: list[str] = []
    errors: list[str] = []
    for n, raw in enumerate(lines, start=1):
        h = raw.strip()
        if not h or h.startswith("#"):
            continue
        if "://" in h:
            h = h.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
        h = h.lstrip("@")
        if not h or len(h) > MAX_HANDLE or any(c.isspace() or c in "\x00/" for c in h):
            errors.append(f"{what} line {n}: {raw.strip()[:60]!r} is not a handle")
            continue
        out.append(h)
    return list(dict.fromkeys(out)), errors


def link_handles(
    platform: str, removed: Sequence[str], seen: Sequence[str], *, seen_after: bool = True
) -> list[HandleLink]:
    """For each seen handle its best removed predecessor, by the handle signals (lists from
    elsewhere carry no media or announcements). ``seen_after``: the seen list was collected
    after the removals, which is the "created after the removal" signal."""
    from takedown.resurgence.signals.engine import link

    removed_at = dt.datetime(2000, 1, 1, tzinfo=dt.UTC) if seen_after else None
    seen_at = removed_at + dt.timedelta(seconds=1) if removed_at else None
    rp = [Profile(key=h, platform=platform, handle=h, removed_at=removed_at) for h in removed]
    sp = [
        Profile(
            key=h, platform=platform, handle=h, first_seen_at=seen_at,
            max_len=MAX_LEN.get(platform),
        )
        for h in seen
    ]  # fmt: skip
    out: list[HandleLink] = []
    for prof, best in link(rp, sp):
        if best is None:
            out.append(HandleLink(prof.key, None, 0.0, "no_candidate", []))
        else:
            reasons = [
                {**r, "detail": "the seen list was collected after the removals"}
                if r["signal"] == "created_after"
                else r
                for r in best.reasons_json()
            ]
            out.append(HandleLink(prof.key, best.removed, best.score, best.verdict, reasons))
    return out
