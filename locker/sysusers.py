"""The system's users, as the settings and the sanitiser child name them."""

from __future__ import annotations

import pwd


def user_ids(user: str) -> tuple[int, int]:
    """The uid and gid of a user name or number; KeyError if there is no such user name."""
    if user.isdigit():
        try:
            entry = pwd.getpwuid(int(user))
        except KeyError:
            return int(user), int(user)  # a number alone is enough for the kernel
        return entry.pw_uid, entry.pw_gid
    entry = pwd.getpwnam(user)
    return entry.pw_uid, entry.pw_gid
