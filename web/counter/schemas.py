"""What the counter-link routes read and answer."""

from __future__ import annotations

from pydantic import BaseModel, RootModel

from sharing.counter import DEFAULT_MINUTES
from web.openapi import Shape, Timestamp


class NewCounterLink(BaseModel):
    """The papers to show, for whom, for how long (minutes, at most 1440), and whether
    the agent may download the original files (not by default)."""

    document_ids: list[str]
    recipient: str
    minutes: int = DEFAULT_MINUTES
    allow_download: bool = False


class CounterLinkMade(Shape):
    """A new link: its URL (opens without any account) and its short code, given once."""

    id: str
    url: str
    code: str
    expires_at: Timestamp


class CounterLink(Shape):
    id: str
    recipient: str
    document_ids: list[str]
    allow_download: bool
    created_at: Timestamp
    expires_at: Timestamp
    opened_at: Timestamp | None
    revoked_at: Timestamp | None
    live: bool


class CounterLinks(RootModel[list[CounterLink]]):
    pass
