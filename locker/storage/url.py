"""Choosing and configuring a backend from the `LOCKER_STORAGE_URL` setting."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from locker.errors import ConfigurationError
from locker.storage.base import ObjectStore
from locker.storage.local import LocalFolderStore
from locker.storage.s3 import S3Store, make_s3_client

SETTING = "LOCKER_STORAGE_URL"
# S3's own rule (3-63 characters, lowercase letters, digits, dots, hyphens); underscores
# are let through because Ceph RGW and older providers accept them.
_BUCKET_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]")


def open_store(
    storage_url: str,
    *,
    s3_endpoint_url: str | None = None,
    s3_region: str | None = None,
    s3_path_style: bool = True,
) -> ObjectStore:
    """Return the store `storage_url` names (file:///abs/path or s3://bucket[/prefix]),
    or raise ConfigurationError naming LOCKER_STORAGE_URL; nothing is contacted yet."""
    try:
        parts = urlsplit(storage_url)
    except ValueError:  # e.g. an unbalanced "[" in the host
        raise _bad("is not a valid URL") from None
    if parts.query or parts.fragment:
        raise _bad("must not have a query or fragment")
    if parts.scheme == "file":
        return LocalFolderStore(_local_root(parts.netloc, parts.path))
    if parts.scheme == "s3":
        bucket, prefix = _bucket_and_prefix(parts.netloc, parts.path)
        client = make_s3_client(
            endpoint_url=s3_endpoint_url, region=s3_region, path_style=s3_path_style
        )
        return S3Store(client, bucket, prefix)
    # The value itself is not echoed: a mistyped URL may well contain a secret.
    raise _bad("must start with file:/// (a local folder) or s3:// (a bucket)")


def _local_root(host: str, path: str) -> Path:
    root = Path(unquote(path))
    if host not in ("", "localhost") or not root.is_absolute() or not path:
        raise _bad("file URLs take an absolute path: file:///var/lib/locker/objects")
    if ".." in root.parts:
        raise _bad("the folder path must not contain '..'")
    return root


def _bucket_and_prefix(netloc: str, path: str) -> tuple[str, str]:
    if "@" in netloc:
        raise _bad("credentials do not belong in the URL; use the AWS_* variables")
    if not netloc:
        raise _bad("s3 URLs name a bucket: s3://bucket or s3://bucket/prefix")
    if not _BUCKET_PATTERN.fullmatch(netloc):
        raise _bad("the bucket name is not a valid S3 bucket name")
    segments = [unquote(segment) for segment in path.split("/") if segment]
    if any(segment in (".", "..") for segment in segments):
        raise _bad("the prefix must not contain '.' or '..' segments")
    return netloc, "/".join(segments)


def _bad(reason: str) -> ConfigurationError:
    return ConfigurationError(f"{SETTING} {reason}", variable=SETTING)
