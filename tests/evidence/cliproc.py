"""Running ``takedown evidence ...`` in a subprocess, as an operator would."""

from __future__ import annotations

#: ``python -c LAUNCH evidence ...``: the root CLI, with the evidence commands registered.
LAUNCH = (
    "import sys\n"
    "from takedown.cli import app\n"
    "if 'evidence' not in [g.name for g in app.registered_groups]:\n"
    "    from takedown.evidence.cli import register\n"
    "    register(app)\n"
    "sys.argv[0] = 'takedown'\n"
    "app()\n"
)
