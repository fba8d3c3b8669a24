#!/usr/bin/env bash
# Single-node Ceph (1 mon, 1 OSD on file-backed bluestore (default) or memstore, optional mgr)
# + RADOS Gateway (beast) on 127.0.0.1 for S3 integration tests.  No systemd, no root-only paths:
# everything lives under $DIR.  Tested with Debian 12 packages ceph 16.2.15 (Pacific).
#
#   apt-get install -y --no-install-recommends radosgw ceph-mon ceph-osd   # (+ ceph-mgr if WITH_MGR=1)
#   ./ceph-rgw-up.sh [DIR]          # prints endpoint + keys, writes $DIR/env
#   ./ceph-rgw-down.sh [DIR]        # kills exactly the daemons started here (pid files)
#
# Env knobs: RGW_PORT (7480) MON_PORT_V2 (3300) MON_PORT_V1 (6789) OBJECTSTORE (bluestore|memstore)
#            MEMSTORE_BYTES (4G)  BLUESTORE_BYTES (10G, sparse file)  WITH_MGR (0|1)  POOL_PGS (8)
#            PAXOS_INTERVAL (0.05)  ACCESS_KEY / SECRET_KEY (S3 credentials of user 'tester')
# Needs: curl, awk, coreutils.  Auth between daemons is off (auth=none); S3 SigV4 auth is real.
set -euo pipefail

DIR=$(realpath -m "${1:-/tmp/locker-ceph}")
RGW_PORT=${RGW_PORT:-7480}
MON_PORT_V2=${MON_PORT_V2:-3300}
MON_PORT_V1=${MON_PORT_V1:-6789}
OBJECTSTORE=${OBJECTSTORE:-bluestore}
MEMSTORE_BYTES=${MEMSTORE_BYTES:-4294967296}
BLUESTORE_BYTES=${BLUESTORE_BYTES:-10737418240}
WITH_MGR=${WITH_MGR:-0}
ACCESS_KEY=${ACCESS_KEY:-0555b35654ad1656d804}
SECRET_KEY=${SECRET_KEY:-h7GhxuBLTrlhVUyxSPUKUV8r/2EI4ngqJxD7iBdBYLhwluN30JaT3Q==}

