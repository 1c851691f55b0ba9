"""Evidence: the vault that preserves what an agency refers before it disappears.

It owns capture (the HTTP exchange as WARC, the page's media, extracted text,
an optional screenshot), write-once content-addressed storage behind a
backend interface, SHA-256 manifests whose hashes enter the audit chain,
retention (6 months after confirmed removal, TCO Art. 6, longer under a
hold), court export bundles with an offline verifier, and safe viewing.
"""
