"""A watch list as a MISP event, through the sharing capability's mappings.

Sharing owns the exits (TLP rules, MISP attribute types of other capabilities'
values: ``btc`` and ``xmr`` are registered there as observables); coins only hands it
the list's addresses as ``ObservableFact``s. The list's TLP marks every attribute and
the event; TLP:RED never leaves, and a marking the audience may not receive is refused.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from takedown.accounts.principal import Principal
from takedown.audit.service import record
from takedown.coins import repository as repo
from takedown.coins import watch
from takedown.kit.errors import Forbidden


def misp_event(
    session: Session, principal: Principal, list_id: int, *, audience: str = "community"
) -> tuple[dict[str, Any], int]:
    """(the MISP event as JSON, how many entries had no MISP type and stayed out)."""
    from pymisp import MISPEvent

    from takedown.sharing.facts import ObservableFact
    from takedown.sharing.misp import DISTRIBUTION, OBSERVABLES, tlp_tag
    from takedown.sharing.stixmap import NAMESPACE
    from takedown.sharing.tlp import Audience, Tlp, may_leave, parse_tlp

    wl = watch.get_list(session, principal, list_id)
    marking = parse_tlp(wl.tlp)
    aud = Audience(audience)
    if marking is Tlp.RED:
        raise Forbidden("TLP:RED never leaves the instance")
    if not may_leave(marking, aud):
        raise Forbidden(f"TLP:{marking.value} may not go to a {aud.value} audience")
    event = MISPEvent()
    event.uuid = str(uuid.uuid5(NAMESPACE, f"misp|coins|{principal.agency_id}|{wl.id}"))
    event.info = f"takedown: watched addresses, {wl.name}"[:250]
    event.analysis = 2
    event.threat_level_id = 2
    withheld = added = 0
    for e in repo.entries_of(session, wl.id):
        fact = ObservableFact(e.kind, e.address, marking, {"label": e.label})
        mapper = OBSERVABLES.get(fact.kind)
        if mapper is None:
            withheld += 1
            continue
        attr = event.add_attribute(
            mapper.misp_type, fact.value, category=mapper.category, comment=e.label or None
        )
        for a in attr if isinstance(attr, list) else [attr]:
            a.add_tag(tlp_tag(marking))
            a.distribution = DISTRIBUTION[marking]
        added += 1
    event.add_tag(tlp_tag(marking))
    event.distribution = DISTRIBUTION[marking]
    record(
        session,
        principal,
        "coins.watch_list.export_misp",
        repo.SUBJECT_WATCH,
        wl.id,
        {"audience": aud.value, "tlp": marking.value, "attributes": added, "withheld": withheld},
    )
    return event.to_dict(), withheld
