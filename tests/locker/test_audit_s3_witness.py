"""Checkpoints witnessed in an S3 bucket with Object Lock (compliance mode), on Ceph RGW.

Issue 11, point 5: the operator of the database (and of the service's folders) deletes
records after the last checkpoint, the database's checkpoints and the witness folder;
the locked bucket still holds what the service signed, and `locker audit verify` reads
every version of it.
"""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Iterator
from dataclasses import replace

import pytest
from botocore.exceptions import ClientError
from click.testing import CliRunner
from flask import Flask

from locker.checkpoints import CHECKPOINT_EVERY_RECORDS
from locker.settings import Settings
from tests.locker.test_audit_verify import cli_env, fill, rebuild_tree, row, tamper
from tests.s3_server import S3Server
from web.app import create_app
from web.cli import main


@pytest.fixture
def locked_app(
    settings: Settings, s3_server: S3Server, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Flask, str]]:
    bucket = f"locker-witness-{secrets.token_hex(6)}"
    s3_server.client().create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_server.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_server.secret_key)
    witnessed = replace(
        settings,
        audit_witness_url=f"s3://{bucket}/audit",
        audit_witness_retain_days=1,
        s3_endpoint_url=s3_server.endpoint_url,
        s3_region=s3_server.region,
    )
    app = create_app(witnessed, config={"TESTING": True})
    app.extensions["locker"].store.ensure_ready()
    cli_env(app, monkeypatch)
    monkeypatch.setenv("LOCKER_AUDIT_WITNESS_URL", witnessed.audit_witness_url or "")
    monkeypatch.setenv("LOCKER_S3_ENDPOINT_URL", s3_server.endpoint_url)
    monkeypatch.setenv("LOCKER_S3_REGION", s3_server.region)
    if witnessed.storage_url.startswith("s3://"):
        monkeypatch.setenv("LOCKER_STORAGE_URL", witnessed.storage_url)
    yield app, bucket
    app.extensions["locker"].engine.dispose()


def test_a_locked_witness_outlives_the_database_and_its_folders(
    locked_app: tuple[Flask, str], s3_server: S3Server
) -> None:
    app, bucket = locked_app
    fill(app, CHECKPOINT_EVERY_RECORDS + 20)
    assert app.test_client().get("/api/v1/audit/public-key").status_code == 200  # signs
    witness = app.extensions["locker"].s3_witness
    notes = witness.notes()
    assert [note.split("\n")[1] for _, note in notes] == [str(CHECKPOINT_EVERY_RECORDS + 20)]
    client = s3_server.client()
    listed = client.list_object_versions(Bucket=bucket, Prefix="audit/")["Versions"]
    locked = client.head_object(Bucket=bucket, Key=listed[0]["Key"])
    assert locked["ObjectLockMode"] == "COMPLIANCE"
    # Not even the bucket's owner can take the checkpoint away.
    with pytest.raises(ClientError):
        client.delete_object(Bucket=bucket, Key=listed[0]["Key"], VersionId=listed[0]["VersionId"])
    runner = CliRunner()
    assert runner.invoke(main, ["audit", "verify"]).exit_code == 0
    # The attack: truncate, drop the database's checkpoints, rebuild the tree, wipe the
    # witness folder. Only the locked bucket remembers.
    keep = 60
    rows = [row(app, s) for s in range(keep)]
    tamper(
        app,
        (f"DELETE FROM audit_records WHERE seq >= {keep}", {}),
        ("DELETE FROM audit_checkpoints", {}),
        *rebuild_tree(rows),
    )
    shutil.rmtree(app.extensions["locker"].settings.audit_witness_dir)
    caught = runner.invoke(main, ["audit", "verify"])
    assert caught.exit_code == 1, caught.output
    assert f"first bad record: {keep}" in caught.output
    assert "s3://" in caught.output and "removed" in caught.output


def test_a_second_checkpoint_of_one_size_in_the_bucket_is_a_fork(
    locked_app: tuple[Flask, str], s3_server: S3Server
) -> None:
    app, bucket = locked_app
    fill(app, CHECKPOINT_EVERY_RECORDS)
    assert app.test_client().get("/api/v1/audit/public-key").status_code == 200
    witness = app.extensions["locker"].s3_witness
    [(_, note)] = witness.notes()
    # Someone with the bucket's keys writes another note under the same name: a new
    # version, next to the locked one, never in its place.
    forged = note.replace(note.split("\n")[2], "A" * 43 + "=")
    s3_server.client().put_object(
        Bucket=bucket, Key=witness.key(CHECKPOINT_EVERY_RECORDS), Body=forged.encode()
    )
    assert len(witness.notes()) == 2
    result = CliRunner().invoke(main, ["audit", "verify"])
    assert result.exit_code == 1
    assert "forked history" in result.output or "signature" in result.output
