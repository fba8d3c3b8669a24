"""What the organisation routes read and answer."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, Field, RootModel

from sharing.staff import ROLES
from web.openapi import Shape, Timestamp

# "helper": a professional of an organisation that does digital inclusion (only there).
Role = Literal["professional", "helper", "auditor", "org_admin"]
assert set(get_args(Role)) == set(ROLES), "the schema names every role"


class NewProfessional(BaseModel):
    """Who to invite: they choose their own password with the link answered."""

    email: str = Field(json_schema_extra={"maxLength": 320})
    name: str = Field(json_schema_extra={"maxLength": 200})
    role: Role = "professional"


class RoleChange(BaseModel):
    role: Role


class Professional(Shape):
    """One professional of the organisation, as its admin sees them."""

    id: str
    email: str
    display_name: str
    role: Role
    status: Literal["active", "invited", "deactivated"]
    created_at: Timestamp
    disabled_at: Timestamp | None


class Professionals(RootModel[list[Professional]]):
    pass


class Invited(Professional):
    """The professional invited, and their single-use link (7 days): hand it to them; the
    service sends no e-mail."""

    invitation_url: str
    invitation_expires_at: Timestamp


class Deactivation(BaseModel):
    """A colleague of the same organisation to propose to the persons (optional)."""

    successor_id: str | None = None


class Acceptance(BaseModel):
    """The secret of the invitation link, and the password the professional chooses."""

    token: str = Field(json_schema_extra={"maxLength": 128})
    password: str = Field(json_schema_extra={"minLength": 8, "maxLength": 1024})


class Accepted(BaseModel):
    """The account that can now sign in (with its e-mail and the chosen password)."""

    id: str
    email: str


class Departure(Shape):
    """A professional of the person's list left their organisation: the person decides."""

    id: str
    member_id: str
    display_name: str
    organization: str
    successor_id: str | None
    successor_name: str | None
    created_at: Timestamp


class Departures(RootModel[list[Departure]]):
    pass


class HandedOver(BaseModel):
    """The colleague's entry on the person's list, which now holds the grants."""

    member_id: str
