#!/usr/bin/env bash
# scripts/containers/clean.sh — undo scripts/containers/setup.sh on a test machine (to time a setup from scratch):
# removes all podman containers/images/storage, the packages setup.sh installs, its caches and PyPI venv.
# Destructive for every podman user on the machine; never run it on a machine you share with other podman work.
set -u
[ "$(id -u)" = 0 ] || { echo "clean.sh: run as root" >&2; exit 1; }
if command -v podman >/dev/null; then
  podman rm -af -t 0 >/dev/null 2>&1
  podman system reset -f >/dev/null 2>&1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=600 -y -qq purge podman buildah runc crun conmon catatonit debootstrap uidmap slirp4netns \
  containernetworking-plugins golang-github-containers-common golang-github-containers-image >/dev/null 2>&1
apt-get -o DPkg::Lock::Timeout=600 -y -qq autoremove --purge >/dev/null 2>&1
rm -rf /etc/containers /var/lib/containers /run/containers /run/libpod /var/cache/encoda-containers \
       /var/lib/encoda-containers /root/.docker/cli-plugins/docker-compose /var/tmp/encoda-rootfs.* /var/tmp/encoda-swift-image.* \
       /var/tmp/buildah-cache /var/tmp/buildah-cache-*
hash -r
for c in podman buildah runc debootstrap; do command -v "$c" >/dev/null && echo "clean.sh: $c is still installed"; done
echo "clean.sh: done"
