"""locker package."""
