"""takedown: find, match, refer, verify and preserve takedowns of terrorist content.

Each capability lives in its own sub-package (see docs/architecture.md). This top
level holds only the composition roots: ``app`` (FastAPI), ``cli`` (Typer),
``config`` (the one ``Settings``), ``db`` and ``worker``.
"""

__version__ = "0.1.0"
