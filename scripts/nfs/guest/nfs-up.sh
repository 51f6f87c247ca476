#!/usr/bin/env bash
# INSIDE the guest: start the kernel NFS server exporting /srv/encoda-share (a guest tmpfs) and mount it with
# the kernel NFS client from two network namespaces, hostA -> /mnt/nfs-a and hostB -> /mnt/nfs-b, so that
# each mount is a separate client host with its own caches.
#   env: NFS_VERS (4.1 | 4.2 | 3), OPTS_A / OPTS_B (extra mount options, e.g. actimeo=0,lookupcache=positive)
set -euo pipefail
vers=${NFS_VERS:-4.1}
export_dir=/srv/encoda-share
for m in nfsd nfs nfsv3 nfsv4 veth; do modprobe "$m"; done
ip link set lo up
mount -t nfsd nfsd /proc/fs/nfsd
mkdir -p "$export_dir" /mnt/nfs-a /mnt/nfs-b /run/rpcbind /var/lib/nfs/rpc_pipefs /var/lib/nfs/sm /var/lib/nfs/v4recovery
mount -t rpc_pipefs sunrpc /var/lib/nfs/rpc_pipefs
touch /var/lib/nfs/etab /var/lib/nfs/rmtab
chmod 1777 "$export_dir"
rpcbind -w
[ "$vers" = 3 ] && rpc.statd --no-notify
# NFSv4 lease and grace period of 10 s instead of 90 s: a fresh server refuses OPENs during its grace period.
echo 10 > /proc/fs/nfsd/nfsv4leasetime
echo 10 > /proc/fs/nfsd/nfsv4gracetime
exportfs -i -o rw,sync,no_root_squash,no_subtree_check,insecure,fsid=1 "*:$export_dir"
rpc.mountd
rpc.nfsd 8
# Two client hosts: a veth pair each, the server answers on the root namespace's end.
n=1
for h in hostA hostB; do
  ip netns add "$h"
  ip link add "v$h" type veth peer name eth0 netns "$h"
  ip addr add "198.18.$n.1/30" dev "v$h"; ip link set "v$h" up
  ip -n "$h" addr add "198.18.$n.2/30" dev eth0
  ip -n "$h" link set eth0 up; ip -n "$h" link set lo up
  n=$((n + 1))
done
opts="vers=$vers"; [ "$vers" = 3 ] && opts="$opts,nolock"
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/as-host.sh" A mount -t nfs -o "$opts${OPTS_A:+,$OPTS_A}" "198.18.1.1:$export_dir" /mnt/nfs-a
"$here/as-host.sh" B mount -t nfs -o "$opts${OPTS_B:+,$OPTS_B}" "198.18.2.1:$export_dir" /mnt/nfs-b
grep -E ' /mnt/nfs-[ab] ' /proc/mounts
