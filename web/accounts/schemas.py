"""What the accounts routes read and answer."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, RootModel, model_validator

from web.openapi import Shape, Timestamp


class SignIn(BaseModel):
    """A username (a person) or an e-mail address (a professional), and the password; a
    professional with a second factor adds `totp`, the 6-digit code of their app (or one
    of their backup codes, in `totp` or in `backup_code`)."""

    username: str | None = None
    email: str | None = None
    password: str
    totp: str | None = Field(None, json_schema_extra={"maxLength": 64})
    backup_code: str | None = Field(None, json_schema_extra={"maxLength": 64})

    @model_validator(mode="after")
    def _named(self) -> SignIn:
        if self.username is None and self.email is None:
            raise ValueError("username or email")
        return self


class Token(BaseModel):
    token: str
    expires_at: Timestamp


class Information(BaseModel):
    """The version of the information page the person read (GET /api/v1/me says which one
    they accepted last; the current one is shown at GET /information)."""

    version: str = Field(json_schema_extra={"maxLength": 32})


class Closing(BaseModel):
    """The person's password, typed again: closing cannot be undone."""

    password: str = Field(json_schema_extra={"maxLength": 1024})


class MeCorrection(BaseModel):
    """What the signed-in user may correct of their own account; a field left out stays."""

    display_name: str | None = Field(None, json_schema_extra={"maxLength": 200})
    username: str | None = Field(None, json_schema_extra={"maxLength": 64})
    # A person: whether they want to be told when a paper is about to expire.
    expiry_reminders: bool | None = None


class Me(BaseModel):
    """The signed-in account (username for a person; e-mail, organisation and role for a
    professional)."""

    id: str
    kind: Literal["person", "professional"]
    display_name: str
    username: str | None = None
    email: str | None = None
    organization_id: str | None = None
    role: str | None = None
    share_code: str | None = None
    # A person: the version of the information page they accepted (None: not yet).
    information_accepted_version: str | None = None
    expiry_reminders: bool | None = None
    # Someone else chose the password: until the person changes it, every other route
    # answers 403 {"error": "password_change_required"}.
    must_change_password: bool


class NewPassword(BaseModel):
    current_password: str
    # The service refuses a shorter one with 422, in the person's language.
    new_password: str = Field(json_schema_extra={"minLength": 8})


class NewPerson(BaseModel):
    username: str
    display_name: str
    password: str = Field(json_schema_extra={"minLength": 8})


class PersonCreated(BaseModel):
    id: str
    username: str
    # The person's recovery card, shown this once (only the codes' hashes are kept).
    recovery_codes: list[str]


class TotpEnrolment(BaseModel):
    """A new TOTP secret to type (or scan, as the URI) into an authenticator app, and ten
    backup codes, shown this once, that work once the factor is confirmed."""

    secret: str
    otpauth_uri: str
    backup_codes: list[str]


class TotpCode(BaseModel):
    """A current 6-digit code of the authenticator app."""

    code: str = Field(json_schema_extra={"maxLength": 64})


class BackupCodes(BaseModel):
    """Ten new single-use backup codes, shown this once (the earlier ones stop working)."""

    backup_codes: list[str]


class NewPasskey(BaseModel):
    """The answer of `navigator.credentials.create()` to the registration options (as
    WebAuthn's `toJSON()` gives it: base64url fields), and a name to tell it apart."""

    credential: dict[str, Any]
    name: str = Field("", json_schema_extra={"maxLength": 100})


class Passkey(Shape):
    """One of my passkeys (its key and counter stay on the server)."""

    id: str
    name: str
    created_at: Timestamp
    last_used_at: Timestamp | None


class Passkeys(RootModel[list[Passkey]]):
    pass
