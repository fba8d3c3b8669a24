"""After a restore: do the keys put back open the restored persons' keys?

A key backup of the wrong date is the likeliest way a restore "succeeds" and opens
nothing: the database names master-key versions and erasure keys the key file must hold.
Only person keys are unwrapped here and at once dropped: no data key, no object.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto.errors import CryptoError
from crypto.keyring import Keyring
from locker.accounts import person_key
from locker.models import Person


@dataclass(frozen=True)
class KeyCheck:
    """How many person keys were tried, and the persons whose key did not open."""

    checked: int
    unreadable: tuple[str, ...]


def check_person_keys(session: Session, keyring: Keyring) -> KeyCheck:
    """Unwrap every open account's person key (closed accounts keep none) and report the
    ones that fail: a key file or erasure keys older than the database, or an account
    closed after the backup (its erasure key destroyed on purpose)."""
    checked = 0
    unreadable: list[str] = []
    for person in session.scalars(select(Person).order_by(Person.id)):
        if not person.wrapped_person_key:
            continue
        checked += 1
        try:
            person_key(keyring, person)
        except CryptoError:
            unreadable.append(person.id)
    return KeyCheck(checked, tuple(unreadable))
