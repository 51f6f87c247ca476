#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine for encoda: the libav/SVT-AV1/x264 libraries and tools, then builds.
# Usage: scripts/setup.sh [--release | --deps-only]     (run as root, or with sudo available)
#   --deps-only: install the missing packages and stop (scripts/install.sh uses this before its own build).
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
PKGS="libavformat-dev libavcodec-dev libavutil-dev libswscale-dev libswresample-dev libsvtav1enc-dev libx264-dev zlib1g-dev pkg-config ffmpeg"
# strace: CoordinationTests and bench/coordination.sh count the protocol's system calls with it.
PKGS="$PKGS strace"
missing=""
for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  echo "setup: installing$missing"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
# The timeline tests build .otio files with OpenTimelineIO's Python package, from PyPI.
if ! python3 -c "import opentimelineio" 2>/dev/null; then
  echo "setup: installing opentimelineio (pip)"
  python3 -m pip install -q opentimelineio 2>/dev/null || python3 -m pip install -q --break-system-packages opentimelineio \
    || echo "setup: could not install opentimelineio; the timeline tests need it (pip install opentimelineio)" >&2
fi
# The SSIMULACRA 2 validation compares with the reference implementation in PyPI's ssimulacra2 package; VMAF needs an
# ffmpeg built with libvmaf, and the imageio-ffmpeg wheel carries one (Debian's has none).
for mod in ssimulacra2:ssimulacra2 imageio_ffmpeg:imageio-ffmpeg; do
  if ! python3 -c "import ${mod%%:*}" 2>/dev/null; then
    echo "setup: installing ${mod#*:} (pip)"
    python3 -m pip install -q "${mod#*:}" 2>/dev/null || python3 -m pip install -q --break-system-packages "${mod#*:}" \
      || echo "setup: could not install ${mod#*:}; the metric tests need it (pip install ${mod#*:})" >&2
  fi
done
[ "${1:-}" = "--deps-only" ] && exit 0
export PATH=/opt/swift/usr/bin:$PATH
command -v swift >/dev/null || { echo "setup: swift not found; install Swift 6.x (https://swift.org/install) and put it on PATH" >&2; exit 1; }
if [ "${1:-}" = "--release" ]; then swift build -c release; echo "setup: built .build/release/encoda"
else swift build; echo "setup: built .build/debug/encoda"; fi
