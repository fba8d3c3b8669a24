#!/usr/bin/env bash
# The whole test suite: lint, format, types, layers, then pytest on SQLite + a local folder
# and on PostgreSQL + a real S3 server (Ceph RGW), plus the browser tests.
# LOCKER_TEST_STRICT=1 (set by .ci/run) turns a missing service into a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh test
export PATH="$PWD/.venv/bin:$PATH"
echo "== ruff check"; ruff check .
echo "== ruff format --check"; ruff format --check .
echo "== mypy --strict"; mypy
echo "== import-linter"; lint-imports
echo "== pytest"
exec pytest "$@"
