"""Audit: the person's access log, a professional's own actions, exports and proofs.

Its pages, API routes, forms, words and `locker` commands;
`web.domains` registers its pages and routes, `web.cli` its commands.
"""
