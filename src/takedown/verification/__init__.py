"""verification: is each referred item still online?

Owns the checker engine (asyncio + httpx through ``kit.http``), the check
history, the re-check schedule kept in the database, the "two removed checks
some minutes apart" confirmation rule, reappearance, and time-to-removal
statistics. Per-platform removal detectors live in
``takedown.platforms.detectors``.
"""
