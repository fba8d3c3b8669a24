"""Who is acting: the subject the access policy and the audit log speak about."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current time, timezone-aware UTC (the only clock production uses)."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Actor:
    """An authenticated (or anonymous) actor; ids only, never names."""

    kind: str  # "person", "professional", "anonymous" or "system"
    id: str | None
    organization_id: str | None = None
    role: str | None = None  # professionals: "professional" or "org_admin"
    on_behalf_of: str | None = None  # a person id when acting under a mandate

    @classmethod
    def anonymous(cls) -> Actor:
        return cls(kind="anonymous", id=None)

    @classmethod
    def system(cls) -> Actor:
        """The operator's command line: never a path to content."""
        return cls(kind="system", id=None)
