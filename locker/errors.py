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


class InvalidInput(LockerError):
    """A field a person or professional typed is not acceptable; `field` says which."""

    code = "invalid_input"


class AlreadyExists(LockerError):
    """The username or e-mail is taken."""

    code = "already_exists"


class WrongCurrentPassword(LockerError):
    """The current password, typed to change it, is not the right one."""

    code = "wrong_current_password"


class TooLarge(LockerError):
    """The file is over the size limit."""

    code = "too_large"


class EmptyFile(LockerError):
    """The file has no bytes."""

    code = "empty_file"


class QuotaExceeded(LockerError):
    """The person's locker would hold more than their quota."""

    code = "quota_exceeded"


class DocumentDamaged(LockerError):
    """The stored object failed authentication: nothing of it is served."""

    code = "document_damaged"


class ProofUnavailable(LockerError):
    """The proof asked for does not exist (an index or size outside the tree)."""

    code = "proof_unavailable"


class InvalidObjectKey(StorageError, ValueError):
    """A key that `new_key` could not have produced; a programming error, never retried."""

    code = "invalid_object_key"


class AuditUnavailable(LockerError):
    """The audit record could not be written: nothing it would have covered may happen."""

    code = "audit_unavailable"


class CheckpointInvalid(LockerError):
    """A checkpoint's text or signature does not check out."""

    code = "checkpoint_invalid"


class ForkDetected(LockerError):
    """Two different signed checkpoints claim the same tree size: a forked history."""

    code = "audit_fork"


class ServiceEnded(LockerError):
    """The service closed more than 12 months ago: nobody signs in any more."""

    code = "service_ended"


class BackupInvalid(LockerError):
    """A backup is incomplete, altered or of a format this version cannot read; nothing
    of the restore target was touched."""

    code = "backup_invalid"


class TargetRefused(LockerError):
    """Where a backup or a restore would write already holds data (for a restore: data
    that is not this backup's), or cannot take it; nothing was written."""

    code = "target_refused"


class BackupToolFailed(LockerError):
    """pg_dump or pg_restore failed or is missing; the message carries its last line."""

    code = "backup_tool_failed"
