"""Servers the test suite talks to over the network, and their pytest fixtures.

`s3_server` is a real S3 endpoint for the whole session, chosen in this order:
1. `LOCKER_TEST_S3_ENDPOINT` (with `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`);
2. a throwaway single-node Ceph RADOS Gateway started by tests/tools/ceph-rgw-up.sh;
3. a moto server, with a warning, unless strict mode (`LOCKER_TEST_STRICT=1` or
   `CI=true`) demands the real thing.
Plain-HTTP endpoints are reached through `TcpProxy`, so a test can make the server
unreachable (`server.stop()` / `server.start()` / `with server.unreachable():`).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import boto3.session
import pytest
from botocore.config import Config

from locker.storage import s3_client_config

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import ObjectIdentifierTypeDef

TOOLS = Path(__file__).resolve().parent / "tools"
CEPH_INSTALL_HINT = "apt-get install radosgw ceph-mon ceph-osd"
# Startup measured at 4-5 s with memstore; the bound only catches a wedged cluster.
CEPH_START_TIMEOUT = 120


def strict_mode() -> bool:
    """True when the suite must run against real services, never stand-ins (CI)."""
    return os.environ.get("LOCKER_TEST_STRICT") == "1" or os.environ.get("CI") == "true"


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class TcpProxy:
    """Forwards 127.0.0.1:<port> to an upstream address until stopped.

    `stop()` closes the listening socket (new connections are refused) and cuts every
    open connection; `start()` listens on the same port again.
    """

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self._upstream = (upstream_host, upstream_port)
        self.port = free_port()
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._connections: set[socket.socket] = set()

    def start(self) -> None:
        with self._lock:
            if self._listener is not None:
                return
            listener = socket.socket()
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", self.port))
            listener.listen(128)
            self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            connections = list(self._connections)
            self._connections.clear()
        if listener is not None:
            # shutdown() wakes the thread blocked in accept(); close() alone would not.
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        for connection in connections:
            _cut(connection)

    @property
    def running(self) -> bool:
        return self._listener is not None

    def retarget(self, upstream_host: str, upstream_port: int) -> None:
        """Forward new connections to another upstream; cut the open ones."""
        with self._lock:
            self._upstream = (upstream_host, upstream_port)
            connections = list(self._connections)
            self._connections.clear()
        for connection in connections:
            _cut(connection)

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self._upstream, timeout=5)
        except OSError:
            # Cut only once the request has come: cut sooner, a loaded machine can wake the
            # client after the cut, and its connect() then fails (EPIPE) instead of showing
            # a server that took the request and died, which is what the tests mean to show.
            with contextlib.suppress(OSError):
                client.settimeout(5)
                client.recv(1)
            _cut(client)
            client.close()
            return
        upstream.settimeout(None)
        # Forward each write at once: Nagle on the proxy would add the ~40 ms delayed-ACK
        # stalls a direct connection does not have.
        for end in (client, upstream):
            end.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._lock:
            if self._listener is None:
                pair_alive = False
            else:
                pair_alive = True
                self._connections.update((client, upstream))
        if pair_alive:
            backward = threading.Thread(target=_pump, args=(upstream, client), daemon=True)
            backward.start()
            _pump(client, upstream)
            backward.join()
        for end in (client, upstream):
            with self._lock:
                self._connections.discard(end)
            _cut(end)
            end.close()


def _pump(source: socket.socket, destination: socket.socket) -> None:
    try:
        while data := source.recv(256 * 1024):
            destination.sendall(data)
        destination.shutdown(socket.SHUT_WR)
    except OSError:
        # One side broke: break the other too, so its pump stops and the peer notices.
        _cut(source)
        _cut(destination)


def _cut(end: socket.socket) -> None:
    with contextlib.suppress(OSError):
        # Linger 0: the close that follows sends RST, like a crashed server would.
        end.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        end.shutdown(socket.SHUT_RDWR)


@dataclass
class S3Server:
    """An S3 endpoint for tests, with the credentials to use it."""

    kind: str  # "ceph-rgw", "moto" or "external"
    upstream_url: str
    access_key: str
    secret_key: str
    region: str
    proxy: TcpProxy | None = field(default=None, repr=False)
    started_in: float = 0.0  # seconds the server took to start, 0 if it was already up
    log_dir: Path | None = None  # the daemons' logs, quoted when the server stops answering
    # Replaces a throwaway server that stopped answering with a fresh one (Ceph RGW only).
    revive: Callable[[], None] | None = field(default=None, repr=False)
    revived: bool = field(default=False, init=False, repr=False)
    broken: str | None = field(default=None, init=False, repr=False)
    _session: boto3.session.Session | None = field(default=None, init=False, repr=False)
    _default_client: S3Client | None = field(default=None, init=False, repr=False)
    _setup_client: S3Client | None = field(default=None, init=False, repr=False)

    @property
    def endpoint_url(self) -> str:
        """The URL clients should use (the switchable proxy when there is one)."""
        if self.proxy is None:
            return self.upstream_url
        return f"http://127.0.0.1:{self.proxy.port}"

    def stop(self) -> None:
        """Make the endpoint unreachable: refuse new connections, cut open ones."""
        self._require_proxy().stop()

    def start(self) -> None:
        """Make the endpoint reachable again after `stop()`."""
        self._require_proxy().start()

    @contextlib.contextmanager
    def unreachable(self) -> Iterator[None]:
        """Keep the endpoint unreachable for the duration of the block."""
        self.stop()
        try:
            yield
        finally:
            self.start()

    def client(self, config: Config | None = None) -> S3Client:
        """A boto3 S3 client with this server's credentials (locker's settings by default)."""
        # Building a client costs ~50 ms (service model loading) and a test needs several:
        # the default one is shared (clients are thread-safe), and one session keeps the
        # loaded models for the others.
        if config is None and self._default_client is not None:
            return self._default_client
        if self._session is None:
            self._session = boto3.session.Session(
                aws_access_key_id=self.access_key,
                aws_secret_access_key=self.secret_key,
                region_name=self.region,
            )
        client = self._session.client(
            "s3", endpoint_url=self.endpoint_url, config=config or s3_client_config()
        )
        if config is None:
            self._default_client = client
        return client

    def credentials_env(self) -> dict[str, str]:
        """The standard AWS variables that let boto3 find this server's credentials."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_DEFAULT_REGION": self.region,
        }

    def _require_proxy(self) -> TcpProxy:
        if self.proxy is None:
            pytest.skip("fault injection needs a plain-HTTP endpoint behind the test proxy")
        return self.proxy


