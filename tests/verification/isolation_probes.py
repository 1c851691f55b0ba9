"""Tenant-isolation probes for checks on demand (see tests/isolation.py).

Every object is agency A's and under verification, so A's own call succeeds and B's is a
404: an item, a delivered referral, an operation with a referred item, and a request.
The API's POST takes its target in the body; ``params={"_": 1}`` makes the isolation test
hold it to the 403/404 rule all the same.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from tests.factories import Actor
from tests.isolation import Case, probe
from tests.verification.factories import delivered_referral, referred_operation, scheduled_item


def a_request(s: Session, a: Actor) -> int:
    from takedown.verification.requests import request_checks

    return request_checks(s, a.principal, "item", scheduled_item(s, a)).id


probe("POST", "/api/v1/verification/requests")(
    lambda s, a: Case(params={"_": 1}, body={"item_id": scheduled_item(s, a)})
)
probe("GET", "/api/v1/verification/requests/{request_id}")(
    lambda s, a: Case(params={"request_id": a_request(s, a)})
)
probe("POST", "/verification/items/{item_id}/check")(
    lambda s, a: Case(params={"item_id": scheduled_item(s, a)})
)
probe("POST", "/verification/referrals/{referral_id}/check")(
    lambda s, a: Case(params={"referral_id": delivered_referral(s, a)})
)
probe("POST", "/verification/operations/{operation_id}/check")(
    lambda s, a: Case(params={"operation_id": referred_operation(s, a)})
)
probe("GET", "/verification/requests/{request_id}")(
    lambda s, a: Case(params={"request_id": a_request(s, a)})
)
probe("GET", "/verification/requests/{request_id}/progress")(
    lambda s, a: Case(params={"request_id": a_request(s, a)})
)
