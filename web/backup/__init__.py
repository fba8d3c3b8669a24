"""Backup and restore: the `locker backup` and `locker restore` commands (no pages, no API:
an operator's act, on the host, with the service's settings)."""
