"""Master-key rotation and key-provider migration: every key the keyring wraps is rewrapped
under the current master key of the target keyring; no object and no data key is touched.

Person keys are here (and sealed under an erasure key if they were stored before erasure
keys); sharing/rekey.py adds the keys the sharing layer wraps.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto.errors import KeyNotFound
from crypto.keyring import Keyring
from locker.accounts import ERASABLE, master_wrapped, person_key_aad, seal_person_key
from locker.models import Person


def rewrapped(wrapped: bytes, aad: bytes, target: Keyring, source: Keyring) -> bytes | None:
    """`wrapped` unwrapped by `source` and wrapped again by `target`, or None if it already
    is under the target's current version (so a rerun skips it)."""
    if target.wrapped_version(wrapped) == target.current_version():
        return None
    return target.wrap(source.unwrap(wrapped, aad), aad)


def rewrap_person_keys(session: Session, keyring: Keyring, source: Keyring | None = None) -> int:
    """Rewrap every person key not yet under the keyring's current version, or not yet
    sealed under an erasure key; return how many. `source` unwraps (default: `keyring`
    itself; the key file when moving to a token, whose erasure keys were copied).

    Idempotent and resumable: a person already on the current version and sealed is
    skipped; a closed account (no key left, or no erasure key left) too. The caller commits.
    """
    count = 0
    for person in session.scalars(select(Person).order_by(Person.id)):
        if not person.wrapped_person_key:
            continue
        try:
            wrapped = master_wrapped(keyring, person)
        except KeyNotFound:
            continue  # its erasure key is destroyed: a closed account, nothing to rewrap
        aad = person_key_aad(person.id)
        fresh = rewrapped(wrapped, aad, keyring, source or keyring)
        if fresh is None:
            if person.wrapped_person_key.startswith(ERASABLE):
                continue
            fresh = wrapped
        person.wrapped_person_key = seal_person_key(keyring, person.id, fresh)
        count += 1
    session.flush()
    return count
