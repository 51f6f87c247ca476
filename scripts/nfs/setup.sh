#!/usr/bin/env bash
# Installs what the NFS farm tests need (Debian packages): qemu (TCG) to boot a throwaway guest, the Debian
# cloud kernel (it has nfsd and the NFS client as modules), busybox for the guest's initramfs, the kernel NFS
# server and client tools, iproute2 for the two client "hosts" (network namespaces), ffmpeg for test clips and
# the framemd5 oracle, and faketime to run a worker whose own clock is wrong.
# Idempotent; safe to call from CI before scripts/test.sh.
set -euo pipefail
PACKAGES=(qemu-system-x86 linux-image-cloud-amd64 busybox-static nfs-kernel-server nfs-common rpcbind
          iproute2 util-linux cpio gzip kmod ffmpeg faketime python3)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "scripts/nfs/setup.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -o DPkg::Lock::Timeout=600 >/dev/null
  apt-get install -y -o DPkg::Lock::Timeout=600 --no-install-recommends "${missing[@]}" >/dev/null
fi
# The guest needs a kernel image and its modules, plus virtiofsd to share this host's / with it.
ls /boot/vmlinuz-*cloud-amd64 >/dev/null 2>&1 || { echo "setup: no cloud kernel in /boot" >&2; exit 1; }
VIRTIOFSD=$(command -v virtiofsd || ls /usr/lib/qemu/virtiofsd /usr/libexec/virtiofsd 2>/dev/null | head -1 || true)
[ -n "$VIRTIOFSD" ] || { echo "setup: virtiofsd not found" >&2; exit 1; }
echo "scripts/nfs/setup.sh: ready (kernel $(ls /boot/vmlinuz-*cloud-amd64 | sed 's|/boot/vmlinuz-||' | sort -V | tail -1), virtiofsd $VIRTIOFSD)"
