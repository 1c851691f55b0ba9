"""The testbed: a small, seeded, reproducible internet on loopback.

Owns the simulated platforms (x.com, YouTube, Telegram previews, Rocket.Chat,
file hosts, a paste site, websites and a .onion forum behind a SOCKS5 proxy),
their trust-and-safety intake (JSON API and SMTP), synthetic content
(posters, short videos, neutral texts, invented handles), the adversary that
re-creates removed accounts and channels, the scenario clock, the control
API with the ground truth, and the agencies' report files. See
docs/testbed.md; tests use ``takedown.sim.harness.running_sim``.
"""
