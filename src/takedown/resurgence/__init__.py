"""Resurgence: a removed account or channel comes back, and we find its successor.

Owns the successor candidates (a removed item, a newly seen item, a score with
its reasons, the analyst's decision), the predicted successor handles and their
low-rate probes, and the figures (time to return, time to detect, successor
lifetime, generations). Signals live in ``signals/`` as pure functions, so the
service, ``takedown resurgence link-handles`` and ``bench/resurgence.py`` score
pairs with the same code. Crawling watched sources is monitoring's job: this
package works from items (intake today, monitoring later) and their checks.
"""
