#!/usr/bin/env bash
# Runs CMD inside a throwaway qemu guest that has real kernel NFS: the kernel nfsd exports /srv/encoda-share,
# and two kernel NFS client hosts (network namespaces hostA and hostB) mount it at /mnt/nfs-a and /mnt/nfs-b.
# The guest's root is this host's / (shared read-write), so CMD sees the same files and paths as here and can
# leave results behind. In the guest CMD runs as root, with NFS_A, NFS_B and AS_HOST (= scripts/nfs/as-host.sh,
# run `$AS_HOST A cmd...` to act as host A). Exits with CMD's status.
#   run.sh [--vers 4.1|4.2|3] [--opts-a OPTS] [--opts-b OPTS] -- CMD ARGS...
# Needs scripts/nfs/setup.sh first. Costs ~40 s of boot and NFS setup; the guest's CPU is emulated (TCG), so run
# prebuilt binaries there and keep workloads small.
set -euo pipefail
vers=4.1 opts_a="" opts_b=""
while [ $# -gt 0 ]; do
  case $1 in
    --vers) vers=$2; shift 2;;
    --opts-a) opts_a=$2; shift 2;;
    --opts-b) opts_b=$2; shift 2;;
    --) shift; break;;
    *) break;;
  esac
done
[ $# -gt 0 ] || { echo "usage: run.sh [--vers V] [--opts-a O] [--opts-b O] -- CMD ARGS..." >&2; exit 64; }
here=$(cd "$(dirname "$0")" && pwd)
state=${NFS_VM_STATE:-${TMPDIR:-/tmp}/encoda-nfs-vm}
mkdir -p "$state"
script=$(mktemp -p "$state" guest-XXXXXX.sh)
trap 'rm -f "$script"' EXIT
{
  echo '#!/bin/bash'
  printf 'NFS_VERS=%q OPTS_A=%q OPTS_B=%q %q > /tmp/encoda-nfs-up.log 2>&1 || { cat /tmp/encoda-nfs-up.log; echo "NFS setup failed in the guest"; exit 90; }\n' \
    "$vers" "$opts_a" "$opts_b" "$here/guest/nfs-up.sh"
  printf 'export NFS_A=/mnt/nfs-a NFS_B=/mnt/nfs-b AS_HOST=%q\n' "$here/as-host.sh"
  printf 'cd %q\n' "$PWD"
  printf '%q ' "$@"; echo
  echo 'rc=$?'
  printf '%q\n' "$here/guest/nfs-down.sh"
  echo 'exit $rc'
} > "$script"
chmod +x "$script"
exec "$here/vm/boot.sh" "$script"
