"""Upload pipeline benchmarks (ratios measured in one run; see bench/README.md "## uploads").

Photo path: the 12 MP phone photo sample through the whole pipeline (spool, sandboxed
sanitiser, thumbnail and preview, encryption, local store, SQLite row and audit record),
against bare Pillow open + exif_transpose + save JPEG q85 of the same file. Goal: ratio <= 1.0.

PDF path: a 20 MB PDF POSTed over real HTTP to the JSON API of a server whose store is S3,
against a raw boto3 put_object of the same bytes to the same endpoint. Goal: ratio <= 1.5.
The S3 endpoint is --endpoint (with AWS_* credentials), or a throwaway Ceph RGW.

    .venv/bin/python bench/uploads.py [--runs 9] [--endpoint http://127.0.0.1:7480]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import boto3.session
import pikepdf
from PIL import Image, ImageOps

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crypto.keyring import create_keyfile  # noqa: E402
from locker import accounts  # noqa: E402
from locker.actors import Actor, utc_now  # noqa: E402
from locker.db import make_engine  # noqa: E402
from locker.documents import DocumentView, UploadRequest, upload_document  # noqa: E402
from locker.schema import upgrade_schema  # noqa: E402
from locker.settings import load_settings  # noqa: E402
from tests.pdfs import add_noise_page  # noqa: E402
from web.app import create_app  # noqa: E402

PHOTO = ROOT / "tests" / "samples" / "id_photo_gps.jpg"
PASSWORD = "correct horse battery"
WARM_UP_ROUNDS = 3


def median_seconds(
    ours: Callable[[], object], baseline: Callable[[], object], runs: int
) -> tuple[float, float]:
    """Medians of both, run in turns: on a shared machine, load that comes and goes
    then weighs on both sides alike instead of on whichever ran during it."""
    # Warm-up: the fork server, caches, connections, and a new RGW's first writes (it
    # creates its data pools on demand).
    for _ in range(WARM_UP_ROUNDS):
        ours(), baseline()
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(runs):
        for action, spent in ((ours, times[0]), (baseline, times[1])):
            started = time.perf_counter()
            action()
            spent.append(time.perf_counter() - started)
    return statistics.median(times[0]), statistics.median(times[1])


def bare_pillow(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        upright = ImageOps.exif_transpose(image)
        out = io.BytesIO()
        upright.save(out, "JPEG", quality=85)
        return out.getvalue()


def make_app(workdir: Path, env: dict[str, str]):  # type: ignore[no-untyped-def]
    settings = load_settings(
        {"LOCKER_DATA_DIR": str(workdir), "LOCKER_COOKIE_SECURE": "false", **env}, create=True
    )
    create_keyfile(settings.master_key_file)
    engine = make_engine(settings.database_url)
    upgrade_schema(engine)
    engine.dispose()
    app = create_app(settings, config={"TESTING": True})
    found = app.extensions["locker"]
    found.store.ensure_ready()
    with found.session_factory() as session:
        person = accounts.create_person(
            session, found.keyring, utc_now, username="bench", display_name="B", password=PASSWORD
        )
        session.commit()
        person_id = person.id
    return app, person_id


def upload_as_person(  # type: ignore[no-untyped-def]
    found, session, person_id: str, data: bytes, filename: str, title: str, category: str
) -> DocumentView:
    """One paper the person uploads through the whole pipeline (not committed)."""
    return upload_document(
        session,
        found.store,
        found.keyring,
        found.clock,
        actor=Actor(kind="person", id=person_id),
        person=session.get(accounts.Person, person_id),
        upload=UploadRequest(
            source=io.BytesIO(data),
            filename=filename,
            title=title,
            category=category,
            max_bytes=found.settings.max_upload_bytes,
        ),
    )


def photo_path(runs: int) -> None:
    data = PHOTO.read_bytes()
    with tempfile.TemporaryDirectory() as workdir:
        app, person_id = make_app(Path(workdir), {})
        found = app.extensions["locker"]

        def pipeline() -> None:
            with found.session_factory() as session:
                upload_as_person(found, session, person_id, data, "photo.jpg", "Photo", "identity")

        ours, bare = median_seconds(pipeline, lambda: bare_pillow(data), runs)
        found.engine.dispose()
    print(
        f"photo path (12 MP JPEG): pipeline {ours * 1000:.0f} ms, bare Pillow {bare * 1000:.0f} ms"
    )
    print(f"  ratio pipeline / bare Pillow = {ours / bare:.2f} (goal <= 1.0)")


def twenty_mb_pdf() -> bytes:
    """A 20 MB PDF: a text first page, then pages of incompressible raw images."""
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(595, 842))
    side = 1300
    while True:
        out = io.BytesIO()
        pdf.save(out)
        if out.tell() >= 20_000_000:
            return out.getvalue()
        add_noise_page(pdf, side)


@contextlib.contextmanager
def s3_endpoint(given: str | None) -> Iterator[tuple[str, dict[str, str]]]:
    if given:
        yield given, {}
        return
    from tests.s3_server import ceph_rgw

    with ceph_rgw() as server:
        yield server.upstream_url, server.credentials_env()


def empty_bucket(client, bucket: str) -> None:  # type: ignore[no-untyped-def]
    """Delete what the runs stored (about 0.5 GB a run), so that an endpoint used for many
    runs does not fill up: a full Ceph OSD blocks every write, the bench's included."""
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
        if keys:
            client.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
    client.delete_bucket(Bucket=bucket)


