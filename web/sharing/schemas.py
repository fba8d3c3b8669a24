"""What the sharing routes read and answer."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import AwareDatetime, BaseModel, RootModel

from sharing.mandates import DURATIONS
from sharing.rights import SCOPES
from web.documents.schemas import Category, Document
from web.openapi import Shape, Timestamp

# "recovery": the helper may issue a one-time recovery code for the person.
Scope = Literal[SCOPES]  # type: ignore[valid-type]
Duration = Literal["1d", "1m", "6m", "1y"]
assert set(get_args(Duration)) == set(DURATIONS), "the schema names every mandate duration"


class Member(Shape):
    """An entry of a person's accompaniment list."""

    id: str
    professional_id: str
    display_name: str
    organization: str
    mission: str
    status: Literal["requested", "active"]
    referent: bool


class Members(RootModel[list[Member]]):
    pass


class Grant(Shape):
    """A member may see one document, or every document of one category."""

    id: str
    member_id: str
    document_id: str | None
    category: str | None
    origin: Literal["person", "mandate", "deposit"]
    created_at: Timestamp
    expires_at: Timestamp | None
    live: bool


class Grants(RootModel[list[Grant]]):
    pass


class Mandate(Shape):
    """What a helper may do for the person, until when."""

    id: str
    member_id: str
    scopes: list[Scope]
    created_at: Timestamp
    expires_at: Timestamp
    live: bool


class Mandates(RootModel[list[Mandate]]):
    pass


class MyPerson(Shape):
    person_id: str
    display_name: str
    member_id: str
    mission: str
    status: str
    referent: bool
    documents: list[Document]


class MyPersons(RootModel[list[MyPerson]]):
    pass


class ResetNotice(Shape):
    id: str
    at: Timestamp
    # Until when the notice stays listed (a reset by someone else's code: 7 days).
    locked_until: Timestamp | None
    disputed: bool
    by: str | None
    organization: str | None
    kind: str


class DepositNotice(Shape):
    member_id: str
    document_id: str | None


class Notices(Shape):
    password_resets: list[ResetNotice]
    deposits: list[DepositNotice]


class NewMember(BaseModel):
    professional_code: str
    mission: str = ""


class Referent(BaseModel):
    """An active member's id, or null for none."""

    member_id: str | None


class JoinRequest(BaseModel):
    username: str
    mission: str = ""


class NewGrant(BaseModel):
    member_id: str
    expires_at: AwareDatetime | None = None


class NewCategoryGrant(NewGrant):
    category: Category


class Deposit(BaseModel):
    file: bytes
    title: str = ""
    category: str = "other"


class NewMandate(BaseModel):
    """Confirmed with the person's own password."""

    member_id: str
    scopes: list[Scope]
    duration: Duration
    password: str


class DeskMandate(BaseModel):
    """The person, beside the helper, types their own username and password."""

    scopes: list[Scope]
    duration: Duration
    username: str
    password: str


class Sent(BaseModel):
    status: Literal["sent"]


class RecoveryCode(BaseModel):
    code: str
    expires_at: Timestamp


class RecoveryCard(BaseModel):
    codes: list[str]


class Redeem(BaseModel):
    username: str
    code: str
    new_password: str
