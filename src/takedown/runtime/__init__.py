"""The distributed runtime's ledger: what makes many worker processes safe together.

It owns the transactional outbox (a job is recorded in the same transaction as the
rows that make it due and relayed to the broker after the commit), the effect keys
that make a replayed message change nothing twice, the dead-letter queue with capped
attempts, leases for singleton work, the per-host politeness budget shared by every
process, worker heartbeats and ``takedown doctor``. Embedded mode uses the same
ledger with the in-process dispatcher; nothing here needs a broker to be correct.
"""