@contextlib.contextmanager
def _proxied(server: S3Server) -> Iterator[S3Server]:
    upstream = urlsplit(server.upstream_url)
    # A TLS endpoint cannot sit behind a plain TCP proxy on 127.0.0.1: its certificate
    # names another host. Such servers simply offer no fault injection.
    if upstream.scheme == "http" and upstream.hostname:
        server.proxy = TcpProxy(upstream.hostname, upstream.port or 80)
        server.proxy.start()
    try:
        yield server
    finally:
        if server.proxy is not None:
            server.proxy.stop()


class _CephClusters:
    """Throwaway single-node Ceph clusters (mon + OSD + radosgw) with one set of
    credentials: the first, and a fresh one whenever the running one is given up."""

    def __init__(self, objectstore: str) -> None:
        self.objectstore = objectstore
        self.access_key = "LOCKERTEST" + secrets.token_hex(5).upper()
        self.secret_key = secrets.token_urlsafe(30)
        self._running: tuple[Path, dict[str, str], subprocess.Popen[bytes]] | None = None

    def start(self) -> tuple[str, Path]:
        """Start a cluster on free ports: its gateway's URL and its logs' folder."""
        # mkdtemp rather than pytest's tmp_path: admin sockets live under it and Unix
        # socket paths must stay under 108 bytes.
        workdir = Path(tempfile.mkdtemp(prefix="locker-ceph-"))
        rgw_port, mon_v2, mon_v1 = _distinct_free_ports(3)
        env = {
            **os.environ,
            "RGW_PORT": str(rgw_port),
            "MON_PORT_V2": str(mon_v2),
            "MON_PORT_V1": str(mon_v1),
            "OBJECTSTORE": self.objectstore,
            "ACCESS_KEY": self.access_key,
            "SECRET_KEY": self.secret_key,
        }
        env.pop("CEPH_CONF", None)
        self._running = (workdir, env, _watch_over(workdir, env))
        _run_script("ceph-rgw-up.sh", workdir, env, CEPH_START_TIMEOUT)
        return f"http://127.0.0.1:{rgw_port}", workdir / "log"

    def stop(self) -> None:
        if self._running is None:
            return
        workdir, env, watcher = self._running
        self._running = None
        # The down script kills exactly the daemons listed in workdir's pid files; SIGKILL
        # because the data is thrown away (a clean stop costs ~5 s more).
        _run_script("ceph-rgw-down.sh", workdir, {**env, "STOP_SIGNAL": "KILL"}, 60, check=False)
        shutil.rmtree(workdir, ignore_errors=True)
        watcher.kill()
        watcher.wait()


