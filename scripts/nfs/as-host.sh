#!/usr/bin/env bash
# INSIDE the NFS guest: run CMD as client host A or B: in that host's network namespace and with its own
# host name (encoda-hostA / encoda-hostB), so the NFS client, the lease owner names and the worker records
# all see a separate machine. The command replaces this script (same pid), so `kill -9 $!` kills CMD itself.
#   as-host.sh A|B CMD ARGS...
set -euo pipefail
case ${1:-} in A|a) h=hostA;; B|b) h=hostB;; *) echo "usage: as-host.sh A|B CMD..." >&2; exit 64;; esac
shift
exec nsenter --net="/run/netns/$h" unshare --uts /bin/sh -c 'hostname "encoda-$0"; exec "$@"' "$h" "$@"
