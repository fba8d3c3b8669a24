"""What starting costs: a `locker` command (every operator's call, every cron job) and a
server worker (each gunicorn worker at start and at each replacement). See bench/README.md,
"## start-up".

Each is a fresh interpreter, timed by its own CPU time (user + system, from wait4) and
its peak memory, against a bare `python -c pass` in the same run, in turns; medians.

- `locker --help`: the command with nothing to do (what every command pays first);
- `locker audit verify`: a command that opens the database and checks the log;
- a worker: the app built by `web.app:create_app()`, as gunicorn's workers build it.

    .venv/bin/python bench/startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """CPU seconds and peak resident MiB of one run of `command` (it must succeed)."""
    process = subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(process.pid, 0)
    assert process.stderr is not None
    problem = process.stderr.read()
    process.stderr.close()
    process.returncode = os.waitstatus_to_exitcode(status)
    assert process.returncode == 0, problem.decode(errors="replace")
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    python = [sys.executable]
    with tempfile.TemporaryDirectory() as folder:
        env = {
            **os.environ,
            "LOCKER_DATA_DIR": str(Path(folder) / "var"),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        for key in ("LOCKER_DATABASE_URL", "LOCKER_STORAGE_URL", "LOCKER_KEY_PROVIDER"):
            env.pop(key, None)  # the embedded default: SQLite and a local folder
        subprocess.run(
            [*python, "-m", "web.cli", "init"], env=env, cwd=ROOT, check=True, capture_output=True
        )
        cases = {
            "python -c pass": [*python, "-c", "pass"],
            "locker --help": [*python, "-m", "web.cli", "--help"],
            "locker audit verify": [*python, "-m", "web.cli", "audit", "verify"],
            "a worker's app": [*python, "-c", "from web.app import create_app; create_app()"],
        }
        spent: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
        for _ in range(args.runs):
            for name, command in cases.items():  # in turns: load weighs on all alike
                spent[name].append(_run(command, env))
    base = statistics.median(cpu for cpu, _ in spent["python -c pass"])
    print(f"{'':22} {'CPU s':>6} {'x python':>9} {'peak MiB':>9}  (median of {args.runs})")
    for name, runs in spent.items():
        cpu = statistics.median(each for each, _ in runs)
        memory = statistics.median(each for _, each in runs)
        print(f"{name:22} {cpu:6.2f} {cpu / base:9.1f} {memory:9.0f}")


if __name__ == "__main__":
    main()
