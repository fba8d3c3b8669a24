"""Backup and restore: the database dump and the store's ciphertext, with a manifest of
checksums that a restore verifies whole before it writes anything (docs/operations.md)."""

from locker.backup.create import BackupReport, create_backup
from locker.backup.manifest import Manifest
from locker.backup.restore import (
    RestoreOptions,
    RestoreReport,
    RestoreTarget,
    check_backup,
    restore_backup,
)

__all__ = [
    "BackupReport",
    "Manifest",
    "RestoreOptions",
    "RestoreReport",
    "RestoreTarget",
    "check_backup",
    "create_backup",
    "restore_backup",
]
