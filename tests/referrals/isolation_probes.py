"""Tenant-isolation probes for the referrals and verification routes.

tests/isolation.py imports this module (one line) so that
tests/test_tenant_isolation.py covers every route mounted from these
capabilities: agency B never reaches agency A's batches, checks or notices.
"""

from __future__ import annotations

import datetime as dt
import itertools

from sqlalchemy.orm import Session

from tests.factories import Actor
from tests.isolation import Case, probe

_n = itertools.count(1)


def _batch(s: Session, a: Actor, *, submit: bool = False) -> tuple[int, int, str]:
    """A ToS batch of A with one of A's items; (referral id, item id, reference)."""
    from takedown.items import service as items
    from takedown.referrals import service

    n = next(_n)
    item, _ = items.report_url(s, a.principal, f"https://x.com/refprobe{n}/status/{77_000 + n}")
    items.assess(s, a.principal, item.id, "terrorist_content", ["a"])
    [res] = service.create_batches(s, a.principal, item_ids=[item.id], kind="tos", channel="portal")
    if submit:
        service.submit(s, a.principal, res.referral.id)
    return res.referral.id, item.id, res.referral.reference


def _ref(**extra: object):  # type: ignore[no-untyped-def]
    def setup(s: Session, a: Actor) -> Case:
        rid, _, _ = _batch(s, a)
        return Case(params={"referral_id": rid}, **extra)  # type: ignore[arg-type]

    return setup


@probe("POST", "/api/v1/referrals")
def _create(s: Session, a: Actor) -> Case:
    from takedown.items import service as items

    item, _ = items.report_url(s, a.principal, "https://x.com/refprobe_create/status/7700001")
    items.assess(s, a.principal, item.id, "terrorist_content", ["a"])
    return Case(body={"item_ids": [item.id], "kind": "tos"}, marker="refprobe_create")


@probe("GET", "/api/v1/referrals")
def _list(s: Session, a: Actor) -> Case:
    _, _, reference = _batch(s, a)
    return Case(marker=reference)


probe("GET", "/api/v1/referrals/{referral_id}")(_ref())
probe("GET", "/api/v1/referrals/{referral_id}/document.html")(_ref())
probe("GET", "/api/v1/referrals/{referral_id}/document.pdf")(_ref())
probe("GET", "/api/v1/referrals/{referral_id}/export.csv")(_ref())
probe("GET", "/api/v1/referrals/{referral_id}/stats")(_ref())
probe("POST", "/api/v1/referrals/{referral_id}/submit")(_ref())
probe("POST", "/api/v1/referrals/{referral_id}/cancel")(_ref())
probe("PATCH", "/api/v1/referrals/{referral_id}")(_ref(body={"remove_items": []}))
# the Art. 4(1) copy: the owner's ToS batch has none (409), B's call is a 404
probe("POST", "/api/v1/referrals/{referral_id}/host-copy")(_ref())
# escalation needs an approved order held by the prior notice and a supervisor
probe("POST", "/api/v1/referrals/{referral_id}/emergency")(
    _ref(body={"reason": "a synthetic emergency, long enough"}, owner_ok=False)
)
# approving needs a supervisor who is not the author; rejecting needs a pending order
probe("POST", "/api/v1/referrals/{referral_id}/approve")(_ref(owner_ok=False))
probe("POST", "/api/v1/referrals/{referral_id}/reject")(_ref(body={"reason": "no"}, owner_ok=False))


@probe("GET", "/api/v1/referrals/{referral_id}/delivery")
def _delivery(s: Session, a: Actor) -> Case:
    rid, _, _ = _batch(s, a, submit=True)
    return Case(params={"referral_id": rid})


@probe("POST", "/api/v1/referrals/{referral_id}/items/{item_id}/response")
def _respond(s: Session, a: Actor) -> Case:
    rid, item_id, _ = _batch(s, a, submit=True)
    # only the platform's liaison may answer: the agency's own analyst gets 403
    return Case(
        params={"referral_id": rid, "item_id": item_id},
        body={"response": "removed"},
        owner_ok=False,
    )


def _notice(s: Session, a: Actor) -> int:
    from takedown.referrals.models import Notification

    rid, _, _ = _batch(s, a)
    n = Notification(
        user_id=a.user.id,
        referral_id=rid,
        kind="overdue",
        message="owner-only-notification-marker",
        created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )
    s.add(n)
    s.flush()
    return n.id


