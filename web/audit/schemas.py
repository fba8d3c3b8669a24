"""What the audit-log routes read and answer (outside verifiers rely on these shapes)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, RootModel, WithJsonSchema

from web.openapi import Timestamp

Count = Annotated[int, Field(ge=0, lt=10**12)]
Base64 = Annotated[str, WithJsonSchema({"type": "string", "contentEncoding": "base64"})]


class Page(BaseModel):
    """Entries older than `before` (a sequence number), at most `limit` (100 by default)."""

    before: Count | None = None
    limit: Count | None = None


class AccessLogQuery(Page):
    document_id: str | None = None


class InclusionQuery(BaseModel):
    index: Count
    tree_size: Count


class ConsistencyQuery(BaseModel):
    first: Count
    second: Count


class ExportQuery(BaseModel):
    format: Literal["json", "csv"] = "json"
    start: Count = 0
    end: Count | None = None


class Actor(BaseModel):
    """Who acted: names on the person's own log, an id everywhere else."""

    kind: str
    name: str | None = None
    organization: str | None = None
    id: str | None = None


class Entry(BaseModel):
    seq: int
    at: Timestamp
    action: str
    actor: Actor
    on_behalf_of: str | None
    document_id: str | None
    person_id: str | None = None
    outcome: Literal["allowed", "denied"]


class Entries(RootModel[list[Entry]]):
    pass


class Inclusion(BaseModel):
    """The record's canonical bytes, its leaf hash and its inclusion path."""

    leaf: Base64
    leaf_hash: Base64
    hashes: list[Base64]


class Consistency(BaseModel):
    hashes: list[Base64]
