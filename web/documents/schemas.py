"""What the documents routes read and answer."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, RootModel, WithJsonSchema

from locker.documents import CATEGORIES
from web.openapi import Day, Shape, Timestamp

Category = Literal[CATEGORIES]  # type: ignore[valid-type]
BINARY = {"type": "string", "format": "binary"}


class Document(Shape):
    """A document's description (never its bytes)."""

    id: str
    person_id: str
    title: str
    filename: str
    category: Category
    content_type: str
    size: int
    created_at: Timestamp
    page_count: int
    valid_until: Day | None
    has_thumbnail: bool
    deleted_at: Timestamp | None


class Documents(RootModel[list[Document]]):
    pass


class DocumentsQuery(BaseModel):
    """A page of the list: `limit` papers (50 by default, 200 at most), newest first,
    after the paper `after` (the last id of the previous page). The answer's `Link`
    header names the next page (`rel="next"`) while there is one."""

    after: Annotated[str, Field(min_length=36, max_length=36)] | None = None
    limit: Annotated[int, Field(ge=1, le=200)] = 50


class Upload(BaseModel):
    """One file, or several photos (repeat the part) that become one PDF; the type is
    decided from the bytes, never from the name or the declared type."""

    file: Annotated[Any, WithJsonSchema({"oneOf": [BINARY, {"type": "array", "items": BINARY}]})]
    title: str = ""
    category: str = "other"
    valid_until: Day | None = None
    # The client's own random name for this upload (or the `Idempotency-Key` header): the
    # same upload sent again, after an answer lost on the way, answers the paper stored.
    upload_key: str | None = Field(None, json_schema_extra={"pattern": "^[A-Za-z0-9_-]{16,64}$"})


class Edit(BaseModel):
    """Only these fields are read: `owner`, `person_id`... in a body are ignored."""

    # The service refuses an empty or longer title, or an unknown category, with 422.
    title: str | None = Field(None, json_schema_extra={"maxLength": 200})
    category: str | None = None
    # An ISO date, or null to clear it; left out, the date stays as it is.
    valid_until: Day | None = None
