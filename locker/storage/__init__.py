"""Object storage: where encrypted document bytes live, under random opaque keys.

Two backends honour one `ObjectStore` interface: a local folder for the embedded default
and S3 (any S3-compatible endpoint) for production. `open_store` picks one from the
`LOCKER_STORAGE_URL` setting.
"""

from locker.errors import InvalidObjectKey
from locker.storage.base import (
    READ_CHUNK_BYTES,
    ObjectStore,
    Replayable,
    is_object_key,
    new_object_key,
)
from locker.storage.local import LocalFolderStore
from locker.storage.s3 import S3Store, make_s3_client, s3_client_config
from locker.storage.url import open_store

__all__ = [
    "READ_CHUNK_BYTES",
    "InvalidObjectKey",
    "LocalFolderStore",
    "ObjectStore",
    "Replayable",
    "S3Store",
    "is_object_key",
    "make_s3_client",
    "new_object_key",
    "open_store",
    "s3_client_config",
]
