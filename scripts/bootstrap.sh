#!/usr/bin/env bash
# Install what the project needs into ./.venv (and, for tests, the Debian packages).
# Usage: scripts/bootstrap.sh [run|test]
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=${1:-run}

apt_install() {
  # apt_install WHY PACKAGE...: only as root on Debian; otherwise say exactly what is missing.
  local why=$1 missing=()
  shift
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing Debian packages for $why: ${missing[*]} (once; may take minutes)" >&2
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" \
      | { grep -E '^(Need to get|Setting up)' >&2 || true; }
  else
    echo "missing Debian packages for $why (install them as root): ${missing[*]}" >&2
  fi
}

apt_install "the upload sanitiser" libmagic1 libheif1 libturbojpeg0 libseccomp2
apt_install "the counter links' watermark" fonts-dejavu-core
if [ "$MODE" = test ]; then
  # The real services the tests start themselves when the machine has none running.
  apt_install "the tests' S3 server (Ceph RGW)" radosgw ceph-mon ceph-osd
  apt_install "the tests' browser" chromium chromium-driver
  apt_install "the tests' PostgreSQL and Redis" postgresql redis-server
  apt_install "the tests' tools" curl
  apt_install "the tests' reverse proxy (deploy/nginx.conf)" nginx
  apt_install "the tests' PKCS#11 token (master keys in an HSM)" softhsm2
  # npm fetches axe-core, the accessibility checker the browser tests inject into each page,
  # and oidc-provider, run by Node.js as the ProConnect tests' OpenID provider.
  command -v npm >/dev/null || apt_install "the tests' accessibility checker and OpenID provider" npm
  command -v node >/dev/null || apt_install "the tests' OpenID provider (oidc-provider)" nodejs
fi

PY=${PYTHON:-python3}
# As root, the sanitiser child drops to an unprivileged user (nobody, or locker-sandbox)
# that must still read the Python installation: one under /root cannot be read, and the
# child would then keep uid 0. Prefer Debian's own Python then.
runs_as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@" >/dev/null 2>&1; }
if [ -z "${PYTHON:-}" ] && [ "$(id -u)" = 0 ] && [ ! -x .venv/bin/python ] \
  && ! runs_as_nobody "$(command -v "$PY")" -c '' && [ -x /usr/bin/python3 ] \
  && runs_as_nobody /usr/bin/python3 -c 'import sys; assert sys.version_info >= (3, 11)'; then
  PY=/usr/bin/python3
fi
if [ ! -x .venv/bin/python ] && ! "$PY" -m venv .venv; then
  # Debian splits venv's pip bootstrap (ensurepip) into its own package.
  rm -rf .venv
  apt_install "Python's venv" python3-venv
  "$PY" -m venv .venv
fi
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
if [ "$MODE" = test ]; then
  # axe-core (the accessibility checker) and oidc-provider (the OpenID provider the
  # ProConnect tests start) at the versions pinned in each package-lock.json, into their
  # node_modules (git-ignored); again whenever a lock file changes.
  for TOOL in tests/tools/axe tests/tools/oidc; do
    if [ ! -e "$TOOL/node_modules/.package-lock.json" ] \
      || [ "$TOOL/package-lock.json" -nt "$TOOL/node_modules/.package-lock.json" ]; then
      if command -v npm >/dev/null; then
        npm ci --prefix "$TOOL" --ignore-scripts --no-audit --no-fund --loglevel=error
      else
        echo "npm is missing: the tests need $TOOL (npm ci --prefix $TOOL)" >&2
      fi
    fi
  done
fi
