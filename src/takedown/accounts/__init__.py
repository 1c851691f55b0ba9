"""Accounts: agencies, users and their roles, API tokens, browser sessions, login, TOTP.

Owns who someone is and which agency they act for. The ``Principal`` it hands to
every other capability is the only thing they need to enforce tenant isolation.
"""
