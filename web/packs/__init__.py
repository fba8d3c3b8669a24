"""Packs: the papers a French procedure asks for, which the person has, which are missing,
and the pack shared with their referent or shown at a counter.

Its pages, API routes and words; `web.domains` registers it.
"""
