"""Sharing between national contact points: what leaves the instance and what comes in.

Owns the STIX 2.1 mapping (``stixmap``), TLP 2.0 enforcement on every exit (``tlp``),
the TAXII 2.1 server under ``/taxii2/`` and its collections, the TAXII client that pulls
from partners, MISP events and feeds, and deconfliction between instances by Private
Set Intersection, which tells the asker only which of its items a partner holds and the
partner only how many were asked. docs/sharing.md describes it.
"""
