"""Typed errors of the locker core; `web/` maps each to an HTTP status in one table."""

from __future__ import annotations


class LockerError(Exception):
    """Base of every error the core raises on purpose.

    `code` is a stable machine-readable name; the web layer turns it into a message in
    the person's language, so the core never writes user-facing prose.
    """

    code = "error"

    def __init__(self, detail: str = "", **params: object) -> None:
        super().__init__(detail or self.code)
        self.detail = detail
        self.params = params


class ConfigurationError(LockerError):
    """A `LOCKER_*` setting is missing or invalid; the message names the variable."""

    code = "configuration"


class Unreachable(LockerError):
    """A server the service needs (database, object store) does not answer; the message
    names the setting that points at it and the cause, in one line."""

    code = "unreachable"


class NotFound(LockerError):
    """The thing does not exist, or the actor may not know it exists (same answer)."""

    code = "not_found"


class StorageError(LockerError):
    """The object store failed."""

    code = "storage_error"


class ObjectNotFound(StorageError):
    """No object under that key."""

    code = "object_missing"


class StorageUnavailable(StorageError):
    """The object store cannot be reached now; the person should try again later."""

    code = "storage_unavailable"
