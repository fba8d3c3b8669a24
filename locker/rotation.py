"""Master-key rotation: person keys are rewrapped; no object and no data key is touched."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto.keyring import Keyring
from locker.accounts import person_key_aad
from locker.models import Person


def rewrap_person_keys(session: Session, keyring: Keyring) -> int:
    """Rewrap every person key not yet under the keyring's current version; return how many.

    Idempotent and resumable: a person already on the current version is skipped. The
    caller commits.
    """
    current = keyring.current_version()
    count = 0
    for person in session.scalars(select(Person).order_by(Person.id)):
        if keyring.wrapped_version(person.wrapped_person_key) == current:
            continue
        aad = person_key_aad(person.id)
        person.wrapped_person_key = keyring.wrap(
            keyring.unwrap(person.wrapped_person_key, aad), aad
        )
        count += 1
    session.flush()
    return count
