"""Imports every capability's models so ``Base.metadata`` knows all tables.

Used by Alembic's autogenerate and by the schema-parity test. Add a line when a
capability gains ``models.py``.
"""

from takedown.accounts import models as accounts_models  # noqa: F401
from takedown.audit import models as audit_models  # noqa: F401
