"""The service as production runs it: gunicorn with deploy/gunicorn.conf.py (see bench/README.md,
"## web" and "## concurrent uploads").

list: GET of a person's list of 20 papers (JSON API, bearer token) in requests per second,
  loaded by wrk (Debian's `wrk`) on 127.0.0.1, against a Flask "hello world" served by the
  same gunicorn configuration in the same run, in turns. Goal: ratio >= 0.5.
cpu: where the list's time goes, without the server or wrk: CPU time of one request, the
  app called in-process (Flask's test client) on the same kind of database, in turns with
  the locker's /healthz and the hello world app; ratios to hello world.
uploads: 50 phone photos of about 5 MB sent at once to the person's upload API. Goal:
  all stored, and the service's peak memory (gunicorn's master, workers and their
  sanitiser processes, summed) under 1 GB.

PostgreSQL is a throwaway database on LOCKER_TEST_PG_URL's server; the store is S3 when
S3_ENDPOINT (with AWS_* credentials) is set, else a local folder.

    .venv/bin/python bench/web.py [--part list|cpu|uploads] [--seconds 10] [--rounds 3]
        [--uploads 50] [--through-nginx]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import re
import secrets
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import boto3.session
from PIL import Image
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import sample  # noqa: E402
from tests.photos import make_phone_photo  # noqa: E402
from tests.test_deploy_serve import local_nginx_conf, self_signed  # noqa: E402

PG_ADMIN_URL = os.environ.get(
    "LOCKER_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
CONFIG = ROOT / "deploy" / "gunicorn.conf.py"
PASSWORD = "correct horse battery staple"
PAPERS = 20
PHOTO_BYTES = 5_000_000
LOCKER = [sys.executable, "-m", "web.cli"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _call(
    port: int,
    method: str,
    path: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    tls: ssl.SSLContext | None = None,
) -> tuple[int, bytes]:
    connection = (
        http.client.HTTPSConnection("127.0.0.1", port, timeout=300, context=tls)
        if tls is not None
        else http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    )
    try:
        connection.request(method, path, body or None, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@dataclass
class Server:
    port: int
    process: subprocess.Popen[bytes]


@contextlib.contextmanager
def gunicorn(env: dict[str, str], app: str | None = None) -> Iterator[Server]:
    """deploy/gunicorn.conf.py on a free port (with `app` instead of the locker if given)."""
    port = _free_port()
    metrics = tempfile.mkdtemp(prefix="bench-metrics-")
    command = [sys.executable, "-m", "gunicorn", "--config", str(CONFIG)]
    process = subprocess.Popen(
        [*command, *([app] if app else [])],
        env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "PROMETHEUS_MULTIPROC_DIR": metrics},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(600):
            assert process.poll() is None, "gunicorn stopped at start"
            with contextlib.suppress(OSError):
                if _call(port, "GET", "/healthz" if app is None else "/")[0] == 200:
                    break
            time.sleep(0.1)
        yield Server(port, process)
    finally:
        process.terminate()
        process.wait(timeout=60)
        shutil.rmtree(metrics, ignore_errors=True)


@contextlib.contextmanager
def locker_env(folder: Path) -> Iterator[dict[str, str]]:
    """A fresh locker on a throwaway PostgreSQL database (and bucket), `locker init` done."""
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"locker_bench_{secrets.token_hex(4)}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    env = {
        **os.environ,
        "LOCKER_DATA_DIR": str(folder / "var"),
        "LOCKER_AUDIT_WITNESS_DIR": str(folder / "witness"),
        "LOCKER_DATABASE_URL": make_url(PG_ADMIN_URL)
        .set(database=name)
        .render_as_string(hide_password=False),
        "LOCKER_SECRET_KEY": secrets.token_urlsafe(40),
        "LOCKER_COOKIE_SECURE": "false",
    }
    bucket = None
    if os.environ.get("S3_ENDPOINT"):
        bucket = f"locker-bench-{secrets.token_hex(4)}"
        env.update(
            LOCKER_STORAGE_URL=f"s3://{bucket}",
            LOCKER_S3_ENDPOINT_URL=os.environ["S3_ENDPOINT"],
            LOCKER_S3_REGION="us-east-1",
        )
    try:
        subprocess.run([*LOCKER, "init"], env=env, cwd=ROOT, check=True, capture_output=True)
        yield env
    finally:
        if bucket is not None:
            _remove_bucket(env, bucket)
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _remove_bucket(env: dict[str, str], bucket: str) -> None:
    client = boto3.session.Session().client(
        "s3", endpoint_url=env["LOCKER_S3_ENDPOINT_URL"], region_name="us-east-1"
    )
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
        if keys:
            client.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})  # type: ignore[typeddict-item]
    client.delete_bucket(Bucket=bucket)


def new_person(env: dict[str, str]) -> str:
    created = subprocess.run(
        [
            *LOCKER,
            "create-person",
            "--username",
            "bench",
            "--display-name",
            "B",
            "--password-stdin",
        ],
        input=PASSWORD + "\n",
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return str(json.loads(created.stdout)["id"])


def sign_in(port: int) -> str:
    body = json.dumps({"username": "bench", "password": PASSWORD}).encode()
    status, answer = _call(
        port, "POST", "/api/v1/auth/token", body, {"Content-Type": "application/json"}
    )
    assert status == 201, answer
    return str(json.loads(answer)["token"])


def upload(
    port: int,
    token: str,
    person_id: str,
    data: bytes,
    filename: str,
    tls: ssl.SSLContext | None = None,
) -> int:
    boundary = secrets.token_hex(8)
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\nPapier\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    status, answer = _call(
        port,
        "POST",
        f"/api/v1/persons/{person_id}/documents",
        body,
        {
            "Authorization": f"Bearer {token}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
        tls,
    )
    if status != 201:
        print(f"  upload answered {status}: {answer[:200]!r}")
    return status


def wrk(port: int, path: str, seconds: int, headers: dict[str, str]) -> float:
    """Requests per second over `seconds`, 2 threads and 16 connections; every answer 2xx."""
    command = ["wrk", "-t2", "-c16", f"-d{seconds}s", "--timeout", "10s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run(
        [*command, f"http://127.0.0.1:{port}{path}"],
        check=True,
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    ).stdout
    assert "Non-2xx" not in out and "Socket errors" not in out, out
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    assert found is not None, out
    return float(found.group(1))


def with_papers(port: int, person_id: str) -> str:
    """The person signed in through the API, her PAPERS uploaded: her bearer token."""
    token = sign_in(port)
    scan = sample("scan.png")
    for n in range(PAPERS):
        assert upload(port, token, person_id, scan, f"scan-{n}.png") == 201
    return token


def list_part(seconds: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as folder, locker_env(Path(folder)) as env:
        person_id = new_person(env)
        with gunicorn(env) as locker, gunicorn(env, "bench.hello:app") as hello:
            token = with_papers(locker.port, person_id)
            path = f"/api/v1/persons/{person_id}/documents"
            auth = {"Authorization": f"Bearer {token}"}
            status, answer = _call(locker.port, "GET", path, headers=auth)
            assert status == 200 and len(json.loads(answer)) == PAPERS, answer[:200]
            wrk(locker.port, path, 2, auth)  # warm-up: every worker, its connections
            wrk(hello.port, "/", 2, {})
            ours: list[float] = []
            probe: list[float] = []
            baseline: list[float] = []
            for n in range(rounds):
                # In turns, so load from other processes weighs on all alike. The locker's
                # /healthz (no database, no session) tells the framework's share apart.
                ours.append(wrk(locker.port, path, seconds, auth))
                probe.append(wrk(locker.port, "/healthz", seconds, {}))
                baseline.append(wrk(hello.port, "/", seconds, {}))
                print(
                    f"  round {n + 1}: list {ours[-1]:.0f}, locker /healthz {probe[-1]:.0f}, "
                    f"hello {baseline[-1]:.0f} req/s"
                )
    mine, theirs = statistics.median(ours), statistics.median(baseline)
    print(f"list of {PAPERS} papers: {mine:.0f} req/s (median of {rounds} x {seconds} s)")
    print(f"locker /healthz:       {statistics.median(probe):.0f} req/s")
    print(f"hello world:           {theirs:.0f} req/s")
    print(f"ratio list / hello: {mine / theirs:.3f} (goal >= 0.5)")


def cpu_part(requests: int, rounds: int) -> None:
    from bench.hello import app as hello_app
    from web.app import create_app

    with tempfile.TemporaryDirectory() as folder, locker_env(Path(folder)) as env:
        person_id = new_person(env)
        with gunicorn(env) as locker:
            token = with_papers(locker.port, person_id)
        with mock.patch.dict(os.environ, env):
            app = create_app()
        client, hello = app.test_client(), hello_app.test_client()
        auth = {"Authorization": f"Bearer {token}"}
        path = f"/api/v1/persons/{person_id}/documents"
        assert len(client.get(path, headers=auth).get_json()) == PAPERS
        calls = {
            "list": lambda: client.get(path, headers=auth),
            "locker /healthz": lambda: client.get("/healthz"),
            "hello": lambda: hello.get("/"),
        }
        spent: dict[str, list[float]] = {name: [] for name in calls}
        for _ in range(rounds):
            for name, call in calls.items():
                for _ in range(requests // 10):
                    call()  # warm: caches and prepared statements of this round's turn
                started = time.process_time()
                for _ in range(requests):
                    call()
                spent[name].append((time.process_time() - started) / requests * 1000)
    base = statistics.median(spent["hello"])
    for name, times in spent.items():
        each = statistics.median(times)
        print(f"{name:16} {each:.3f} ms of CPU a request, {each / base:5.1f} x hello world")


def _tree(root: int) -> list[int]:
    """`root` and every process descended from it (the sanitiser's fork server and children)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                parents[int(entry.name)] = int(fields[1])
    found, frontier = [root], [root]
    while frontier:
        frontier = [pid for pid, parent in parents.items() if parent in frontier]
        found += frontier
    return found


def _memory(pids: list[int]) -> tuple[int, int]:
    """RSS summed (shared pages counted in each process) and PSS summed (shared pages
    split between their processes), in bytes."""
    rss = pss = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1]) * 1024
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1]) * 1024
    return rss, pss


