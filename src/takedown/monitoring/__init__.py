"""Monitoring: watched sources and their crawls.

It owns the sources an agency watches (Telegram public channels, Rocket.Chat
rooms, account pages on microblog and video platforms, websites and forums,
``.onion`` sites through Tor), the Rocket.Chat server credentials (sealed at
rest), the crawl schedule (due work read from the database), each crawl's
record, what each crawl saw (the feed) and the review queue of sources that
crawls propose. What it sees becomes items and sightings of ``takedown.items``
with monitoring as their source; resurgence (successor detection) reads them.
"""
