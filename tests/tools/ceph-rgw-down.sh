#!/usr/bin/env bash
# Stop exactly the daemons that ceph-rgw-up.sh started (by their pid files, checked to still name
# this cluster), then remove the data dir.
#   STOP_SIGNAL=TERM (default): clean shutdown, gateway first, then OSD, then mgr, then mon (~5.5 s).
#     In this order each daemon still has what it talks to on its way out; stopped together, the
#     OSD waits 5 s for a mark-down ack from a mon already gone and radosgw can hang on the OSD.
#   STOP_SIGNAL=KILL: immediate (~0.1 s), for throwaway clusters whose data is deleted anyway.
set -uo pipefail
DIR=$(realpath -m "${1:-/tmp/locker-ceph}")
SIG=${STOP_SIGNAL:-TERM}

ours() {  # is pid $1 still a Ceph daemon of this cluster? (a pid file outlives its daemon, and the
  # pid may since belong to another process: another run's gateway, say)
  grep -qaF -- "$DIR" "/proc/$1/cmdline" 2>/dev/null || grep -qaF -- "$DIR" "/proc/$1/environ" 2>/dev/null
}

stop() {  # stop the daemons of the given pid files together, wait for each, SIGKILL stragglers
  local f p i
  for f in "$@"; do
    [ -e "$f" ] || continue
    p=$(cat "$f")
    if ! ours "$p"; then rm -f "$f"; continue; fi
    if kill -0 "$p" 2>/dev/null; then echo "stopping $(basename "$f" .pid) pid=$p"; kill -s "$SIG" "$p"; fi
  done
  for f in "$@"; do
    [ -e "$f" ] || continue
    p=$(cat "$f")
    for i in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$p" 2>/dev/null && { echo "pid $p still alive, SIGKILL"; kill -9 "$p"; }
    rm -f "$f"
  done
}

shopt -s nullglob
if [ "$SIG" = KILL ]; then
  stop "$DIR"/run/*.pid
else
  stop "$DIR"/run/client.*.pid
  stop "$DIR"/run/osd.*.pid
  stop "$DIR"/run/mgr.*.pid
  stop "$DIR"/run/*.pid   # the mon, and anything else still listed
fi
[ "${KEEP_DATA:-0}" = 1 ] || rm -rf "$DIR"
