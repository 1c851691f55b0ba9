"""Logging for long-running processes (``takedown serve``, ``takedown worker``).

Capabilities log through ``logging.getLogger(__name__)``; without a handler on the
root logger Python prints only warnings and errors, with no time and no process.
``configure_logging`` gives the root logger one stream handler (stderr) with the
time, level, process id and logger name, at the level of ``TAKEDOWN_LOG_LEVEL``.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

FORMAT = "%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s"
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_MARK = "_takedown_handler"


def configure_logging(level: str = "INFO", stream: TextIO | None = None) -> logging.Handler:
    """Install (once) the root handler and set the level; return the handler."""
    name = level.upper()
    if name not in LEVELS:
        raise ValueError(f"log level {level!r}: use one of {', '.join(LEVELS)}")
    root = logging.getLogger()
    for handler in root.handlers:
        if getattr(handler, _MARK, False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    setattr(handler, _MARK, True)
    root.addHandler(handler)
    root.setLevel(name)
    return handler
