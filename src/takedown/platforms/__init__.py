"""Platforms: the registry of hosting services an IRU deals with, and URL identity.

Owns the platform records (domains, kind, country, legal representative, TCO
contact point, delivery channel), the canonicaliser that turns any reported URL
into a stable item identity (:mod:`takedown.platforms.identity`), and the
interface plus registry for per-platform connectors.
"""
