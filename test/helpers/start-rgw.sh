#!/usr/bin/env bash
# A one-node Ceph cluster (1 mon, 1 memstore OSD, radosgw) on loopback: a real S3 endpoint for tests.
# Usage: start-rgw.sh DIR  (as root; MON_PORT, RGW_PORT, RGW_ACCESS_KEY, RGW_SECRET_KEY may be set).
# Keep DIR short: Ceph's admin sockets live under it and their paths must stay under 107 bytes.
# Every daemon writes its PID to DIR/run/<name>.pid; stop them by those PIDs. The data lives in the
# OSD's memory and is gone when it stops.
set -euo pipefail
D=${1:?usage: start-rgw.sh DIR}
MON_PORT=${MON_PORT:-6789}; RGW_PORT=${RGW_PORT:-7480}
RGW_ACCESS_KEY=${RGW_ACCESS_KEY:-TESTACCESSKEY}; RGW_SECRET_KEY=${RGW_SECRET_KEY:-TESTSECRETKEY}
waitfor() { local n=$(( $1 * 10 )); shift   # waitfor SECONDS CMD...
  until "$@" >/dev/null 2>&1; do n=$((n-1)); [ $n -gt 0 ] || { echo "timeout: $*" >&2; exit 1; }; sleep 0.1; done; }
rm -rf "$D"; mkdir -p "$D"/{mon.a,osd.0,rgw,run,log}; FSID=$(uuidgen)
# A short paxos propose interval keeps each pool/mon command from taking a second; `mon data avail`
# keeps the mon running on a nearly full disk.
cat > "$D/ceph.conf" <<CONF
[global]
fsid = $FSID
mon host = v1:127.0.0.1:$MON_PORT
public addr = 127.0.0.1
run dir = $D/run
log file = $D/log/\$name.log
pid file = $D/run/\$name.pid
keyring = $D/keyring
paxos propose interval = 0.01
mon allow pool size one = true
mon warn on pool no redundancy = false
mon warn on insecure global id reclaim allowed = false
mon warn on msgr2 not enabled = false
mon data avail warn = 1
mon data avail crit = 1
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon data = $D/\$name
osd data = $D/\$name
osd objectstore = memstore
memstore device bytes = 4294967296
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT
rgw data = $D/rgw
rgw thread pool size = 64
# SSE-KMS with a key of RGW's own (its testing backend, Ceph 16 has no SSE-S3): the key is named
# berth-test-key; plain HTTP is allowed for it on loopback.
rgw crypt s3 kms backend = testing
rgw crypt s3 kms encryption keys = berth-test-key=$(head -c 32 /dev/urandom | base64)
rgw crypt require ssl = false
CONF
export CEPH_CONF="$D/ceph.conf"; K="$D/keyring"
# cephx with every key in the mon's mkfs keyring: without auth the OSD can race its monmap and exit.
ceph-authtool --create-keyring "$K" --gen-key -n mon. --cap mon 'allow *' >/dev/null
ceph-authtool "$K" --gen-key -n client.admin --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' >/dev/null
ceph-authtool "$K" --gen-key -n osd.0 --cap mon 'allow profile osd' --cap osd 'allow *' --cap mgr 'allow profile osd' >/dev/null
ceph-authtool "$K" --gen-key -n client.rgw --cap mon 'allow rw' --cap osd 'allow rwx' --cap mgr 'allow rw' >/dev/null
monmaptool --create --fsid "$FSID" --addv a "v1:127.0.0.1:$MON_PORT" "$D/monmap" >/dev/null
ceph-mon -i a --mkfs --monmap "$D/monmap" --keyring "$K"
ceph-mon -i a && waitfor 30 ceph -s
OSD_UUID=$(uuidgen); ceph osd new "$OSD_UUID" 0 >/dev/null
ceph-osd -i 0 --mkfs --no-mon-config --osd-uuid "$OSD_UUID" >>"$D/log/osd.out" 2>&1 && ceph-osd -i 0 >>"$D/log/osd.out" 2>&1
waitfor 60 sh -c "ceph osd stat -f json | grep -q '\"num_up_osds\":1'"
radosgw -n client.rgw
waitfor 60 curl -sf -o /dev/null "http://127.0.0.1:$RGW_PORT/"
radosgw-admin user create --uid=test --display-name=test --access-key="$RGW_ACCESS_KEY" --secret="$RGW_SECRET_KEY" >/dev/null
