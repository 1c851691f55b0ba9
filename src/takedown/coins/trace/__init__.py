"""Tracing: what a chain API says about an address, and who paid or was paid by it.

``base`` holds the interface every chain API implements, ``esplora`` the built-in
Esplora-compatible client, ``registry`` the named implementations, and ``tracer``
the walk over counterparties up to N hops.
"""
