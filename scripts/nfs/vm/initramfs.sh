#!/usr/bin/env bash
# Builds the guest's initramfs: busybox plus the virtio/virtiofs modules of the cloud kernel. Its /init mounts
# this host's / (virtiofs tag "root") and runs, chrooted into it, the command named on the kernel command line.
#   initramfs.sh KERNEL_VERSION OUTPUT.cpio.gz
set -euo pipefail
kver=$1 out=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"/{bin,lib/modules,proc,sys,dev,root}
cp /bin/busybox "$work/bin/busybox"
mods="virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci fuse virtiofs"
for m in $mods; do
  f=$(find "/lib/modules/$kver" -name "$m.ko*" | head -1)
  [ -n "$f" ] || { echo "initramfs: module $m not found for $kver" >&2; exit 1; }
  case $f in
    *.xz) xz -dc "$f" > "$work/lib/modules/$m.ko";;
    *.zst) zstd -qdc "$f" > "$work/lib/modules/$m.ko";;
    *) cp "$f" "$work/lib/modules/$m.ko";;
  esac
done
cat > "$work/init" <<INIT
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc none /proc; mount -t sysfs none /sys; mount -t devtmpfs none /dev
for m in $mods; do insmod /lib/modules/\$m.ko 2>/dev/null; done
if ! mount -t virtiofs root /root; then echo "encoda-guest: cannot mount the host's root"; poweroff -f; fi
# The guest gets its own kernel filesystems and its own scratch folders; host files stay untouched there.
mount -t proc none /root/proc; mount -t sysfs none /root/sys; mount -t devtmpfs none /root/dev
mkdir -p /root/dev/pts /root/dev/shm; mount -t devpts none /root/dev/pts; mount -t tmpfs none /root/dev/shm
ln -sf /proc/self/fd /root/dev/fd; ln -sf fd/0 /root/dev/stdin; ln -sf fd/1 /root/dev/stdout; ln -sf fd/2 /root/dev/stderr
for d in /run /srv /mnt /var/lib/nfs; do mount -t tmpfs none /root\$d; done
script=\$(sed -n 's/.*encoda.script=\([^ ]*\).*/\1/p' /proc/cmdline)
chroot /root /bin/bash -c "export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root; cd /; \$script"
echo "encoda-guest-exit: \$?"
sync
poweroff -f
INIT
chmod +x "$work/init"
(cd "$work" && find . | cpio -o -H newc 2>/dev/null | gzip -1) > "$out.$$.part"
mv "$out.$$.part" "$out"
