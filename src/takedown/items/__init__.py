"""Items: what agencies report, their sightings, assessments, status workflow, holds, intake.

Owns the item (one thing on one platform, keyed by its URL identity), every
report of it (sightings, owned by the reporting agency), the agencies' verdicts,
the status workflow (new -> assessed -> referred -> removed | still online |
restricted; reappeared), deconfliction holds, and bulk intake from files.
Tenant isolation for items lives in ``repository.visible_to``. The contract
other capabilities code against is written down in docs/items.md.
"""
