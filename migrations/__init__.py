"""Alembic revisions of the locker schema."""