probe("GET", "/api/v1/notifications", kind="self")(
    lambda s, a: Case(marker="owner-only-notification-marker") if _notice(s, a) else Case()
)
probe("POST", "/api/v1/notifications/{notification_id}/read")(
    lambda s, a: Case(params={"notification_id": _notice(s, a)})
)


def _checked_item(s: Session, a: Actor) -> int:
    from takedown.items import service as items
    from takedown.platforms.detectors.base import Outcome
    from takedown.verification.engine import CheckResult
    from takedown.verification.service import record_results, schedule_items

    item, _ = items.report_url(s, a.principal, "https://x.com/checkprobe/status/7711111")
    schedule_items(s, [item.id])
    record_results(
        s,
        [
            CheckResult(
                item.id,
                item.fetch_url,
                Outcome.ONLINE,
                "HTTP 200",
                "x",
                dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
                200,
            )
        ],
    )
    return item.id


probe("GET", "/api/v1/checks")(
    lambda s, a: Case(marker="checkprobe") if _checked_item(s, a) else Case()
)
probe("GET", "/api/v1/checks/items/{item_id}")(
    lambda s, a: Case(params={"item_id": _checked_item(s, a)})
)
probe("GET", "/api/v1/verification/stats")(
    lambda s, a: Case(marker='"platform":"x"') if _checked_item(s, a) else Case()
)

# --- pages ------------------------------------------------------------------------------
probe("GET", "/referrals")(lambda s, a: Case(marker=_batch(s, a)[2]))
probe("GET", "/portal")(lambda s, a: Case(marker=_batch(s, a)[2]))
probe("GET", "/referrals/{referral_id}")(_ref())
probe("GET", "/referrals/{referral_id}/document")(_ref())
probe("POST", "/referrals/{referral_id}/submit")(_ref())
probe("POST", "/referrals/{referral_id}/approve")(_ref(owner_ok=False))
probe("POST", "/referrals/{referral_id}/cancel")(_ref())
probe("POST", "/referrals/{referral_id}/edit")(_ref())
probe("POST", "/referrals/{referral_id}/send-back")(_ref(owner_ok=False))
probe("POST", "/referrals/{referral_id}/emergency")(_ref(owner_ok=False))
probe("POST", "/referrals/{referral_id}/host-copy")(_ref())


@probe("POST", "/referrals/{referral_id}/items/{item_id}/respond")
def _respond_page(s: Session, a: Actor) -> Case:
    rid, item_id, _ = _batch(s, a, submit=True)
    return Case(params={"referral_id": rid, "item_id": item_id}, owner_ok=False)


@probe("POST", "/referrals/{referral_id}/respond")
def _respond_many_page(s: Session, a: Actor) -> Case:
    rid, item_id, _ = _batch(s, a, submit=True)
    return Case(params={"referral_id": rid}, body={"item_ids": [str(item_id)]}, owner_ok=False)


probe("GET", "/verification")(
    lambda s, a: Case(marker="<td>x</td>") if _checked_item(s, a) else Case()
)
probe("GET", "/verification/items/{item_id}")(
    lambda s, a: Case(params={"item_id": _checked_item(s, a)})
)


# --- pages: batches from a selection, send now ----------------------------------------------
@probe("POST", "/referrals/new")
def _page_new(s: Session, a: Actor) -> Case:
    from takedown.items import service as items

    item, _ = items.report_url(s, a.principal, "https://x.com/refprobe_page_new/status/7700002")
    items.assess(s, a.principal, item.id, "terrorist_content", ["a"])
    # A form post: B names A's item; B gets the form back, never a batch or A's URL.
    return Case(
        files={"item_ids": (None, str(item.id).encode()), "kind": (None, b"tos")},
        marker="refprobe_page_new",
    )


@probe("POST", "/referrals/{referral_id}/deliver")
def _page_deliver(s: Session, a: Actor) -> Case:
    rid, _, _ = _batch(s, a, submit=True)
    return Case(params={"referral_id": rid})


@probe("GET", "/referrals/{referral_id}/send-state")
def _send_state(s: Session, a: Actor) -> Case:
    rid, _, _ = _batch(s, a, submit=True)
    return Case(params={"referral_id": rid})