def pdf_path(runs: int, endpoint: str | None) -> None:
    import urllib3
    from werkzeug.serving import make_server

    data = twenty_mb_pdf()
    with s3_endpoint(endpoint) as (url, credentials), tempfile.TemporaryDirectory() as workdir:
        os.environ.update(credentials)
        bucket = f"locker-bench-{secrets.token_hex(4)}"
        env = {
            "LOCKER_STORAGE_URL": f"s3://{bucket}",
            "LOCKER_S3_ENDPOINT_URL": url,
            "LOCKER_S3_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        }
        app, person_id = make_app(Path(workdir), env)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"
        http = urllib3.PoolManager()
        token = http.request(
            "POST", f"{base}/api/v1/auth/token", json={"username": "bench", "password": PASSWORD}
        ).json()["token"]

        def via_api() -> None:
            response = http.request(
                "POST",
                f"{base}/api/v1/persons/{person_id}/documents",
                headers={"Authorization": f"Bearer {token}"},
                fields={"file": ("big.pdf", data, "application/pdf"), "category": "other"},
            )
            assert response.status == 201, response.data[:300]

        client = app.extensions["locker"].store._client  # the same endpoint and settings
        # boto3 as it comes: the payload hashed into the signature on a plain-HTTP endpoint.
        default_client = boto3.session.Session().client(
            "s3", endpoint_url=url, region_name=env["LOCKER_S3_REGION"]
        )

        def raw_put() -> None:
            client.put_object(Bucket=bucket, Key=secrets.token_hex(16), Body=data)

        def default_put() -> None:
            default_client.put_object(Bucket=bucket, Key=secrets.token_hex(16), Body=data)

        try:
            ours, raw = median_seconds(via_api, raw_put, runs)
            ours_again, default = median_seconds(via_api, default_put, runs)
        finally:
            empty_bucket(client, bucket)
        server.shutdown()
        app.extensions["locker"].engine.dispose()
    print(f"PDF path (20 MB): HTTP API into S3 {ours * 1000:.0f} ms, ", end="")
    print(f"boto3 put_object {raw * 1000:.0f} ms (the service's client: payload unsigned)")
    print(f"  ratio API / put_object = {ours / raw:.2f} (goal <= 1.5; issue 12 allows 2.0)")
    print(f"  against boto3's defaults (payload signed): API {ours_again * 1000:.0f} ms,", end="")
    print(f" put_object {default * 1000:.0f} ms, ratio {ours_again / default:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--endpoint", default=None, help="S3 endpoint (else a throwaway Ceph RGW)")
    parser.add_argument("--only", choices=["photo", "pdf"], default=None)
    args = parser.parse_args()
    if args.only is None:
        # Each path in a fresh interpreter: after the photo path's large images, the PDF
        # path's own client was slower to encode its form (bench/README.md, "uploads"),
        # the benchmark measuring itself, not the service.
        for path in ("photo", "pdf"):
            command = [sys.executable, __file__, "--only", path, "--runs", str(args.runs)]
            if args.endpoint:
                command += ["--endpoint", args.endpoint]
            subprocess.run(command, check=True)
    elif args.only == "photo":
        photo_path(args.runs)
    else:
        pdf_path(args.runs, args.endpoint)


if __name__ == "__main__":
    main()
