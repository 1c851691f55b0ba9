"""Imports every capability's models so ``Base.metadata`` knows all tables.

Used by Alembic's autogenerate and by the schema-parity test. Add a line when a
capability gains ``models.py``.
"""

from takedown.accounts import models as accounts_models  # noqa: F401
from takedown.audit import models as audit_models  # noqa: F401
from takedown.evidence import models as evidence_models  # noqa: F401
from takedown.items import models as items_models  # noqa: F401
from takedown.matching import models as matching_models  # noqa: F401
from takedown.monitoring import models as monitoring_models  # noqa: F401
from takedown.operations import models as operations_models  # noqa: F401
from takedown.platforms import models as platforms_models  # noqa: F401
from takedown.referrals import models as referrals_models  # noqa: F401
from takedown.resurgence import models as resurgence_models  # noqa: F401
from takedown.sharing import models as sharing_models  # noqa: F401
from takedown.verification import models as verification_models  # noqa: F401