@contextlib.contextmanager
def ceph_rgw(objectstore: str = "memstore") -> Iterator[S3Server]:
    """Run a throwaway Ceph RGW (mon + OSD + radosgw) on free ports; stop it on exit.

    The server it yields can `revive()`: a fresh cluster, same credentials, replaces one
    that stopped answering. Raises RuntimeError with the script's output if a cluster
    does not come up.
    """
    clusters = _CephClusters(objectstore)
    try:
        url, logs = clusters.start()
        server = S3Server(
            kind="ceph-rgw",
            upstream_url=url,
            access_key=clusters.access_key,
            secret_key=clusters.secret_key,
            region="us-east-1",
            log_dir=logs,
        )

        def revive() -> None:
            clusters.stop()
            server.upstream_url, server.log_dir = clusters.start()
            if server.proxy is not None:
                upstream = urlsplit(server.upstream_url)
                server.proxy.retarget(upstream.hostname or "127.0.0.1", upstream.port or 80)

        server.revive = revive
        yield server
    finally:
        clusters.stop()


def _watch_over(workdir: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start a watcher that stops the cluster if this process dies without cleaning up.

    `timeout pytest ...`, a CI cancel or a SIGKILL skip every fixture teardown and would
    leave three daemons (and their memstore RAM) behind. The watcher is a detached shell
    polling this process; a normal teardown stops the cluster itself, then the watcher.
    """
    watcher = (
        'while kill -0 "$0" 2>/dev/null; do sleep 1; done; STOP_SIGNAL=KILL exec bash "$2" "$1"'
    )
    return subprocess.Popen(
        ["bash", "-c", watcher, str(os.getpid()), str(workdir), str(TOOLS / "ceph-rgw-down.sh")],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _distinct_free_ports(count: int) -> list[int]:
    ports: set[int] = set()
    while len(ports) < count:
        ports.add(free_port())
    return sorted(ports)


def _run_script(
    name: str, workdir: Path, env: dict[str, str], timeout: float, *, check: bool = True
) -> None:
    # Own session, so a wedged run can be killed with every helper it spawned (the
    # daemons detach into sessions of their own and are left to the down script).
    process = subprocess.Popen(
        ["bash", str(TOOLS / name), str(workdir)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        if check:
            raise RuntimeError(f"{name} did not finish in {timeout} s:\n{output[-4000:]}") from None
        return
    if check and process.returncode != 0:
        raise RuntimeError(f"{name} failed ({process.returncode}):\n{output[-4000:]}")


@contextlib.contextmanager
def moto_s3() -> Iterator[S3Server]:
    """Run moto's S3 emulation in a thread on a free port."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    moto.start()
    try:
        yield S3Server(
            kind="moto",
            upstream_url=f"http://127.0.0.1:{port}",
            access_key="testing",
            secret_key="testing",  # moto accepts any credentials
            region="us-east-1",
        )
    finally:
        moto.stop()


@contextlib.contextmanager
def running_s3_server() -> Iterator[S3Server]:
    """Yield the session's S3 server (external, Ceph RGW or moto; see the module doc)."""
    with contextlib.ExitStack() as stack:
        endpoint = os.environ.get("LOCKER_TEST_S3_ENDPOINT")
        if endpoint:
            access_key = os.environ.get("AWS_ACCESS_KEY_ID")
            secret_key = os.environ.get("AWS_SECRET_ACCESS_KEY")
            if not access_key or not secret_key:
                pytest.fail(
                    "LOCKER_TEST_S3_ENDPOINT is set: set AWS_ACCESS_KEY_ID and "
                    "AWS_SECRET_ACCESS_KEY for it too"
                )
            region = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
            server = S3Server("external", endpoint, access_key, secret_key, region)
        elif shutil.which("radosgw"):
            started = time.monotonic()
            try:
                server = stack.enter_context(ceph_rgw())
            except RuntimeError as exc:
                pytest.fail(f"Ceph RGW is installed but did not start: {exc}")
            server.started_in = time.monotonic() - started
        elif strict_mode():
            pytest.fail(f"Ceph RGW not installed: {CEPH_INSTALL_HINT}")
        else:
            warnings.warn(
                f"Ceph RGW not installed, S3 tests run against moto ({CEPH_INSTALL_HINT})",
                stacklevel=1,
            )
            server = stack.enter_context(moto_s3())
        yield stack.enter_context(_proxied(server))


# Creating a bucket takes milliseconds; these bounds only catch a server that stopped
# answering, which the application's own client (60 s reads, 4 attempts) would wait
# minutes on in every test that follows.
_SETUP_CONFIG = s3_client_config(connect_timeout=5, read_timeout=20, max_attempts=2)


def make_bucket(server: S3Server) -> str:
    """Create a bucket with a fresh unique name on `server` and return the name.

    When the server does not answer and cannot be revived (see `S3Server.revive`), the
    test fails at once saying so, with the end of the daemons' logs; every later test
    then fails at once too, instead of each waiting out the timeouts of a server that is
    gone.
    """
    if server.broken is not None:
        pytest.fail(f"the test S3 server stopped answering earlier in this run: {server.broken}")
    if server.proxy is not None and not server.proxy.running:
        pytest.fail("a previous test left the S3 proxy stopped (use `server.unreachable()`)")
    name = f"locker-test-{secrets.token_hex(8)}"
    if server._setup_client is None:
        server._setup_client = server.client(_SETUP_CONFIG)
    try:
        server._setup_client.create_bucket(Bucket=name)
        return name
    except Exception as exc:
        why = f"{_describe(exc)}{_log_tails(server.log_dir)}"
    if server.revive is not None and not server.revived:
        # A throwaway cluster that something outside the suite stopped (a daemon killed,
        # the machine starved) would fail every test after it: it is replaced once, and
        # the run's summary says so and why.
        server.revived = True
        warnings.warn(
            f"the test S3 server stopped answering, a fresh one replaced it: {why}", stacklevel=2
        )
        try:
            server.revive()
            server._setup_client.create_bucket(Bucket=name)
            return name
        except Exception as exc:
            why = f"{why}\nand again after a restart: {_describe(exc)}"
    server.broken = why
    pytest.fail(f"the test S3 server does not answer: {why}")


def _describe(exc: BaseException) -> str:
    """The error and what caused it: botocore's message leaves out the socket's own error."""
    parts = []
    seen: BaseException | None = exc
    while seen is not None and len(parts) < 4:
        parts.append(f"{type(seen).__name__}: {seen}")
        seen = seen.__cause__ or seen.__context__
    return "\n  caused by ".join(parts)


def _log_tails(log_dir: Path | None, lines: int = 15) -> str:
    """The last lines of each daemon's log, to tell why a server stopped answering."""
    if log_dir is None or not log_dir.is_dir():
        return ""
    parts = []
    for log in sorted(log_dir.glob("*.log")):
        with contextlib.suppress(OSError):
            tail = log.read_text(errors="replace").splitlines()[-lines:]
            parts.append(f"\n--- {log.name}\n" + "\n".join(tail))
    return "".join(parts)


def remove_bucket(server: S3Server, bucket: str) -> None:
    """Delete `bucket` with its objects and unfinished uploads (external servers stay tidy)."""
    client = server.client()
    for uploads in client.get_paginator("list_multipart_uploads").paginate(Bucket=bucket):
        for upload in uploads.get("Uploads", []):
            client.abort_multipart_upload(
                Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"]
            )
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        objects: list[ObjectIdentifierTypeDef] = [
            {"Key": item["Key"]} for item in page.get("Contents", [])
        ]
        if objects:
            client.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True})
    client.delete_bucket(Bucket=bucket)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """The session's real S3 endpoint (see the module docstring for the choice)."""
    with running_s3_server() as server:
        yield server


@pytest.fixture
def s3_bucket(s3_server: S3Server) -> Iterator[str]:
    """A fresh empty bucket for one test, removed afterwards."""
    bucket = make_bucket(s3_server)
    yield bucket
    if s3_server.proxy is not None:
        # A test that stopped the server and failed before restarting it must not
        # poison the cleanup (or the next test).
        s3_server.proxy.start()
    remove_bucket(s3_server, bucket)
