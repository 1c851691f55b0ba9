"""Assessments: an agency's verdict, TCO Art. 2(7) categories, attribution and language."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from takedown.accounts.principal import Principal
from takedown.audit.service import record
from takedown.items import repository
from takedown.items.core import (
    S,
    get_item,
    no_nul,
    now_of,
    require_agency_user,
    transition,
    user_id_of,
)
from takedown.items.language import suggest_language
from takedown.items.models import Assessment, Item, ItemStatus, TcoCategory, Verdict
from takedown.kit.clock import Clock
from takedown.kit.errors import InvalidInput

CATEGORY_NAMES: dict[str, TcoCategory] = {
    "incitement": TcoCategory.INCITEMENT,
    "solicitation_commit": TcoCategory.SOLICITATION_COMMIT,
    "solicitation_participate": TcoCategory.SOLICITATION_PARTICIPATE,
    "instruction": TcoCategory.INSTRUCTION,
    "threat": TcoCategory.THREAT,
}
_LANG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
MAX_ATTRIBUTION = 200
MAX_NOTES = 20_000


@dataclass(frozen=True)
class AssessmentView:
    """Other agencies' assessments come without the analyst and the notes."""

    assessment: Assessment
    agency_name: str
    own: bool


def assessments_for(session: Session, principal: Principal, item_id: int) -> list[AssessmentView]:
    item = get_item(session, principal, item_id)
    if principal.is_liaison:
        return []
    rows = repository.assessments_of(session, item.id)
    names = repository.agency_names(session, (a.agency_id for a in rows))
    return [
        AssessmentView(
            a,
            names.get(a.agency_id, ""),
            principal.via == "system" or a.agency_id == principal.agency_id,
        )
        for a in rows
    ]


# --- assessments ------------------------------------------------------------------------------


def normalize_categories(categories: Iterable[str]) -> list[str]:
    """Letters 'a'..'e' or their names (incitement, ...) -> sorted unique letters."""
    out: set[str] = set()
    for raw in categories:
        c = raw.strip().lower()
        if c in CATEGORY_NAMES:
            out.add(CATEGORY_NAMES[c].value)
            continue
        try:
            out.add(TcoCategory(c.strip("()")).value)
        except ValueError:
            raise InvalidInput(
                f"category {raw!r} is not a TCO Art. 2(7) letter a-e "
                f"or one of {', '.join(CATEGORY_NAMES)}"
            ) from None
    return sorted(out)


def _clean(value: str | None, what: str, limit: int) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    if len(value) > limit:
        raise InvalidInput(f"{what} is longer than {limit} characters")
    return value


def assess(
    session: Session,
    principal: Principal,
    item_id: int,
    verdict: Verdict | str,
    categories: Sequence[str] = (),
    group: str | None = None,
    outlet: str | None = None,
    language: str | None = None,
    notes: str = "",
    *,
    clock: Clock | None = None,
) -> Assessment:
    """Record an agency's assessment and move the item along the workflow.

    A terrorist-content verdict needs at least one Art. 2(7) category (they are the
    reason boxes of a removal order). Before referral, the item is "assessed" while
    any agency's latest verdict is terrorist content, "dismissed" once the latest
    verdicts are all "not terrorist content"; "needs review" changes nothing.
    """
    require_agency_user(principal, "assess items")
    for what, value in (("group", group), ("outlet", outlet), ("language", language)):
        no_nul(value, what)
    no_nul(notes, "notes")
    for c in categories:
        no_nul(c, "category")
    item = get_item(session, principal, item_id)
    try:
        v = Verdict(verdict)
    except ValueError:
        raise InvalidInput(
            f"verdict {verdict!r} is not one of {', '.join(x.value for x in Verdict)}"
        ) from None
    cats = normalize_categories(categories)
    if v is Verdict.TERRORIST_CONTENT and not cats:
        raise InvalidInput("a terrorist_content verdict needs at least one category (a-e)")
    if v is Verdict.NOT_TERRORIST_CONTENT and cats:
        raise InvalidInput("a not_terrorist_content verdict takes no categories")
    lang = _clean(language, "language", 16)
    if lang is not None:
        lang = lang.lower() if "-" not in lang else lang
        if not _LANG.match(lang):
            raise InvalidInput(f"language {language!r} is not an ISO 639 code (e.g. 'ar', 'ps')")
    if len(notes) > MAX_NOTES:
        raise InvalidInput(f"notes are longer than {MAX_NOTES} characters")
    scores = suggest_language(item.title)
    suggested = scores[0][0] if scores else None
    a = Assessment(
        item_id=item.id,
        agency_id=principal.agency_id,
        analyst_id=user_id_of(principal),
        verdict=v.value,
        categories=cats,
        group=_clean(group, "group", MAX_ATTRIBUTION),
        outlet=_clean(outlet, "outlet", MAX_ATTRIBUTION),
        language=lang or suggested,
        language_suggested=suggested,
        language_scores=[[code, score] for code, score in scores],
        notes=notes.strip(),
        created_at=now_of(clock),
    )
    repository.add(session, a)
    if a.language and not item.language:
        item.language = a.language
    record(
        session,
        principal,
        "item.assess",
        "item",
        item.id,
        {"assessment_id": a.id, "verdict": v.value, "categories": cats},
        clock=clock,
    )
    _apply_verdicts(session, principal, item, clock=clock)
    return a


def _apply_verdicts(
    session: Session, principal: Principal, item: Item, *, clock: Clock | None
) -> None:
    status = ItemStatus(item.status)
    if status not in (S.NEW, S.ASSESSED, S.DISMISSED):
        return  # after referral, the world decides the status, not the verdicts
    latest: dict[int, str] = {}
    for a in repository.assessments_of(session, item.id):
        if a.verdict != Verdict.NEEDS_REVIEW.value:
            latest[a.agency_id] = a.verdict
    if Verdict.TERRORIST_CONTENT.value in latest.values():
        target = S.ASSESSED
    elif latest:
        target = S.DISMISSED
    else:
        return
    if target is not status:
        transition(session, principal, item, target, reason="assessment", clock=clock)
