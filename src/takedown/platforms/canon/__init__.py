"""URL canonicalisation, split by platform family.

The public surface is :mod:`takedown.platforms.identity`; the modules here are
its parts: ``parse`` normalises any URL-ish text into components, each family
module (``social``, ``video``, ``messaging``, ``files``, ``text``, ``web``)
turns components into an :class:`ItemIdentity`, and ``dispatch`` picks the
family by host.
"""
