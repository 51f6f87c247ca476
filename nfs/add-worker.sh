#!/bin/sh
# nfs/add-worker.sh — start encoda worker containers on this machine that join the job in a shared folder.
# They can be added at any moment of a job; each takes unclaimed chunks until the job is done, then exits 0.
#
#   nfs/add-worker.sh SHARE [COUNT] [WORKER OPTIONS...]     e.g.  nfs/add-worker.sh /mnt/encoda 2 --threads 4
#
# SHARE is the shared folder as this machine mounts it; the job's TMP is SHARE/tmp (ENCODA_TMP to change).
# The containers run as the owner of SHARE (uid:gid), without network, and print their ids.
# Environment: ENCODA_IMAGE (default localhost/encoda), ENCODA_ENGINE (default podman if installed, else docker),
# ENCODA_TMP (default tmp).
set -eu
[ $# -ge 1 ] || { echo "usage: $0 SHARE [COUNT] [WORKER OPTIONS...]" >&2; exit 2; }
share=$1; shift
count=1
case ${1:-} in ''|-*) ;; *) count=$1; shift ;; esac
case $count in ''|*[!0-9]*) echo "$0: COUNT must be a number, got '$count'" >&2; exit 2 ;; esac
tmp=${ENCODA_TMP:-tmp}
image=${ENCODA_IMAGE:-localhost/encoda}
engine=${ENCODA_ENGINE:-$(command -v podman >/dev/null 2>&1 && echo podman || echo docker)}
[ -d "$share" ] || { echo "$0: $share is not a folder; mount the share first" >&2; exit 1; }
[ -f "$share/$tmp/job.json" ] || { echo "$0: no job in $share/$tmp yet (no job.json); start the coordinator first" >&2; exit 1; }
owner=$(stat -c %u:%g "$share")
i=0
while [ "$i" -lt "$count" ]; do
  "$engine" run -d --init --network none --user "$owner" --label org.encoda.role=worker \
    -v "$share:/share" "$image" worker "/share/$tmp" "$@"
  i=$((i + 1))
done
