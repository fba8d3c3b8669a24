"""A witness for audit checkpoints in an S3 bucket with Object Lock in compliance mode.

A folder witness protects against someone who can rewrite the database but not that
folder. A bucket with Object Lock in compliance mode goes further: once a checkpoint is
written, nobody (the bucket's owner and the storage provider's administrators included)
can delete or overwrite that version before its retention date. An overwrite only adds a
version, and `notes` reads every version, so a second, different checkpoint of one size
shows as the forked history it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from locker.actors import Clock
from locker.errors import ConfigurationError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


@dataclass(eq=False)
class S3Witness:
    """Checkpoints as locked objects `<prefix>checkpoint-<size>.txt` in one bucket."""

    client: S3Client
    bucket: str
    prefix: str
    retain_days: int
    clock: Clock

    def key(self, tree_size: int) -> str:
        return f"{self.prefix}checkpoint-{tree_size:012d}.txt"

    def publish(self, tree_size: int, note: str) -> None:
        """Write the checkpoint, locked in compliance mode; a copy already there is kept."""
        if any(existing == note for _, existing in self._read(self.key(tree_size))):
            return
        self.client.put_object(
            Bucket=self.bucket,
            Key=self.key(tree_size),
            Body=note.encode("utf-8"),
            ContentType="text/plain; charset=utf-8",
            ObjectLockMode="COMPLIANCE",
            ObjectLockRetainUntilDate=self.clock() + timedelta(days=self.retain_days),
        )

    def notes(self) -> list[tuple[str, str]]:
        """Every version of every checkpoint in the bucket, as (name, note)."""
        return self._read(f"{self.prefix}checkpoint-")

    def _read(self, prefix: str) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        paginator = self.client.get_paginator("list_object_versions")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for version in page.get("Versions", []):
                body = self.client.get_object(
                    Bucket=self.bucket, Key=version["Key"], VersionId=version["VersionId"]
                )["Body"].read()
                name = f"s3://{self.bucket}/{version['Key']}?versionId={version['VersionId']}"
                found.append((name, body.decode("utf-8", "replace")))
        return found


def parse_witness_url(url: str) -> tuple[str, str]:
    """(bucket, prefix) of s3://bucket[/prefix]; ConfigurationError naming the variable."""
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc or parts.query or parts.fragment:
        raise ConfigurationError("LOCKER_AUDIT_WITNESS_URL must look like s3://bucket[/prefix]")
    prefix = parts.path.strip("/")
    return parts.netloc, f"{prefix}/" if prefix else ""
