#!/usr/bin/env bash
# Boots a throwaway qemu guest (TCG: this host's KVM cannot run a stock kernel) on the Debian cloud kernel,
# with this host's / as its root through virtiofs, runs SCRIPT (an absolute path) in it as root, and exits
# with SCRIPT's status (99 when the guest did not report one, e.g. on timeout).
#   boot.sh SCRIPT        env: NFS_VM_STATE (scratch folder), VM_CPUS (2), VM_MEM (2G), VM_TIMEOUT (900 s)
set -uo pipefail
script=${1:?usage: boot.sh SCRIPT}
here=$(cd "$(dirname "$0")" && pwd)
state=${NFS_VM_STATE:-${TMPDIR:-/tmp}/encoda-nfs-vm}
mkdir -p "$state"
kver=$(ls /boot | sed -n 's/^vmlinuz-\(.*cloud-amd64\)$/\1/p' | sort -V | tail -1)
[ -n "$kver" ] || { echo "boot.sh: no cloud kernel; run scripts/nfs/setup.sh" >&2; exit 98; }
initrd=$state/initramfs-$kver.cpio.gz
if [ ! -s "$initrd" ] || [ "$here/initramfs.sh" -nt "$initrd" ]; then "$here/initramfs.sh" "$kver" "$initrd" || exit 98; fi
vfsd=$(command -v virtiofsd || ls /usr/lib/qemu/virtiofsd /usr/libexec/virtiofsd 2>/dev/null | head -1)
sock=$state/virtiofs-$$.sock console=$state/console-$$.log
"$vfsd" --socket-path="$sock" -o source=/ -o cache=auto -o sandbox=chroot >"$state/virtiofsd-$$.log" 2>&1 &
vfsd_pid=$!
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done
mem=${VM_MEM:-2G}
timeout "${VM_TIMEOUT:-900}" qemu-system-x86_64 -accel tcg,thread=multi -M q35 -smp "${VM_CPUS:-2}" -m "$mem" \
  -object memory-backend-memfd,id=mem,size="$mem",share=on -numa node,memdev=mem \
  -chardev socket,id=vfs,path="$sock" -device vhost-user-fs-pci,queue-size=1024,chardev=vfs,tag=root \
  -kernel "/boot/vmlinuz-$kver" -initrd "$initrd" \
  -append "console=ttyS0 quiet loglevel=3 panic=-1 encoda.script=$script" \
  -nographic -no-reboot -nic none -serial stdio -monitor none </dev/null 2>&1 \
  | tee "$console" | sed -u -e 's/\x1b\[[0-9;?]*[a-zA-Z]//g; s/\x1bc//g; s/\r$//' \
  | grep -av --line-buffered -E '^\[ *[0-9]+\.[0-9]+\]|^encoda-guest-exit:|SeaBIOS|iPXE|Booting from|^$'
kill "$vfsd_pid" 2>/dev/null; wait "$vfsd_pid" 2>/dev/null
rc=$(sed -n 's/^encoda-guest-exit: \([0-9]*\).*/\1/p' "$console" | tail -1)
rm -f "$sock" "$console" "$state/virtiofsd-$$.log"
exit "${rc:-99}"
