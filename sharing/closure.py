"""A person closes their account (RGPD art. 17): with their password, at once, for good.

Their lists, grants, mandates, recovery codes and notices go first (so no professional
keeps a way in, even for a moment), then the core removes their papers' rows, strips
their own row and destroys their key; the caller deletes the objects once it commits.
"""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.orm import Session

from locker import accounts
from locker.actors import Clock
from locker.closure import close_person
from locker.errors import InvalidInput
from locker.models import Person
from sharing.models import (
    AccompanimentMember,
    CounterLink,
    DeskVisit,
    Grant,
    Mandate,
    ProfessionalDeparture,
    RecoveryCode,
    SharingNotice,
)


def close_own_account(
    session: Session, clock: Clock, signed_in: accounts.SignedIn, *, password: str
) -> list[str]:
    """The signed-in person's account closed after their password is typed again
    (WrongCurrentPassword otherwise); returns the object keys to delete once the caller
    commits. Only a person can close an account, and only their own."""
    user = signed_in.user
    if not isinstance(user, Person):
        raise InvalidInput("only a person's own account can be closed", field="password")
    accounts.check_current_password(user, password)
    # Children before parents: notices and grants name list entries.
    # A counter link's papers go with it (the database cascades).
    models = (
        SharingNotice,
        ProfessionalDeparture,
        Grant,
        Mandate,
        RecoveryCode,
        CounterLink,
        DeskVisit,
        AccompanimentMember,
    )
    for model in models:
        session.execute(delete(model).where(model.person_id == user.id))
    return close_person(session, clock, person=user, actor=accounts.actor_for(user))
