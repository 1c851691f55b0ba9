"""Portal and export delivery.

The portal channel publishes the batch to the platform portal (the liaison
sees it from then on); receipt is the moment of publication. The export
channel writes the CSV and PDF for platforms that only take web forms; an
analyst pastes them in, and receipt is when the files were produced.
"""

from __future__ import annotations

from pathlib import Path

from takedown.kit.clock import Clock, SystemClock
from takedown.kit.errors import Unavailable
from takedown.referrals.channels.base import Attempt, Envelope


class PortalChannel:
    name = "portal"

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or SystemClock()

    def deliver(self, envelope: Envelope) -> Attempt:
        return Attempt(True, received_at=self.clock.now(), detail="published on the portal")


class ExportChannel:
    name = "export"

    def __init__(self, directory: Path, clock: Clock | None = None) -> None:
        self.directory = directory
        self.clock = clock or SystemClock()

    def deliver(self, envelope: Envelope) -> Attempt:
        self.directory.mkdir(parents=True, exist_ok=True)
        base = self.directory / envelope.reference
        base.with_suffix(".csv").write_text(envelope.csv(), encoding="utf-8")
        try:
            base.with_suffix(".pdf").write_bytes(envelope.pdf())
        except Unavailable:
            base.with_suffix(".html").write_text(envelope.html(), encoding="utf-8")
        return Attempt(
            True,
            received_at=self.clock.now(),
            detail=f"exported to {base}.csv",
        )
