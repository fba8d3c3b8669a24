"""Master-key rotation: person keys are rewrapped (and sealed under an erasure key if they
were stored before erasure keys); no object and no data key is touched."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto.keyring import Keyring
from locker.accounts import ERASABLE, master_wrapped, person_key_aad, seal_person_key
from locker.models import Person


def rewrap_person_keys(session: Session, keyring: Keyring) -> int:
    """Rewrap every person key not yet under the keyring's current version, or not yet
    sealed under an erasure key; return how many.

    Idempotent and resumable: a person already on the current version and sealed is
    skipped; a closed account (no key left) too. The caller commits.
    """
    current = keyring.current_version()
    count = 0
    for person in session.scalars(select(Person).order_by(Person.id)):
        if not person.wrapped_person_key:
            continue
        wrapped = master_wrapped(keyring, person)
        sealed = person.wrapped_person_key.startswith(ERASABLE)
        if sealed and keyring.wrapped_version(wrapped) == current:
            continue
        aad = person_key_aad(person.id)
        rewrapped = keyring.wrap(keyring.unwrap(wrapped, aad), aad)
        person.wrapped_person_key = seal_person_key(keyring, person.id, rewrapped)
        count += 1
    session.flush()
    return count
