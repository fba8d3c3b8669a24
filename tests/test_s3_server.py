"""The suite's S3 rig: a server that stops answering fails tests at once, saying why."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import time
from pathlib import Path

import pytest

from locker.storage import s3_client_config
from tests import s3_server
from tests.conftest import require_service
from tests.s3_server import CEPH_INSTALL_HINT, S3Server, _proxied, ceph_rgw, make_bucket


def test_a_silent_server_fails_the_test_with_its_logs_and_the_next_ones_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The rig's own bounds (20 s reads, two attempts), shortened to keep the suite quick.
    monkeypatch.setattr(
        s3_server, "_SETUP_CONFIG", s3_client_config(read_timeout=1, max_attempts=1)
    )
    # A listener that accepts connections and never answers: a wedged gateway.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(64)
    logs = tmp_path / "log"
    logs.mkdir()
    (logs / "osd.0.log").write_text("first line\nslow request: osd full\n")
    server = S3Server(
        "ceph-rgw",
        f"http://127.0.0.1:{silent.getsockname()[1]}",
        "key",
        "secret",
        "us-east-1",
        log_dir=logs,
    )
    try:
        with pytest.raises(pytest.fail.Exception) as first:
            make_bucket(server)
        assert "does not answer" in str(first.value)
        assert "ReadTimeout" in str(first.value)
        assert "--- osd.0.log" in str(first.value)
        assert "slow request: osd full" in str(first.value)

        started = time.monotonic()
        with pytest.raises(pytest.fail.Exception) as later:
            make_bucket(server)
        assert time.monotonic() - started < 1  # no new wait on a server known to be gone
        assert "stopped answering earlier" in str(later.value)
    finally:
        silent.close()


def test_a_killed_cluster_is_replaced_once_then_the_run_stops_waiting() -> None:
    if not shutil.which("radosgw"):
        require_service(f"Ceph RGW not installed: {CEPH_INSTALL_HINT}")
    with ceph_rgw() as server, _proxied(server):
        first = make_bucket(server)
        gone = server.upstream_url
        assert server.log_dir is not None
        _kill_gateway(server.log_dir.parent)

        with pytest.warns(UserWarning, match="a fresh one replaced it") as replaced:
            second = make_bucket(server)
        # The proxy cut the connection it could not forward: the message says so, with the
        # end of the dead cluster's logs.
        assert "ConnectionClosedError" in str(replaced[0].message)
        assert "--- client.rgw.r.log" in str(replaced[0].message)
        assert server.upstream_url != gone
        # The same credentials and the same endpoint (the proxy) reach the fresh cluster.
        names = [b["Name"] for b in server.client().list_buckets()["Buckets"]]
        assert second in names and first not in names

        assert server.log_dir is not None
        _kill_gateway(server.log_dir.parent)
        with pytest.raises(pytest.fail.Exception, match="does not answer"):
            make_bucket(server)
        with pytest.raises(pytest.fail.Exception, match="stopped answering earlier"):
            make_bucket(server)


def _kill_gateway(workdir: Path) -> None:
    pid = int((workdir / "run" / "client.rgw.r.pid").read_text())
    os.kill(pid, signal.SIGKILL)
    for _ in range(100):
        if not Path(f"/proc/{pid}").exists():
            return
        time.sleep(0.05)