class PeakMemory:
    """Samples the memory of a process tree every 50 ms in a thread; keeps the peaks."""

    def __init__(self, root: int) -> None:
        self._root = root
        self._stop = threading.Event()
        self.rss = self.pss = self.processes = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            pids = _tree(self._root)
            rss, pss = _memory(pids)
            self.rss, self.pss = max(self.rss, rss), max(self.pss, pss)
            self.processes = max(self.processes, len(pids))


def phone_photo(folder: Path) -> bytes:
    """A 12 MP phone photo (EXIF orientation, grain), saved finely enough to weigh 5 MB."""
    path = make_phone_photo(folder / "photo.jpg")
    with Image.open(path) as photo:
        exif = photo.getexif()
        for quality in range(93, 100):
            photo.save(path, "JPEG", quality=quality, exif=exif.tobytes())
            if path.stat().st_size >= PHOTO_BYTES:
                break
    return path.read_bytes()


@dataclass
class Front:
    """Where the uploads are sent: gunicorn itself, or nginx (deploy/nginx.conf) before it."""

    port: int
    tls: ssl.SSLContext | None
    pid: int | None


@contextlib.contextmanager
def front(upstream: int, through_nginx: bool) -> Iterator[Front]:
    if not through_nginx:
        yield Front(upstream, None, None)
        return
    folder = Path(tempfile.mkdtemp(prefix="bench-nginx-"))
    certificate, _ = self_signed(folder)
    https = _free_port()
    conf = local_nginx_conf(folder, upstream, _free_port(), https)
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    process = subprocess.Popen(
        [nginx, "-p", str(folder), "-c", str(conf), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    tls = ssl.create_default_context(cafile=str(certificate))
    try:
        for _ in range(300):
            with contextlib.suppress(OSError):
                if _call(https, "GET", "/healthz", tls=tls)[0] == 200:
                    break
            time.sleep(0.1)
        yield Front(https, tls, process.pid)
    finally:
        process.terminate()
        process.wait(timeout=60)
        shutil.rmtree(folder, ignore_errors=True)


def uploads_part(count: int, through_nginx: bool) -> None:
    with tempfile.TemporaryDirectory() as folder, locker_env(Path(folder)) as env:
        photo = phone_photo(Path(folder))
        person_id = new_person(env)
        with gunicorn(env) as locker, front(locker.port, through_nginx) as door:
            token = sign_in(locker.port)

            def send(name: str) -> int:
                return upload(door.port, token, person_id, photo, name, door.tls)

            assert send("warm-up.jpg") == 201
            idle = _memory(_tree(locker.process.pid))
            started = time.perf_counter()
            with contextlib.ExitStack() as sampling:
                peak = sampling.enter_context(PeakMemory(locker.process.pid))
                proxy = sampling.enter_context(PeakMemory(door.pid)) if door.pid else None
                with ThreadPoolExecutor(count) as pool:
                    statuses = list(pool.map(lambda n: send(f"p{n}.jpg"), range(count)))
            spent = time.perf_counter() - started
    stored = statuses.count(201)
    mib = 1024 * 1024
    via = "through nginx" if through_nginx else "straight to gunicorn"
    print(f"{count} concurrent uploads of {len(photo) / 1e6:.2f} MB {via}: {stored} stored")
    print(f"in {spent:.1f} s")
    if proxy is not None:
        print(f"nginx's peak: RSS {proxy.rss / mib:.0f} MiB, PSS {proxy.pss / mib:.0f} MiB summed")
    print(
        f"service at rest after one upload: RSS {idle[0] / mib:.0f} MiB, "
        f"PSS {idle[1] / mib:.0f} MiB"
    )
    print(
        f"peak over the burst: RSS summed {peak.rss / mib:.0f} MiB, PSS summed "
        f"{peak.pss / mib:.0f} MiB, up to {peak.processes} processes (goal < 1 GB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--part", choices=("list", "cpu", "uploads"), default=None)
    parser.add_argument("--requests", type=int, default=1000, help="cpu: requests a turn")
    parser.add_argument("--seconds", type=int, default=10, help="each wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="wrk runs of each, in turns")
    parser.add_argument("--uploads", type=int, default=50, help="uploads sent at once")
    parser.add_argument("--through-nginx", action="store_true", help="deploy/nginx.conf in front")
    args = parser.parse_args()
    if args.part in (None, "list"):
        list_part(args.seconds, args.rounds)
    if args.part in (None, "cpu"):
        cpu_part(args.requests, args.rounds)
    if args.part in (None, "uploads"):
        uploads_part(args.uploads, args.through_nginx)


if __name__ == "__main__":
    main()
