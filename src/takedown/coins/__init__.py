"""coins: cryptocurrency addresses found in what passes through the platform.

Owns extraction with checksum validation (``extract``), sightings (where each
address was first and later seen, with the item's attribution), per-agency watch
lists, tracing through an Esplora-compatible API (``trace``), the FATF red-flag
alerts (``alerts``), and the classification of dark-web listings (``classify``).
"""
