"""Accounts: signing in and out, tokens, passwords, new persons, the professional's desk.

Its pages, API routes, forms, words and `locker` commands; `web.domains` registers it.
"""
