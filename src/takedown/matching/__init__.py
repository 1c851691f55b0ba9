"""Matching: hashers, banks of known content, the in-memory index and match results.

Most propaganda found online is not new: it is the same poster or video
uploaded again, re-encoded, cropped, mirrored or stamped. This package turns
every file into signals (SHA-256, MD5, PDQ with its dihedral and trimmed
variants, frame-PDQ for video, SimHash for text), keeps banks of known
signals with labels and TLP, and looks new files up in an incremental faiss /
multi-index-hashing index that never needs a full rebuild.
"""
