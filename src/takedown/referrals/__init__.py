"""referrals: from assessed items to referral batches and TCO removal orders.

Owns batches per platform (ToS referrals and Annex I removal orders with
four-eyes approval, the 1-hour deadline and the 12-hour first-order notice),
their rendering (JSON, HTML, PDF), delivery channels (platform API, e-mail,
portal, export) as retried, idempotent jobs, and the platform portal where
liaisons answer with Annex II (removed) or Annex III (cannot comply).
"""
