"""Latency of a normal page on the real `locker serve` with 0 and N slow uploads open.

Run from the repository root: `.venv/bin/python bench/slow_clients.py [--slow 50]`.
It starts `locker serve` on a free 127.0.0.1 port over a fresh embedded data dir, opens
N connections that announce a 1 MB body and send a few bytes, and times GET /sign-in.
"""

from __future__ import annotations

import argparse
import http.client
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from served import fresh_locker, locker_serving  # noqa: E402

ROUNDS = 20


def _page_ms(port: int) -> float:
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/sign-in")
    response = connection.getresponse()
    response.read()
    connection.close()
    assert response.status == 200, response.status
    return (time.perf_counter() - started) * 1000


def _slow(port: int, count: int) -> list[socket.socket]:
    opened = []
    for _ in range(count):
        slow = socket.create_connection(("127.0.0.1", port), timeout=5)
        slow.sendall(
            b"POST /api/v1/auth/token HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{"
        )
        opened.append(slow)
    return opened


def _figures(port: int, label: str) -> None:
    times = sorted(_page_ms(port) for _ in range(ROUNDS))
    print(
        f"{label:>16}: median {statistics.median(times):7.1f} ms, "
        f"max {times[-1]:7.1f} ms over {ROUNDS} GET /sign-in"
    )


def main() -> None:
    """Start the server, measure without and with slow clients, stop it."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--slow", type=int, default=50, help="slow uploads held open")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        env = fresh_locker(folder)
        with locker_serving(env) as port:
            _page_ms(port)  # warm-up
            _figures(port, "0 slow")
            held = _slow(port, args.slow)
            time.sleep(0.5)
            _figures(port, f"{args.slow} slow")
            for connection in held:
                connection.close()


if __name__ == "__main__":
    main()
