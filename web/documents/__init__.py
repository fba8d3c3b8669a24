"""Documents: a person's papers, their upload, content, thumbnail, trash and storage upkeep.

Its pages, API routes, forms, words and `locker` commands;
`web.domains` registers its pages and routes, `web.cli` its commands.
"""
