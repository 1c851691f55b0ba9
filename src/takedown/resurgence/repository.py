"""Every SQL query of resurgence (candidates, predictions, due scans, and the reads of items,
checks, match results and operations that the signals and the figures need)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence

from sqlalchemy import ColumnElement, delete, func, or_, select
from sqlalchemy.orm import Session, aliased

from takedown.accounts.principal import Principal
from takedown.items.models import Assessment, Item, ItemStatus, Sighting, Verdict
from takedown.items.repository import visible_to
from takedown.matching.models import MatchResult, Signal
from takedown.operations.models import Operation, OperationItem
from takedown.resurgence.models import Candidate, CandidateStatus, Due, Prediction, PredictionState
from takedown.verification.models import CheckSchedule

OWNER_KINDS = ("account", "channel")
MEDIA_SIGNALS = ("pdq", "video_pdq", "sha256", "md5")
TEXT_SIGNALS = ("text_simhash",)


# --- items ------------------------------------------------------------------------------


def owners(session: Session, ids: Iterable[int]) -> list[Item]:
    """The accounts and channels among ``ids``."""
    wanted = sorted(set(ids))
    if not wanted:
        return []
    return list(
        session.scalars(select(Item).where(Item.id.in_(wanted), Item.kind.in_(OWNER_KINDS)))
    )


def visible_items(session: Session, principal: Principal, kinds: Sequence[str]) -> list[Item]:
    return list(
        session.scalars(select(Item).where(Item.kind.in_(list(kinds)), visible_to(principal)))
    )


def removal_times(session: Session, ids: Sequence[int]) -> dict[int, dt.datetime]:
    """When each item was removed: the confirmed removal instant, else its status change."""
    if not ids:
        return {}
    rows = session.execute(
        select(Item.id, Item.status, Item.status_changed_at, CheckSchedule.removed_at)
        .outerjoin(CheckSchedule, CheckSchedule.item_id == Item.id)
        .where(Item.id.in_(list(ids)))
    ).all()
    out: dict[int, dt.datetime] = {}
    for iid, status, changed, removed_at in rows:
        if removed_at is not None:
            out[iid] = removed_at
        elif status == ItemStatus.REMOVED.value:
            out[iid] = changed
    return out


def _removed_clause() -> ColumnElement[bool]:
    return or_(Item.status == ItemStatus.REMOVED.value, CheckSchedule.removed_at.is_not(None))


def removed_owners(session: Session, *, platform: str | None = None) -> list[Item]:
    """Every account and channel whose verification says removed (ours or organic)."""
    q = (
        select(Item)
        .outerjoin(CheckSchedule, CheckSchedule.item_id == Item.id)
        .where(Item.kind.in_(OWNER_KINDS), _removed_clause())
    )
    if platform:
        q = q.where(Item.platform == platform)
    return list(session.scalars(q.order_by(Item.id)))


def seen_owners_since(session: Session, since: dt.datetime) -> list[Item]:
    """Accounts and channels first seen at or after ``since`` that are not removed."""
    return list(
        session.scalars(
            select(Item)
            .where(
                Item.kind.in_(OWNER_KINDS),
                Item.first_seen_at >= since,
                Item.status != ItemStatus.REMOVED.value,
            )
            .order_by(Item.id)
        )
    )


def items_by_identity(session: Session, identities: Iterable[str]) -> dict[str, Item]:
    ids = sorted(set(identities))
    if not ids:
        return {}
    return {i.identity: i for i in session.scalars(select(Item).where(Item.identity.in_(ids)))}


def reposted_from(
    session: Session, owner_identities: Sequence[str], signal_types: Sequence[str]
) -> dict[str, set[str]]:
    """For each owner: the owners whose posts' media (or texts) its own posts matched.

    A match result on a child of the seen owner names a bank signal that came from a
    child of another owner (the removed-content bank keeps ``Signal.item_id``).
    """
    if not owner_identities:
        return {}
    child = aliased(Item)
    source = aliased(Item)
    rows = session.execute(
        select(child.parent_identity, source.parent_identity)
        .join(MatchResult, MatchResult.item_id == child.id)
        .join(Signal, Signal.id == MatchResult.signal_id)
        .join(source, source.id == Signal.item_id)
        .where(
            child.parent_identity.in_(list(owner_identities)),
            MatchResult.signal_type.in_(list(signal_types)),
            source.parent_identity.is_not(None),
        )
    ).all()
    out: dict[str, set[str]] = defaultdict(set)
    for seen, src in rows:
        if seen is not None and src is not None and seen != src:
            out[seen].add(src)
    return out


def announcements(
    session: Session, item_ids: Sequence[int]
) -> dict[int, list[tuple[str, dt.datetime]]]:
    """Where each item was posted as a link: (channel identity, when).

    A sighting whose ``source`` is the identity of a post or channel says the item's
    address was found there (monitoring records outlinks so); the channel is that
    post's parent.
    """
    if not item_ids:
        return {}
    post = aliased(Item)
    rows = session.execute(
        select(Sighting.item_id, post.identity, post.parent_identity, Sighting.reported_at)
        .join(post, post.identity == Sighting.source)
        .where(Sighting.item_id.in_(list(item_ids)))
    ).all()
    out: dict[int, list[tuple[str, dt.datetime]]] = defaultdict(list)
    for iid, pid, parent, at in rows:
        out[iid].append((parent or pid, at))
    return out


def linked_in(session: Session, channels: Sequence[str]) -> dict[str, set[str]]:
    """For each channel identity: the identities of the items its posts linked."""
    if not channels:
        return {}
    post = aliased(Item)
    target = aliased(Item)
    rows = session.execute(
        select(func.coalesce(post.parent_identity, post.identity), target.identity)
        .join(Sighting, Sighting.source == post.identity)
        .join(target, target.id == Sighting.item_id)
        .where(or_(post.parent_identity.in_(list(channels)), post.identity.in_(list(channels))))
    ).all()
    out: dict[str, set[str]] = defaultdict(set)
    for ch, tid in rows:
        out[ch].add(tid)
    return out


def latest_terrorist_assessment(session: Session, item_id: int) -> Assessment | None:
    return session.scalars(
        select(Assessment)
        .where(
            Assessment.item_id == item_id,
            Assessment.verdict == Verdict.TERRORIST_CONTENT.value,
        )
        .order_by(Assessment.created_at.desc(), Assessment.id.desc())
        .limit(1)
    ).first()


# --- candidates -------------------------------------------------------------------------


def candidate(session: Session, predecessor_id: int, successor_id: int) -> Candidate | None:
    return session.scalars(
        select(Candidate).where(
            Candidate.predecessor_id == predecessor_id, Candidate.successor_id == successor_id
        )
    ).first()


def candidates_of_successors(session: Session, successor_ids: Sequence[int]) -> list[Candidate]:
    if not successor_ids:
        return []
    return list(
        session.scalars(select(Candidate).where(Candidate.successor_id.in_(list(successor_ids))))
    )


def confirmed_predecessor(session: Session, item_id: int) -> Candidate | None:
    return session.scalars(
        select(Candidate).where(
            Candidate.successor_id == item_id,
            Candidate.status == CandidateStatus.CONFIRMED.value,
        )
    ).first()


def add(session: Session, row: Candidate | Prediction) -> None:
    session.add(row)
    session.flush()


def visible_candidate(
    session: Session, principal: Principal, candidate_id: int
) -> tuple[Candidate, Item, Item] | None:
    pred = aliased(Item)
    succ = aliased(Item)
    row = session.execute(
        select(Candidate, pred, succ)
        .join(pred, pred.id == Candidate.predecessor_id)
        .join(succ, succ.id == Candidate.successor_id)
        .where(Candidate.id == candidate_id)
    ).first()
    if row is None:
        return None
    cand, p, s = row
    if not _sees(session, principal, [p.id, s.id]):
        return None
    return cand, p, s


def _sees(session: Session, principal: Principal, ids: Sequence[int]) -> bool:
    n = session.scalar(
        select(func.count()).select_from(Item).where(Item.id.in_(ids), visible_to(principal))
    )
    return n == len(set(ids))


def list_candidates(
    session: Session,
    principal: Principal,
    *,
    status: Sequence[str] = (),
    platform: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[tuple[Candidate, Item, Item]], int]:
    """Candidates whose both items ``principal`` may see, best score first."""
    visible_ids = select(Item.id).where(visible_to(principal))
    pred = aliased(Item)
    succ = aliased(Item)
    conds: list[ColumnElement[bool]] = [
        Candidate.predecessor_id.in_(visible_ids),
        Candidate.successor_id.in_(visible_ids),
    ]
    if status:
        conds.append(Candidate.status.in_(list(status)))
    if platform:
        conds.append(succ.platform == platform)
    base = (
        select(Candidate, pred, succ)
        .join(pred, pred.id == Candidate.predecessor_id)
        .join(succ, succ.id == Candidate.successor_id)
        .where(*conds)
    )
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = session.execute(
        base.order_by(Candidate.score.desc(), Candidate.id.desc()).limit(limit).offset(offset)
    ).all()
    return [(c, p, s) for c, p, s in rows], int(total)


def candidates_for_figures(session: Session) -> list[tuple[Candidate, Item, Item]]:
    """Proposed and confirmed candidates with both items (figures count them as returns)."""
    pred = aliased(Item)
    succ = aliased(Item)
    rows = session.execute(
        select(Candidate, pred, succ)
        .join(pred, pred.id == Candidate.predecessor_id)
        .join(succ, succ.id == Candidate.successor_id)
        .where(
            Candidate.status.in_([CandidateStatus.PROPOSED.value, CandidateStatus.CONFIRMED.value])
        )
    ).all()
    return [(c, p, s) for c, p, s in rows]


def operations_of(session: Session, item_ids: Sequence[int]) -> dict[int, list[str]]:
    if not item_ids:
        return {}
    rows = session.execute(
        select(OperationItem.item_id, Operation.name)
        .join(Operation, Operation.id == OperationItem.operation_id)
        .where(OperationItem.item_id.in_(list(item_ids)))
        .distinct()
    ).all()
    out: dict[int, list[str]] = defaultdict(list)
    for iid, name in rows:
        out[iid].append(name)
    return out


def operation_item_ids(session: Session, operation_id: int) -> list[int]:
    return list(
        session.scalars(
            select(OperationItem.item_id)
            .where(OperationItem.operation_id == operation_id)
            .distinct()
        )
    )


# --- due work ---------------------------------------------------------------------------


def enqueue(session: Session, item_ids: Iterable[int], reason: str, due_at: dt.datetime) -> int:
    """Make items due; a removal supersedes a pending "seen" (a removed item is scanned as
    removed). The number of rows added or changed."""
    ids = sorted(set(item_ids))
    if not ids:
        return 0
    have = {d.item_id: d for d in session.scalars(select(Due).where(Due.item_id.in_(ids)))}
    n = 0
    for iid in ids:
        row = have.get(iid)
        if row is None:
            session.add(Due(item_id=iid, reason=reason, due_at=due_at))
            n += 1
        elif reason == "removed" and row.reason != "removed":
            row.reason = reason
            n += 1
    session.flush()
    return n


def take_due(session: Session, now: dt.datetime, limit: int) -> list[Due]:
    rows = list(
        session.scalars(select(Due).where(Due.due_at <= now).order_by(Due.due_at).limit(limit))
    )
    if rows:
        session.execute(delete(Due).where(Due.item_id.in_([r.item_id for r in rows])))
    return rows


def due_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Due)) or 0)


# --- predictions ------------------------------------------------------------------------


def predictions_of(session: Session, removed_id: int) -> list[Prediction]:
    return list(
        session.scalars(
            select(Prediction)
            .where(Prediction.removed_id == removed_id)
            .order_by(Prediction.rank, Prediction.id)
        )
    )


def due_probes(session: Session, now: dt.datetime, limit: int) -> list[Prediction]:
    return list(
        session.scalars(
            select(Prediction)
            .where(
                Prediction.state.in_([PredictionState.PENDING.value, PredictionState.ERROR.value]),
                Prediction.next_probe_at.is_not(None),
                Prediction.next_probe_at <= now,
            )
            .order_by(Prediction.next_probe_at, Prediction.rank, Prediction.id)
            .limit(limit)
        )
    )


def list_predictions(
    session: Session, principal: Principal, *, state: str | None, limit: int, offset: int
) -> tuple[list[tuple[Prediction, Item]], int]:
    conds: list[ColumnElement[bool]] = [visible_to(principal)]
    if state:
        conds.append(Prediction.state == state)
    base = select(Prediction, Item).join(Item, Item.id == Prediction.removed_id).where(*conds)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = session.execute(
        base.order_by(Prediction.probed_at.desc().nulls_last(), Prediction.id)
        .limit(limit)
        .offset(offset)
    ).all()
    return [(p, i) for p, i in rows], int(total)
