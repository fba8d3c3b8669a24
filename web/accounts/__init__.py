"""Accounts: signing in and out, tokens, passwords, new persons, the professional's desk.

Its pages, API routes, forms, words and `locker` commands;
`web.domains` registers its pages and routes, `web.cli` its commands.
"""

# The information page's version: a person accepts it before first use (R.55-1 CPCE), and
# again whenever what it says changes (then change this).
INFORMATION_VERSION = "2026-12-05.2"
