"""The parts the settings name, opened: the object store and the audit witness bucket (the
key provider opens in `locker.key_provider`). Here rather than in the web app so that a
`locker` command reaches them without loading every page and route."""

from __future__ import annotations

from locker.actors import Clock
from locker.settings import Settings
from locker.storage import ObjectStore, open_store
from locker.storage.s3 import make_s3_client
from locker.witness import S3Witness, parse_witness_url


def open_object_store(settings: Settings) -> ObjectStore:
    """The object store named by LOCKER_STORAGE_URL (nothing is contacted yet)."""
    return open_store(
        settings.storage_url,
        s3_endpoint_url=settings.s3_endpoint_url,
        s3_region=settings.s3_region,
        s3_path_style=settings.s3_path_style,
    )


def open_s3_witness(settings: Settings, clock: Clock) -> S3Witness | None:
    """The Object Lock bucket named by LOCKER_AUDIT_WITNESS_URL, if any (same endpoint)."""
    if settings.audit_witness_url is None:
        return None
    bucket, prefix = parse_witness_url(settings.audit_witness_url)
    client = make_s3_client(
        endpoint_url=settings.s3_endpoint_url,
        region=settings.s3_region,
        path_style=settings.s3_path_style,
    )
    return S3Witness(client, bucket, prefix, settings.audit_witness_retain_days, clock)
