"""Account actions that need the policy: a professional opening a person's locker."""

from __future__ import annotations

from sqlalchemy.orm import Session

from crypto.keyring import Keyring
from locker import accounts
from locker.actors import Actor, Clock
from locker.audit import append_allowed
from locker.errors import InvalidInput
from locker.models import Person
from sharing.decisions import Action
from sharing.errors import refusal
from sharing.policy import decide
from sharing.recovery import after_own_password, new_card


def may_create_persons(session: Session, clock: Clock, actor: Actor) -> bool:
    """Whether the actor may open persons' accounts (a professional who accompanies them;
    never an organisation admin or an auditor): pages offer the form only then."""
    return decide(session, actor, Action.PERSON_CREATE, now=clock()).allowed


def create_person_with_card(
    session: Session,
    keyring: Keyring,
    clock: Clock,
    *,
    actor: Actor,
    username: str,
    display_name: str,
    password: str,
    card: bool = True,
) -> tuple[Person, list[str]]:
    """A professional creates a person's account and, in the same transaction and unless
    declined, their recovery card: single-use codes, shown once, stored hashed; recorded;
    the caller commits."""
    decision = decide(session, actor, Action.PERSON_CREATE, now=clock())
    if not decision.allowed:
        raise refusal(decision.reason)
    person = accounts.create_person(
        session,
        keyring,
        clock,
        username=username,
        display_name=display_name,
        password=password,
        created_by=actor.id,
        # The professional chose it: it opens only the change to the person's own.
        must_change_password=True,
    )
    append_allowed(
        session, clock, Action.PERSON_CREATE, decision.reason, actor, person_id=person.id
    )
    if not card:
        return person, []
    # Kind "initial": the professional saw these codes, so they stop working once the
    # person has set their own password (and count as issued by them until then).
    codes = new_card(session, clock, person, shown_to=actor)
    append_allowed(
        session, clock, Action.RECOVERY_CARD, "account_creation", actor, person_id=person.id
    )
    return person, codes


def change_own_password(
    session: Session,
    clock: Clock,
    signed_in: accounts.SignedIn,
    *,
    current_password: str,
    new_password: str,
    fresh_card: bool,
) -> list[str]:
    """The user sets their own password (the current one typed); every other sign-in ends.

    For a person, the card shown at account creation stops working; with `fresh_card`
    they get a new one at once, whose codes are returned to be shown this once.
    """
    accounts.change_own_password(
        session,
        clock,
        signed_in,
        current_password=current_password,
        new_password=new_password,
    )
    user = signed_in.user
    if not isinstance(user, Person):
        return []
    codes = after_own_password(session, clock, user, fresh=fresh_card)
    if codes:
        actor = accounts.actor_for(user)
        append_allowed(
            session, clock, Action.RECOVERY_CARD, "own_password", actor, person_id=user.id
        )
    return codes


def correct_own_account(
    session: Session,
    clock: Clock,
    signed_in: accounts.SignedIn,
    *,
    display_name: str | None = None,
    username: str | None = None,
    expiry_reminders: bool | None = None,
) -> None:
    """The signed-in user corrects their own name, or a person their username (RGPD art.
    16); recorded when something changed; the caller commits. Nobody else can. A person
    also says here whether they want expiry reminders (a preference: not recorded)."""
    user = signed_in.user
    if expiry_reminders is not None:
        if not isinstance(user, Person):
            raise InvalidInput("reminders are a person's", field="expiry_reminders")
        user.expiry_reminders = expiry_reminders
    if accounts.correct_account(session, user, display_name=display_name, username=username):
        person_id = user.id if isinstance(user, Person) else None
        actor = accounts.actor_for(user)
        append_allowed(session, clock, Action.ACCOUNT_CORRECT, "self", actor, person_id=person_id)
