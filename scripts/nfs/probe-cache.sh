#!/usr/bin/env bash
# Measures, over kernel NFS in the guest, how long a client keeps answering from its caches, with the default
# mount options on host A and the options given for host B (default: lookupcache=positive,actimeo=0):
#   - a name this host looked up and did not find, then created by the other host: seconds until found by name
#   - a file's mtime changed by the other host: seconds until stat() shows it
#   scripts/nfs/probe-cache.sh [--vers 4.1] [--opts-b OPTS]          (boots the guest: ~1.5 min)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ "${1:-}" != --inside ]; then
  vers=4.1 opts=lookupcache=positive,actimeo=0
  while [ $# -gt 0 ]; do case $1 in --vers) vers=$2; shift 2;; --opts-b) opts=$2; shift 2;; *) shift;; esac; done
  exec "$here/run.sh" --vers "$vers" --opts-b "$opts" -- "$here/probe-cache.sh" --inside
fi
d_a=$NFS_A/probe d_b=$NFS_B/probe
mkdir -p "$d_a"
measure() { # OBSERVER(A|B) OBSERVER_DIR WRITER(A|B) WRITER_DIR NAME: negative lookup, then wait until found
  local obs=$1 od=$2 wr=$3 wd=$4 n=$5
  $AS_HOST "$obs" stat "$od/$n" >/dev/null 2>&1 || true
  $AS_HOST "$wr" touch "$wd/$n"
  $AS_HOST "$obs" bash -c 'n=0; s=$(date +%s.%N); until stat "$1" >/dev/null 2>&1; do sleep 0.05; n=$((n+1)); [ $n -gt 1400 ] && break; done; awk -v a="$(date +%s.%N)" -v b="$s" "BEGIN { printf \"%.1f\", a - b }"' _ "$od/$n"
}
mtime_lag() { # OBSERVER OBSERVER_DIR WRITER WRITER_DIR NAME
  local obs=$1 od=$2 wr=$3 wd=$4 n=$5
  $AS_HOST "$wr" touch -d '2000-01-01' "$wd/$n"
  $AS_HOST "$obs" bash -c 'stat -c %Y "$1" >/dev/null; sleep 0.2; s=$(date +%s.%N); "$2" "$3" touch "$4"; n=0
    until [ "$(stat -c %Y "$1")" -gt 1000000000 ] && [ "$(stat -c %Y "$1")" -gt 946684800 ]; do sleep 0.05; n=$((n+1)); [ $n -gt 1400 ] && break; done
    awk -v a="$(date +%s.%N)" -v b="$s" "BEGIN { printf \"%.1f\", a - b }"' _ "$od/$n" "$AS_HOST" "$wr" "$wd/$n"
}
echo "mounts: A: $(grep ' /mnt/nfs-a ' /proc/mounts | awk '{print $4}' | cut -c1-80)"
echo "        B: $(grep ' /mnt/nfs-b ' /proc/mounts | awk '{print $4}' | cut -c1-80)"
for i in 1 2; do
  echo "A (default options): found by name $(measure A "$d_a" B "$d_b" neg-a$i) s after a negative lookup"
  echo "B (probe options):   found by name $(measure B "$d_b" A "$d_a" neg-b$i) s after a negative lookup"
done
echo "A (default options): a new mtime seen by stat after $(mtime_lag A "$d_a" B "$d_b" m-a) s"
echo "B (probe options):   a new mtime seen by stat after $(mtime_lag B "$d_b" A "$d_a" m-b) s"
