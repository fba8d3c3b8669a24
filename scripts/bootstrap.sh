#!/usr/bin/env bash
# Install what the project needs into ./.venv (and, for tests, the Debian packages).
# Usage: scripts/bootstrap.sh [run|test]
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=${1:-run}

apt_install() {
  # Only as root on Debian; otherwise say exactly what is missing.
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing Debian packages: ${missing[*]}" >&2
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "missing Debian packages (install them as root): ${missing[*]}" >&2
  fi
}

apt_install libmagic1 libheif1 libturbojpeg0 libseccomp2
if [ "$MODE" = test ]; then
  # A real S3 server (Ceph RADOS Gateway) and a real browser for the end-to-end tests.
  apt_install radosgw ceph-mon ceph-osd chromium chromium-driver curl redis-server
fi

PY=${PYTHON:-python3}
# As root, the sanitiser child drops to an unprivileged user (nobody, or locker-sandbox)
# that must still read the Python installation: one under /root cannot be read, and the
# child would then keep uid 0. Prefer Debian's own Python then.
runs_as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@" >/dev/null 2>&1; }
if [ -z "${PYTHON:-}" ] && [ "$(id -u)" = 0 ] && [ ! -x .venv/bin/python ] \
  && ! runs_as_nobody "$(command -v "$PY")" -c '' && [ -x /usr/bin/python3 ] \
  && runs_as_nobody /usr/bin/python3 -c 'import sys; assert sys.version_info >= (3, 11)'; then
  apt_install python3-venv
  PY=/usr/bin/python3
fi
[ -x .venv/bin/python ] || "$PY" -m venv .venv
STAMP=.venv/.installed-$MODE
if [ ! -e "$STAMP" ] || [ pyproject.toml -nt "$STAMP" ]; then
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  if [ "$MODE" = test ]; then
    .venv/bin/python -m pip install -q -e '.[test]'
  else
    .venv/bin/python -m pip install -q -e .
  fi
  touch "$STAMP"
fi
