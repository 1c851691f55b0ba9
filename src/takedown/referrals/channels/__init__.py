"""Delivery channels: platform API, e-mail, portal, export (interface + registry)."""
