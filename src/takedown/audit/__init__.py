"""Audit: the append-only, hash-chained log of every state change and evidence access.

Each event stores the previous event's hash, so editing or deleting any row
breaks the chain at that point; ``takedown audit verify`` finds the first break.
"""
