#!/usr/bin/env bash
# Run the locker on the embedded default (SQLite, a local folder, a local key file).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh run
.venv/bin/locker init
.venv/bin/locker demo
exec .venv/bin/locker serve "$@"