if [ -e "$DIR/run" ] && ls "$DIR"/run/*.pid >/dev/null 2>&1; then
  echo "pid files exist in $DIR/run - run ceph-rgw-down.sh first" >&2; exit 1
fi
rm -rf "$DIR"
mkdir -p "$DIR"/{log,mon,osd,run,rgw}
export CEPH_CONF="$DIR/ceph.conf"
T0=$(date +%s.%N)
die() { echo "ceph-rgw-up: $*" >&2; exit 1; }
ts() { awk -v a="$(date +%s.%N)" -v b="$T0" -v m="$*" 'BEGIN { printf "[%6.2fs] %s\n", a - b, m }'; }

cat > "$CEPH_CONF" <<EOF
[global]
fsid = $(cat /proc/sys/kernel/random/uuid)
mon host = [v2:127.0.0.1:${MON_PORT_V2},v1:127.0.0.1:${MON_PORT_V1}]
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind ipv6 = false
auth cluster required = none
auth service required = none
auth client required = none
run dir = $DIR/run
pid file = $DIR/run/\$name.pid
admin socket = $DIR/run/\$name.asok
log file = $DIR/log/\$name.log
keyring = /dev/null
osd crush chooseleaf type = 0
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon allow pool size one = true
mon allow pool delete = true
mon max pg per osd = 1000
# faster map updates: every pool RGW creates otherwise costs ~2 s (paxos propose interval 1 s + PG creation)
paxos propose interval = ${PAXOS_INTERVAL:-0.05}
paxos min wait = 0.01
mon warn on pool no redundancy = false
# keep the daemons small: this is a test rig, not a cluster
osd memory target = 939524096
bluestore cache autotune = false
bluestore cache size = 134217728
mon warn on insecure global id reclaim allowed = false

[mon]
mon data = $DIR/mon
mon data avail crit = 0
mon data avail warn = 0
mon cluster log file = $DIR/log/mon-cluster.log

[mon.a]
# without this the mon binds the default ports (3300/6789) whatever 'mon host' says, finds
# itself missing from the monmap and waits forever to join a cluster that does not exist
public addrv = [v2:127.0.0.1:${MON_PORT_V2},v1:127.0.0.1:${MON_PORT_V1}]

[osd]
osd data = $DIR/osd
osd objectstore = ${OBJECTSTORE}
memstore device bytes = ${MEMSTORE_BYTES}
bluestore block path = $DIR/osd-block.img
bluestore block create = true
bluestore block size = ${BLUESTORE_BYTES}
bluestore block db create = false
bluestore block wal create = false
osd class load list = *
osd class default list = *
osd op num shards = 1
osd op num threads per shard = 2

[client.rgw.r]
# tcp_nodelay: without it every response with a body (GET, listings) waits ~40 ms for
# the client's delayed ACK (Nagle), which dominates small requests
rgw frontends = beast endpoint=127.0.0.1:${RGW_PORT} tcp_nodelay=1
rgw thread pool size = 64
rgw dns name = localhost
rgw enable usage log = false
# reclaim overwritten/deleted object data quickly (default waits 2 h; with memstore that is RAM)
rgw gc obj min wait = 30
rgw gc processor period = 30
# rgw defaults to msgr2 'secure' mode towards the mon, impossible with auth=none -> EACCES (-13) forever
ms mon client mode = crc
EOF

ts "mon mkfs"
ceph-mon --id a --mkfs --keyring /dev/null >/dev/null
ts "mon start"
ceph-mon --id a            # daemonizes, writes $DIR/run/mon.a.pid
for i in $(seq 1 120); do ceph -s --connect-timeout 5 >/dev/null 2>&1 && break; sleep 0.5; done
ceph -s --connect-timeout 5 >/dev/null || die "mon did not come up; see $DIR/log/mon.a.log"
ts "mon up"

if [ "$WITH_MGR" = 1 ]; then
  ceph-mgr --id x
  ts "mgr started"
fi

OSD_ID=$(ceph osd create)
ceph osd crush add "osd.${OSD_ID}" 1 root=default >/dev/null 2>&1
ts "osd.${OSD_ID} mkfs (${OBJECTSTORE})"
ceph-osd --id "$OSD_ID" --mkfs >/dev/null 2>&1
ceph-osd --id "$OSD_ID"
for i in $(seq 1 240); do
  ceph osd stat 2>/dev/null | grep -q '1 up' && break; sleep 0.5
done
ceph osd stat | grep -q '1 up' || die "osd did not come up; see $DIR/log/osd.${OSD_ID}.log"
ceph osd stat
ts "osd up"

# pre-create every pool RGW needs (POOL_PGS, default 8, PGs each) so no S3 request pays ~2 s for a pool creation
for pool in .rgw.root default.rgw.log default.rgw.control default.rgw.meta \
            default.rgw.buckets.index default.rgw.buckets.data default.rgw.buckets.non-ec; do
  ceph osd pool create "$pool" "${POOL_PGS:-8}" >/dev/null 2>&1
  ceph osd pool application enable "$pool" rgw >/dev/null 2>&1
done
ts "rgw pools created"

# radosgw forks; the parent returns only once the child is initialised -> bound it
timeout 120 radosgw -n client.rgw.r
for i in $(seq 1 240); do
  curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${RGW_PORT}/" 2>/dev/null | grep -q 200 && break; sleep 0.5
done
curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${RGW_PORT}/" | grep -q 200 \
  || die "radosgw does not answer on port ${RGW_PORT}; see $DIR/log/client.rgw.r.log"
curl -s -o /dev/null -w 'rgw GET / -> %{http_code}\n' "http://127.0.0.1:${RGW_PORT}/"
ts "rgw answering"

radosgw-admin user create --uid=tester --display-name="S3 tester" \
  --access-key="$ACCESS_KEY" --secret-key="$SECRET_KEY" >/dev/null
ts "user created"

cat > "$DIR/env" <<EOF
export CEPH_CONF=$CEPH_CONF
export S3_ENDPOINT=http://127.0.0.1:${RGW_PORT}
export AWS_ACCESS_KEY_ID=$ACCESS_KEY
export AWS_SECRET_ACCESS_KEY='$SECRET_KEY'
EOF
echo "endpoint=http://127.0.0.1:${RGW_PORT} access_key=$ACCESS_KEY secret_key=$SECRET_KEY"
for f in "$DIR"/run/*.pid; do
  p=$(cat "$f"); printf '%-22s pid=%-7s RSS_kB=%s\n' "$(basename "$f" .pid)" "$p" "$(ps -o rss= -p "$p")"
done
ts "ready"
