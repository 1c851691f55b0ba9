"""Detectors by name and by host; names are unique, plug-ins register the same way.

Third-party detectors come from the ``takedown.plugins`` entry-point group: an
entry point whose object has ``classify`` and ``probe`` and a ``name`` and
``hosts`` is registered as a detector.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib.metadata import entry_points
from urllib.parse import urlsplit

from takedown.platforms.detectors.base import Detector
from takedown.platforms.detectors.generic import GenericDetector


class DetectorRegistry:
    def __init__(self, detectors: Iterable[Detector] = (), *, fallback: Detector | None = None):
        self._by_name: dict[str, Detector] = {}
        self._exact: dict[str, Detector] = {}
        self._suffix: list[tuple[str, Detector]] = []
        self.fallback: Detector = fallback or GenericDetector()
        for d in detectors:
            self.register(d)

    def register(self, detector: Detector) -> None:
        if not isinstance(detector, Detector):
            raise TypeError(f"{detector!r} does not implement the Detector interface")
        if detector.name in self._by_name or detector.name == self.fallback.name:
            raise ValueError(f"a detector named {detector.name!r} is already registered")
        self._by_name[detector.name] = detector
        for h in detector.hosts:
            h = h.lower()
            if h.startswith("*."):
                self._suffix.append((h[1:], detector))
            else:
                self._exact[h] = detector
        self._suffix.sort(key=lambda s: -len(s[0]))

    def bind(self, host: str, name: str) -> None:
        """Send ``host`` (``*.`` for sub-domains) to the detector ``name``.

        For platforms whose hosts are only known at run time: a self-hosted
        Rocket.Chat server, a platform record's extra domains, the testbed.
        """
        detector = self.get(name)
        h = host.lower()
        if h.startswith("*."):
            self._suffix = [(s, d) for s, d in self._suffix if s != h[1:]]
            self._suffix.append((h[1:], detector))
            self._suffix.sort(key=lambda s: -len(s[0]))
        else:
            self._exact[h] = detector

    def names(self) -> list[str]:
        return sorted([*self._by_name, self.fallback.name])

    def get(self, name: str) -> Detector:
        if name == self.fallback.name:
            return self.fallback
        return self._by_name[name]

    def for_host(self, host: str) -> Detector:
        h = host.lower().rstrip(".")
        d = self._exact.get(h)
        if d is not None:
            return d
        for suffix, det in self._suffix:
            if h.endswith(suffix):
                return det
        return self.fallback

    def for_url(self, url: str) -> Detector:
        return self.for_host(urlsplit(url).hostname or "")


def builtin_detectors() -> list[Detector]:
    from takedown.platforms.detectors import platforms

    return list(platforms.ALL)


def plugin_detectors() -> list[Detector]:
    found: list[Detector] = []
    for ep in entry_points(group="takedown.plugins"):
        obj = ep.load()
        candidate = obj() if isinstance(obj, type) else obj
        if isinstance(candidate, Detector):
            found.append(candidate)
    return found


_default: DetectorRegistry | None = None


def default_registry() -> DetectorRegistry:
    global _default
    if _default is None:
        _default = DetectorRegistry([*builtin_detectors(), *plugin_detectors()])
    return _default
