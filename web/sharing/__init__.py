"""Sharing: the accompaniment list, grants, mandates, recovery, notices and deposits.

Its pages, API routes, forms, words and `locker` commands;
`web.domains` registers its pages and routes, `web.cli` its commands.
"""
