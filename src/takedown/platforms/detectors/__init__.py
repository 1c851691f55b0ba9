"""Removal detectors: one per platform behind one interface, with a generic fallback.

``default_registry().for_url(url)`` picks the detector; ``classify`` turns an
observation into online / removed / restricted / unreachable / unknown.
"""

from takedown.platforms.detectors.base import (
    Detector,
    FetchError,
    Observation,
    Outcome,
    Probe,
    Verdict,
)
from takedown.platforms.detectors.registry import DetectorRegistry, default_registry

__all__ = [
    "Detector",
    "DetectorRegistry",
    "FetchError",
    "Observation",
    "Outcome",
    "Probe",
    "Verdict",
    "default_registry",
]
